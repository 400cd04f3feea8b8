"""Test helpers for the pipeline: a worker's loop stepped by hand (streams/processor.py `run`), and the pipeline as
real `cli.py` processes."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from store import posts as post_store
from store.keys import Keys

ROOT = Path(__file__).resolve().parent.parent


def drain(proc, r, keys: Keys, consumer: str, now: float | None = None) -> int:
    """Hand every entry waiting in every partition to `proc`, batch by batch; returns the entries handed."""
    n = 0
    for part in keys.parts():
        while entries := post_store.read_batch(r, part, consumer, 500, None):
            proc.handle(entries, now=now, keys=part)
            n += len(entries)
    return n


def until(check, timeout: float, what: str, procs=()):
    """Poll `check` until it returns something true (returned), failing if a process in `procs` exits first or the
    deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            assert p.poll() is None, f"{p.args[2:]} exited with {p.returncode} while waiting for {what}"
        if value := check():
            return value
        time.sleep(0.05)  # poll interval, not a wait for anything in particular
    raise AssertionError(f"{what} not reached within {timeout}s")


def event_file(directory: Path, partitions: int) -> Path:
    """The simulated event's file with `partitions: K` (config/superbowl.yaml leaves it at its default, 1)."""
    event = directory / "event.yaml"
    event.write_text((ROOT / "config" / "superbowl.yaml").read_text() + f"\npartitions: {partitions}\n")
    return event


@contextlib.contextmanager
def cli_processes(env: dict, log_dir: Path) -> Iterator:
    """`start(*args)` runs `cli.py *args` as a real process with `env`, its output in `log_dir` (`p.log`); every
    process still running is killed on exit."""
    procs: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        log = open(log_dir / f"{'-'.join(args)}-{len(procs)}.log", "wb")  # noqa: SIM115 - closed with the process
        p = subprocess.Popen([sys.executable, "cli.py", *args], cwd=ROOT, env=env, stdout=log, stderr=log)
        p.log = Path(log.name)
        procs.append(p)
        return p

    try:
        yield start
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
