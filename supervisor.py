"""`up`: start the embedded server (unless REDIS_URL), every enabled source, the workers, the aggregator and
the web app as child processes; restart a crashed child with back-off; stop them all on Ctrl-C."""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import Settings
from store.server import EmbeddedServer

logger = logging.getLogger(__name__)

RESTART_CEILING_S = 30.0
SOURCE_MODULES = {
    "simulator": "streams.sources.simulator",
    "x": "streams.sources.x",
    "bluesky": "streams.sources.bluesky",
    "mastodon": "streams.sources.mastodon",
    "rss": "streams.sources.rss",
    "reddit": "streams.sources.reddit",
}


@dataclass
class Child:
    name: str
    args: list[str]
    proc: subprocess.Popen | None = None
    restarts: int = 0
    next_start: float = 0.0
    done: bool = False  # exited cleanly (e.g. a source with no credentials): leave it be
    backoff: float = field(default=1.0)


class Supervisor:
    def __init__(self, settings: Settings, root: Path):
        self.settings, self.root = settings, root
        self.server: EmbeddedServer | None = None
        self.children: list[Child] = []
        self.stop = threading.Event()

    def plan(self) -> list[Child]:
        sources = self.settings.event.sources
        children = []
        for name, module in SOURCE_MODULES.items():
            if getattr(sources, name).enabled and importlib.util.find_spec(module) is not None:
                children.append(Child(f"source:{name}", ["collect", name]))
        children += [Child(f"worker-{i + 1}", ["process"]) for i in range(self.settings.workers)]
        children += [Child("aggregator", ["aggregate"]), Child("web", ["serve"])]
        return children

    def run(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop.set())
        env = dict(os.environ)
        if not self.settings.get("REDIS_URL"):
            self.server = EmbeddedServer(self.settings.var_dir / "redis").start()
            env["REDIS_URL"] = self.server.url  # children use it; it is never printed
        try:
            self.children = self.plan()
            for child in self.children:
                self._start(child, env)
            self._banner()
            while not self.stop.wait(0.5):
                self._watch(env)
        finally:
            self._shutdown()

    def _banner(self) -> None:
        url = f"http://{self.settings.get('HOST')}:{self.settings.port}"
        redis_where = f"embedded Valkey (data in {self.server.data_dir})" if self.server else "REDIS_URL"
        sys.stdout.write(
            f"\n  War Room is up: {url}\n  wall: {url}/wall   executives: {url}/exec\n"
            f"  Redis: {redis_where}. Ctrl-C stops everything.\n\n"
        )
        sys.stdout.flush()

    def _start(self, child: Child, env: dict) -> None:
        child.proc = subprocess.Popen([sys.executable, str(self.root / "cli.py"), *child.args], env=env, cwd=self.root)
        logger.info("started %s (pid %s)", child.name, child.proc.pid)

    def _watch(self, env: dict) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.done or child.proc is None:
                if child.proc is None and not child.done and now >= child.next_start:
                    self._start(child, env)
                continue
            code = child.proc.poll()
            if code is None:
                continue
            if code == 0:
                logger.info("%s finished", child.name)
                child.done = True
                continue
            child.restarts += 1
            child.next_start = now + child.backoff
            logger.warning(
                "%s exited with %s (restart %d); restarting in %.0fs", child.name, code, child.restarts, child.backoff
            )
            child.backoff = min(child.backoff * 2, RESTART_CEILING_S)
            child.proc = None

    def _shutdown(self) -> None:
        logger.info("stopping %d processes", len(self.children))
        live = [c.proc for c in self.children if c.proc and c.proc.poll() is None]
        for proc in live:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in live:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.server:
            self.server.stop()
        logger.info("stopped")
