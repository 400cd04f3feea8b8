"""What every source shares: its health state (pure) and the sink it writes posts and health to."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterable

import redis

from model.post import Post
from store import health as health_store
from store import posts as post_store
from store.keys import SOURCE_GAPS_MAX, Keys

logger = logging.getLogger(__name__)

CONNECTED, RECONNECTING, FAILING, NOT_CONFIGURED, STOPPED = (
    "connected",
    "reconnecting",
    "failing",
    "not configured",
    "stopped",
)


class Health:
    """A source's honest state: connection, rate, last post, rate limit and the gaps it lost."""

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

    def set_state(self, state: str, now: float, detail: str = "") -> None:
        was_up = self.state == CONNECTED
        if was_up and state in (RECONNECTING, FAILING):
            self.gaps.append([now, None])  # an outage of ours starts: the chart shades it
        if state == CONNECTED and self.gaps and self.gaps[-1][1] is None:
            self.gaps[-1][1] = now
        self.state, self.detail = state, detail

    def count(self, n: int, now: float) -> None:
        self.total += n
        self.last_post_at = now
        self._recent.append((now, n))

    def rate(self, now: float, window: float = 10.0) -> float:
        while self._recent and self._recent[0][0] < now - window:
            self._recent.popleft()
        return sum(n for _, n in self._recent) / window

    def as_dict(self, now: float) -> dict:
        return {
            "name": self.name,
            "state": self.state,
            "detail": self.detail,
            "posts": self.total,
            "rate_per_s": round(self.rate(now), 2),
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
