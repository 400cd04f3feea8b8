"""What every source shares: its health state (pure), the sink it writes posts and health to, the opening of
its run() (not configured / disabled / stopped) and the memory of the post ids it emitted lately."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import redis

from model.post import Post
from store import health as health_store
from store import posts as post_store
from store.keys import SOURCE_GAPS_MAX, Keys

if TYPE_CHECKING:
    from config.settings import Settings

logger = logging.getLogger(__name__)

CONNECTED, RECONNECTING, FAILING, NOT_CONFIGURED, STOPPED = (
    "connected",
    "reconnecting",
    "failing",
    "not configured",
    "stopped",
)


class Health:
    """A source's honest state: connection, rate, last post, rate limit and the gaps it lost.

    Thread-safe: the webhook's health is updated by every web thread at once.
    """

    def __init__(self, name: str):
        self.name = name
        self.state = STOPPED
        self.detail = ""
        self.total = 0
        self.last_post_at: float | None = None
        self.rate_limit: dict | None = None
        self.gaps: deque[list[float | None]] = deque(maxlen=SOURCE_GAPS_MAX)
        self._recent: deque[tuple[float, int]] = deque()
        self.extra: dict = {}  # source-specific facts, e.g. the simulator's game clock
        self._lock = threading.Lock()

    def set_state(self, state: str, now: float, detail: str = "") -> None:
        with self._lock:
            was_up = self.state == CONNECTED
            if was_up and state in (RECONNECTING, FAILING):
                self.gaps.append([now, None])  # an outage of ours starts: the chart shades it
            if state == CONNECTED and self.gaps and self.gaps[-1][1] is None:
                self.gaps[-1][1] = now
            self.state, self.detail = state, detail

    def count(self, n: int, now: float) -> None:
        with self._lock:
            self.total += n
            self.last_post_at = now
            self._recent.append((now, n))

    def rate(self, now: float, window: float = 10.0) -> float:
        with self._lock:
            return self._rate(now, window)

    def _rate(self, now: float, window: float) -> float:
        while self._recent and self._recent[0][0] < now - window:
            self._recent.popleft()
        return sum(n for _, n in self._recent) / window

    def as_dict(self, now: float) -> dict:
        with self._lock:
            return {
                "name": self.name,
                "state": self.state,
                "detail": self.detail,
                "posts": self.total,
                "rate_per_s": round(self._rate(now, 10.0), 2),
                "last_post_at": self.last_post_at,
                "rate_limit": self.rate_limit,
                "gaps": [list(g) for g in self.gaps],
                "updated_at": now,
                **self.extra,
            }


class Sink:
    """Where a source puts its output: posts into the stream, bad payloads into dead letters, health into Redis."""

    def __init__(self, r: redis.Redis, keys: Keys, name: str, health_every_s: float = 1.0):
        self.r, self.keys, self.name = r, keys, name
        self.health = Health(name)
        self._every = health_every_s
        self._last_flush = 0.0

    @classmethod
    def open(
        cls,
        settings: Settings,
        r: redis.Redis,
        keys: Keys,
        name: str,
        *,
        needs: Sequence[str] = (),
        configured: bool = True,
        missing: str = "",
        enabled: bool | None = None,
        disabled: str = "",
    ) -> Sink | None:
        """The opening every source's run() shares: its sink, or None when it has nothing to do (state written).

        NOT_CONFIGURED when a setting in `needs` (credentials, endpoint) is empty or `configured` is false, with
        `missing` as the detail (default: "set A and B"); then STOPPED when `enabled` (default: the event's
        `sources.<name>.enabled`) is false, with `disabled` as the detail.
        """
        sink = cls(r, keys, name)
        absent = [n for n in needs if not settings.get(n)]
        if absent or not configured:
            sink.state(NOT_CONFIGURED, missing or "set " + " and ".join(absent))
            return None
        if not (getattr(settings.event.sources, name).enabled if enabled is None else enabled):
            sink.state(STOPPED, disabled or f"disabled in the event file (sources.{name}.enabled)")
            return None
        return sink

    @contextmanager
    def running(self, detail: str = "") -> Iterator[Sink]:
        """The body of a source's run(): whichever way it ends (stop, return, exception), the source is STOPPED."""
        try:
            yield self
        finally:
            self.state(STOPPED, detail)

    def emit(self, posts: Iterable[Post]) -> int:
        posts = list(posts)
        if posts:
            post_store.append(self.r, self.keys, posts)
            self.health.count(len(posts), time.time())
        self.flush()
        return len(posts)

    def invalid(self, payload: bytes | str | dict, reason: str) -> None:
        post_store.dead_letter(self.r, self.keys, payload, reason, self.name)

    def state(self, state: str, detail: str = "") -> None:
        if state != self.health.state:
            logger.info("source %s: %s %s", self.name, state, detail)
        self.health.set_state(state, time.time(), detail)
        self.flush(force=True)

    def flush(self, force: bool = False) -> None:
        now = time.time()
        if force or now - self._last_flush >= self._every:
            health_store.write(self.r, self.keys, self.name, self.health.as_dict(now))
            self._last_flush = now


class Recent:
    """The last `size` keys (post ids, fullnames) seen, oldest forgotten first.

    So a post arriving twice (on two timelines, two search rules, a rebuilt listing) is emitted once,
    without the memory growing for the length of the event.
    """

    def __init__(self, size: int = 20_000):
        self.size = size
        self._keys: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: str) -> bool:
        """Remember `key`; False if it was already remembered."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self.size:
            self._keys.popitem(last=False)
        return True

    @property
    def newest(self) -> str | None:
        """The key remembered last (e.g. where a listing continues after a reconnect)."""
        return next(reversed(self._keys), None)

    def __len__(self) -> int:
        return len(self._keys)
