"""`up`: start the embedded server (unless REDIS_URL), every enabled source, the workers, the aggregator and
the web app as child processes; keep them running; stop them all on Ctrl-C.

Supervision (docs/reliability.md): a child that crashes is restarted after a back-off (1 s doubling to 30 s,
back to 1 s once it has run for `STABLE_S`); it is never given up on. A child that exits 0 is done (a source
with no credentials). A child that exits 2 has a configuration error that a restart cannot fix: `up` stops
everything and exits 2 with the child's message. The embedded server is restarted as soon as it dies, on the
same port, password and data dir (its AOF is replayed), and children waiting on it are started at once.
"""

from __future__ import annotations

import collections
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

import redis

from config.settings import Settings
from store.errors import StoreUnavailable
from store.server import EmbeddedServer

logger = logging.getLogger(__name__)

RESTART_FLOOR_S = 1.0
RESTART_CEILING_S = 30.0
STABLE_S = 10.0  # a child that ran this long before crashing starts again from the floor
SERVER_CEILING_S = 5.0  # the embedded server is retried at least this often while it cannot start
WATCH_S = 0.25
OUTAGE_GRACE_S = 5.0  # a child that crashes this soon after the embedded server came back is restarted at once
CONFIG_ERROR = 2  # the exit code every command uses for "your configuration is wrong" (cli.py)
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
    started_at: float = 0.0
    next_start: float = 0.0
    done: bool = False  # exited cleanly (e.g. a source with no credentials): leave it be
    backoff: float = RESTART_FLOOR_S
    last_lines: collections.deque = field(default_factory=lambda: collections.deque(maxlen=5))
    forwarder: threading.Thread | None = None


class ChildConfigError(Exception):
    """A child exited with CONFIG_ERROR: restarting it would fail the same way."""


class Supervisor:
    def __init__(self, settings: Settings, root: Path):
        self.settings, self.root = settings, root
        self.server: EmbeddedServer | None = None
        self.server_backoff, self.server_retry_at = RESTART_FLOOR_S, 0.0
        self.server_back_at = -OUTAGE_GRACE_S
        self.children: list[Child] = []
        self.stop = threading.Event()

    def plan(self) -> list[Child]:
        sources = self.settings.event.sources
        children = []
        for name, module in SOURCE_MODULES.items():
            if getattr(sources, name).enabled and importlib.util.find_spec(module) is not None:
                children.append(Child(f"source:{name}", ["collect", name]))
        children += [Child(f"worker-{i + 1}", ["process"]) for i in range(self.settings.workers)]
        # Several aggregators stand by for one another: one holds the lease and writes (streams/aggregator.py lead).
        children += [
            Child("aggregator" + (f"-{i + 1}" if i else ""), ["aggregate"]) for i in range(self.settings.aggregators)
        ]
        # Several web processes share the port (SO_REUSEPORT: the kernel spreads new connections over the live
        # ones), so one dying costs a screen one failed request while `up` restarts it (webserver.py).
        web = self.settings.web_processes
        serve = ["serve", "--reuse-port"] if web > 1 else ["serve"]
        children += [Child("web" + (f"-{i + 1}" if i else ""), serve) for i in range(web)]
        if self.settings.push_port:  # screens get each snapshot pushed; they poll while it is down
            children.append(Child("push", ["push"]))
        children.append(Child("archiver", ["archive"]))  # the archive's one writer (archive/writer.py)
        if self.settings.event.publishing.mode == "live":  # reconciles interrupted publishes, polls outcomes
            children.append(Child("watcher", ["watch"]))
        return children

    def run(self) -> int:
        """Runs until Ctrl-C (returns 0) or a child's configuration error (returns CONFIG_ERROR)."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop.set())
        env = dict(os.environ)
        if not self.settings.get("REDIS_URL"):
            self.server = EmbeddedServer(self.settings.var_dir / "redis").start()
            env["REDIS_URL"] = self.server.url  # children use it; it is never printed
        try:
            first_link = self._first_admin(env.get("REDIS_URL") or self.settings.get("REDIS_URL"))
            self.children = self.plan()
            for child in self.children:
                self._start(child, env)
            self._banner(first_link)
            while not self.stop.wait(WATCH_S):
                self._watch_server()
                self._watch(env)
        except ChildConfigError as exc:
            logger.error("%s", exc)
            sys.stderr.write(f"warroom: {exc}\n")
            return CONFIG_ERROR
        finally:
            self._shutdown()
        return 0

    def _first_admin(self, redis_url: str) -> str | None:
        """On a store with no users: create `admin` (admin + strategist) and return its one-time sign-in link."""
        from auth.admin import ensure_first_admin
        from auth.web import base_url
        from store.keys import Keys
        from store.server import connect

        try:
            r = connect(redis_url)
            try:
                return ensure_first_admin(r, Keys.of(self.settings.event), base_url(self.settings))
            finally:
                r.close()
        except (redis.RedisError, StoreUnavailable) as exc:
            logger.error("could not check for a first admin (%s); later: cli.py users add NAME --role admin", exc)
            return None

    def _banner(self, first_link: str | None = None) -> None:
        url = f"http://{self.settings.get('HOST')}:{self.settings.port}"
        redis_where = f"embedded Valkey (data in {self.server.data_dir})" if self.server else "REDIS_URL"
        port = self.settings.push_port
        push = f"Screens get snapshots pushed on port {port}. " if port else "Screens poll (push is off). "
        first = ""
        if first_link:  # printed on the first start only, to the terminal (never to a log)
            first = (
                f"  First start: sign in as admin with this one-time link (24 h; choose a password):\n"
                f"    {first_link}\n  Lost it? cli.py users reset admin prints a new one.\n"
            )
        sys.stdout.write(
            f"\n  War Room is up: {url}  (sign in; wall screens use kiosk links)\n"
            f"  wall: {url}/wall   executives: {url}/exec   admin: {url}/admin\n{first}"
            f"  Redis: {redis_where}. {push}Ctrl-C stops everything.\n\n"
        )
        sys.stdout.flush()

    def command(self, child: Child) -> list[str]:
        return [sys.executable, str(self.root / "cli.py"), *child.args]

    def _start(self, child: Child, env: dict) -> None:
        child.proc = subprocess.Popen(self.command(child), env=env, cwd=self.root, stderr=subprocess.PIPE)
        child.started_at = time.monotonic()
        child.last_lines.clear()
        child.forwarder = threading.Thread(target=_forward, args=(child.proc, child.last_lines), daemon=True)
        child.forwarder.start()
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
            if code == CONFIG_ERROR:
                child.forwarder.join(5)  # its last words
                message = next((line for line in reversed(child.last_lines) if line), "see its log above")
                child.proc = None
                raise ChildConfigError(f"{child.name} stopped with a configuration error: {message}")
            stable = now - child.started_at >= STABLE_S
            if stable:
                child.backoff = RESTART_FLOOR_S  # it had been running fine: this is a new failure
            child.restarts += 1
            outage = now - self.server_back_at < OUTAGE_GRACE_S  # it died of the server's restart, now over
            # A first failure after a good run restarts at once (the room is down until it is back); a child that
            # keeps failing waits longer each time.
            immediate = outage or stable
            child.next_start = now if immediate else now + child.backoff
            logger.warning(
                "%s exited with %s (restart %d); restarting in %.0fs",
                child.name,
                code,
                child.restarts,
                0 if immediate else child.backoff,
            )
            if not outage:
                child.backoff = min(child.backoff * 2, RESTART_CEILING_S)
            child.proc = None

    def _watch_server(self) -> None:
        """Restart the embedded server the moment it dies; then start the children that were waiting for it."""
        if self.server is None or self.server.alive() or time.monotonic() < self.server_retry_at:
            return
        code = self.server.process.poll() if self.server.process else None
        logger.warning("embedded Valkey exited with %s; restarting it on port %s", code, self.server.port)
        began = time.monotonic()
        try:
            self.server.restart()
        except StoreUnavailable as exc:
            self.server_retry_at = time.monotonic() + self.server_backoff
            logger.error("embedded Valkey did not start (%s); retrying in %.0fs", exc, self.server_backoff)
            self.server_backoff = min(self.server_backoff * 2, SERVER_CEILING_S)
            return
        self.server_backoff, self.server_back_at = RESTART_FLOOR_S, time.monotonic()
        logger.info("embedded Valkey is back after %.1fs (AOF replayed)", time.monotonic() - began)
        now = time.monotonic()
        for child in self.children:
            if child.proc is None and not child.done:  # crashed while the server was down: no need to wait more
                child.next_start, child.backoff = now, RESTART_FLOOR_S

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


def _forward(proc: subprocess.Popen, last_lines: collections.deque) -> None:
    """Copy a child's stderr to ours line by line, keeping its last lines for a configuration error's message."""
    out = sys.stderr.buffer
    for line in iter(proc.stderr.readline, b""):
        try:
            out.write(line)
            out.flush()
        except (OSError, ValueError):
            pass
        last_lines.append(line.decode(errors="replace").strip())
