"""Start the real product (`cli.py up`) for browser tests, and drive headless Chromium."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import yaml
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-ingest-token-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def event_file(tmp: Path, **simulator) -> Path:
    """The demo event with only the simulator on (no outside network in tests)."""
    event = yaml.safe_load((ROOT / "config" / "superbowl.yaml").read_text())
    for name in ("x", "bluesky", "mastodon", "rss", "reddit"):
        event["sources"][name]["enabled"] = False
    event["sources"]["simulator"].update(simulator)
    path = tmp / "event.yaml"
    path.write_text(yaml.safe_dump(event))
    return path


class Stack:
    """`cli.py up` in its own session, on a free port, with its data under `var`."""

    def __init__(self, var: Path, event: Path, workers: int = 1):
        self.var, self.event, self.workers = var, event, workers
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Stack:
        env = {
            **os.environ,
            "WARROOM_VAR": str(self.var),
            "WARROOM_EVENT": str(self.event),
            "PORT": str(self.port),
            "WARROOM_WORKERS": str(self.workers),
            "WARROOM_INGEST_TOKEN": TOKEN,
        }
        env.pop("REDIS_URL", None)
        self.log = open(self.var.parent / f"up-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "cli.py"), "up"],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.get("/api/health")["status"] == "ok":
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"`up` exited with {self.proc.returncode}; see {self.log.name}")
            time.sleep(0.3)
        raise RuntimeError(f"stack not healthy within {timeout}s; see {self.log.name}")

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=5) as resp:
            return json.loads(resp.read())

    def post(self, path: str, body, token: str = TOKEN) -> tuple[int, dict]:
        req = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def processes(self) -> list[psutil.Process]:
        """`up`, its children and the embedded server (which runs in a session of its own)."""
        procs = [psutil.Process(self.proc.pid)] + psutil.Process(self.proc.pid).children(recursive=True)
        info = self.var / "redis" / "server.json"
        if info.exists():
            procs.append(psutil.Process(json.loads(info.read_text())["pid"]))
        return procs

    def child(self, command: str) -> psutil.Process:
        return next(p for p in psutil.Process(self.proc.pid).children() if command in p.cmdline())

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.returncode if self.proc else None

    def kill9(self) -> None:
        """kill -9 every process of the stack, the Redis server included."""
        for p in self.processes():
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self.proc.wait(10)


def browser(width: int = 1920, height: int = 1080) -> webdriver.Chrome:
    options = Options()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(width, height)
    return driver


def wait(driver, timeout: float = 30) -> WebDriverWait:
    return WebDriverWait(driver, timeout, poll_frequency=0.1)


def count(driver, css: str) -> int:
    return driver.execute_script("return document.querySelectorAll(arguments[0]).length", css)


def text(driver, css: str) -> str:
    """innerText read in one step: live panels re-render, so element handles go stale."""
    return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", css)
