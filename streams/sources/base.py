"""What every source shares: its health state (pure), the sink it writes posts and health to, the opening of
its run() (not configured / disabled / stopped) and the memory of the post ids it emitted lately."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

import redis

from model.post import Post
from store import health as health_store
from store import posts as post_store
from store.keys import SOURCE_GAPS_MAX, Keys
from streams.sources.backoff import Backoff

if TYPE_CHECKING:
    from config.settings import Backlog, Settings

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


STREAM_BUFFER = 20_000  # posts a streaming source holds while ingest is held back (then it drops, counted)
PRESSURE_CHECK_S = 0.25  # how often the backlog's size is asked (one round trip), however many posts pass
# The server is away (restarting, loading its AOF), or on Redis Cluster a node is: ClusterError is CLUSTERDOWN and
# MASTERDOWN (a primary died: with no replica to promote, every node refuses every command until it is back) and a
# command whose redirections ran out mid-resharding; TryAgainError, a multi-key command during a slot migration;
# SlotNotCoveredError, a slot missing from the client's map. A client that cannot rebuild its slot map at all raises
# store.server.ClusterUnavailable, a ConnectionError. Any other RedisClusterException (keys of one command or
# transaction in different slots, a command the cluster client cannot route) is a bug, not an outage: it still raises.
REDIS_ERRORS = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.exceptions.ClusterError,
    redis.exceptions.TryAgainError,
    redis.exceptions.SlotNotCoveredError,
)


def redis_backoff() -> Backoff:
    """Waits while the local Redis is unreachable: reconnecting is cheap, so never more than 1 s between tries."""
    return Backoff(start=0.1, maximum=1.0)


def over_budget(entries: int, used_bytes: int, budget: Backlog) -> str | None:
    """Why the backlog is over its budget, or None."""
    mb = used_bytes / 1e6
    if entries >= budget.max_entries:
        return f"the backlog is over its budget: {entries} posts waiting for the workers (at most {budget.max_entries})"
    if mb >= budget.max_memory_mb:
        return (
            f"the backlog is over its budget: {mb:.0f} MB waiting for the workers (at most {budget.max_memory_mb:g} MB)"
        )
    return None


class Pressure:
    """Whether ingest must wait: the posts backlog measured against the event's `backlog` budget.

    Asked at most every `every_s` (one round trip), so checking it per post costs nothing. Thread-safe.
    """

    def __init__(self, r: redis.Redis, keys: Keys, budget: Backlog, every_s: float = PRESSURE_CHECK_S):
        self.r, self.keys, self.budget, self.every_s = r, keys, budget, every_s
        self._reason: str | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def over(self) -> str | None:
        """Why ingest must wait now, or None. Raises redis errors (the caller decides what waiting means)."""
        if time.monotonic() - self._checked < self.every_s:
            return self._reason
        with self._lock:
            if time.monotonic() - self._checked >= self.every_s:
                entries, used = post_store.backlog(self.r, self.keys)
                reason = over_budget(entries, used, self.budget)
                if (reason is None) != (self._reason is None):
                    logger.warning("ingest held back: %s", reason) if reason else logger.info("ingest resumes")
                self._reason, self._checked = reason, time.monotonic()
        return self._reason


class Sink:
    """Where a source puts its output: posts into the stream, bad payloads into dead letters, health into Redis.

    With a `pressure` (the backlog budget), `emit` never lets a post go: a polling source's emit waits while
    the backlog is over budget or Redis is unreachable (so the source slows down); a streaming source's sink
    (`buffer` > 0) keeps up to `buffer` posts in memory meanwhile and returns at once, so the stream is still
    read; only when that buffer is full are the oldest posts dropped, and they are counted (`posts.dropped`).
    """

    def __init__(
        self,
        r: redis.Redis,
        keys: Keys,
        name: str,
        health_every_s: float = 1.0,
        *,
        pressure: Pressure | None = None,
        buffer: int = 0,
        stop: threading.Event | None = None,
    ):
        self.r, self.keys, self.name = r, keys, name
        self.health = Health(name)
        self._every = health_every_s
        self._last_flush = 0.0
        self.pressure, self.buffer_max, self.stop = pressure, buffer, stop or threading.Event()
        self._held: deque[Post] = deque()
        self._drops = 0  # dropped and not yet counted in Redis

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
        stop: threading.Event | None = None,
        buffer: int = 0,
    ) -> Sink | None:
        """The opening every source's run() shares: its sink, or None when it has nothing to do (state written).

        NOT_CONFIGURED when a setting in `needs` (credentials, endpoint) is empty or `configured` is false, with
        `missing` as the detail (default: "set A and B"); then STOPPED when `enabled` (default: the event's
        `sources.<name>.enabled`) is false, with `disabled` as the detail. The sink holds ingest back by the
        event's backlog budget: waiting in `emit` (until `stop`), or, for a streaming source, in a `buffer`.
        """
        sink = cls(r, keys, name, pressure=Pressure(r, keys, settings.event.backlog), buffer=buffer, stop=stop)
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
            if self._held:  # stopping: what the buffer holds goes in, over the budget rather than lost
                self._drain(force=True)
                if self._held:
                    logger.warning("source %s: %d held posts lost at stop (Redis unavailable)", self.name, self.held)
            self.state(STOPPED, detail)

    def emit(self, posts: Iterable[Post]) -> int:
        """Put posts in the stream; returns how many were taken (in the stream, or held in the buffer)."""
        posts = list(posts)
        if self.buffer_max:
            return self._offer(posts)
        if posts:
            self.write_waiting(lambda: post_store.append(self.r, self.keys, posts), len(posts))
            self.health.count(len(posts), time.time())
        self.flush()
        return len(posts)

    def write_waiting(self, write: Callable[[], object], n: int) -> None:
        """Run `write` (an append of `n` posts) once the backlog is within budget and Redis answers.

        On `stop` an over-budget wait ends and the batch is written anyway (one batch over the budget rather
        than a post lost). The simulator and replay slow down this way; so does every polling source.
        """
        backoff = redis_backoff()
        while True:
            try:
                if self.pressure is None or self.stop.is_set() or self.pressure.over() is None:
                    write()
                    return
                self.stop.wait(self.pressure.every_s)
            except REDIS_ERRORS as exc:
                if self.stop.is_set():
                    logger.warning("source %s: %d posts not stored, Redis is unavailable at stop", self.name, n)
                    raise
                delay = backoff.next()
                logger.warning(
                    "source %s: Redis unavailable (%s); retrying in %.1fs", self.name, type(exc).__name__, delay
                )
                self.stop.wait(delay)

    def _offer(self, posts: list[Post]) -> int:
        """Streaming: hold the posts, drop (and count) the oldest beyond the buffer, write what the budget allows."""
        self._held.extend(posts)
        if (over := len(self._held) - self.buffer_max) > 0:
            for _ in range(over):
                self._held.popleft()
            self._drops += over
        self.health.count(len(posts), time.time())
        self._drain()
        self.flush()
        return len(posts)

    def _drain(self, force: bool = False) -> None:
        try:
            while self._held and (force or self.pressure is None or self.pressure.over() is None):
                batch = [self._held.popleft() for _ in range(min(len(self._held), 1000))]
                try:
                    post_store.append(self.r, self.keys, batch)
                except REDIS_ERRORS:
                    self._held.extendleft(reversed(batch))  # kept, in order, for the next try
                    raise
        except REDIS_ERRORS:
            pass  # the buffer keeps them; the next emit or flush tries again

    @property
    def held(self) -> int:
        """Posts a streaming sink holds in memory, waiting for the backlog to shrink or Redis to return."""
        return len(self._held)

    def invalid(self, payload: bytes | str | dict, reason: str) -> None:
        post_store.dead_letter(self.r, self.keys, payload, reason, self.name)

    def state(self, state: str, detail: str = "") -> None:
        if state != self.health.state:
            logger.info("source %s: %s %s", self.name, state, detail)
        self.health.set_state(state, time.time(), detail)
        self.flush(force=True)

    def flush(self, force: bool = False) -> None:
        """Write the health row (at most every `health_every_s`); a streaming sink also drains and counts drops."""
        now = time.time()
        if self._held:
            self._drain()
        if force or now - self._last_flush >= self._every:
            if self.buffer_max:
                self.health.extra["held"] = len(self._held)
            try:
                if self._drops:
                    post_store.count_dropped(self.r, self.keys, self.name, self._drops)
                    logger.warning(
                        "source %s: dropped %d posts (buffer of %d full)", self.name, self._drops, self.buffer_max
                    )
                    self._drops = 0
                health_store.write(self.r, self.keys, self.name, self.health.as_dict(now))
            except REDIS_ERRORS:
                if not self.buffer_max:
                    raise
                return  # a streaming sink rides out the outage: drops and health are written once Redis is back
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
