"""Reconnect pacing every source shares: linear and exponential back-off, and stop-aware sleeps."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays between reconnects: `linear` adds `step` per failure, otherwise doubles from `start`.

    `scale` shrinks every delay (tests run the real schedule at 1/100 speed); `reset()` after a
    successful connect. X documents its schedule this way: network errors linear 250 ms steps up to
    16 s, HTTP errors exponential from 5 s up to 320 s, 429 exponential from 60 s.
    """

    start: float
    maximum: float
    linear: bool = False
    step: float = 0.0
    scale: float = 1.0
    _next: float | None = field(default=None, repr=False)

    def next(self) -> float:
        """The delay to wait now (seconds, already scaled), advancing the schedule."""
        current = self.start if self._next is None else self._next
        self._next = min(self.maximum, current + self.step if self.linear else current * 2 or self.step)
        return current * self.scale

    def reset(self) -> None:
        self._next = None

    @classmethod
    def network(cls, scale: float = 1.0) -> Backoff:
        return cls(start=0.25, maximum=16.0, linear=True, step=0.25, scale=scale)

    @classmethod
    def http(cls, scale: float = 1.0) -> Backoff:
        return cls(start=5.0, maximum=320.0, scale=scale)

    @classmethod
    def rate_limited(cls, scale: float = 1.0) -> Backoff:
        return cls(start=60.0, maximum=960.0, scale=scale)


def sleep(stop: threading.Event, seconds: float) -> bool:
    """Wait up to `seconds`; True if `stop` was set meanwhile (the caller should return)."""
    return stop.wait(max(0.0, seconds))


def shutdown_response(resp) -> None:
    """Unblock a thread reading a streamed requests.Response by shutting its socket down."""
    raw = getattr(resp, "raw", None)
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is None:
        try:
            sock = raw._fp.fp.raw._sock  # http.client keeps the socket here once the pool let go
        except AttributeError:
            sock = None
    try:
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        else:
            resp.close()
    except (OSError, AttributeError):
        pass


@contextmanager
def closing_on_stop(stop: threading.Event, resp, poll_s: float = 0.2):
    """While the block runs, a watcher thread cuts `resp` as soon as `stop` is set."""
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if stop.wait(poll_s):
                shutdown_response(resp)
                return

    threading.Thread(target=watch, name="stop-watch", daemon=True).start()
    try:
        yield resp
    finally:
        done.set()


def until_stopped(stop: threading.Event, attempt: Callable[[], float | None]) -> None:
    """The loop of every source: call `attempt` until `stop` is set.

    Each attempt (one connection, one poll round) returns how long to wait before the next one (a back-off
    delay or the poll interval; the wait is cut short by `stop`), or None to end now.
    """
    while not stop.is_set():
        delay = attempt()
        if delay is None or sleep(stop, delay):
            return
