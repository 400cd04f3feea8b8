"""What callbacks and routes need, built once per web process and passed in."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import redis

from callbacks.response_cache import ResponseCache
from config.settings import Settings
from layouts import ids
from store import audit
from store.answers import SharedAnswers
from store.keys import Keys
from store.server import connect
from store.snapshot import SnapshotReader
from streams.notify import Notifier
from streams.sources.base import Pressure, Sink
from web import roles
from web.build import build_version


class AuditGauge:
    """The audit trail's size against its budget, read at most every `every_s` (it is never trimmed during an
    event; from 80 % the header says so and the log warns)."""

    def __init__(self, r: redis.Redis, keys: Keys, budget_bytes: int, every_s: float = 10.0):
        self.r, self.keys, self.budget_bytes, self.every_s = r, keys, budget_bytes, every_s
        self._lock = threading.Lock()
        self._at, self._status = -every_s, None

    def status(self) -> dict | None:
        with self._lock:
            if time.monotonic() - self._at < self.every_s:
                return self._status
            self._at = time.monotonic()
        try:
            status = audit.size(self.r, self.keys, self.budget_bytes)
        except redis.RedisError:
            status = None
        with self._lock:
            self._status = status
        return status


@dataclass
class Services:
    settings: Settings
    r: redis.Redis
    keys: Keys
    snapshots: SnapshotReader  # the current snapshot, fetched once per version for every screen
    cache: ResponseCache  # the screen callback's shared answers (installed on the server by create_app)
    ingest: Sink  # the webhook's health row: posts, rate, last post
    audit_gauge: AuditGauge = field(default=None)  # type: ignore[assignment]
    notifier: Notifier | None = None  # the alert webhook (Slack): approvers are told a response waits for them


def publishing_paused(s: Services, version: int) -> dict | None:
    """The room-wide pause for the screens: one GET per snapshot version per web process, shared by every screen
    (screens re-render only on a new snapshot, so a pause or resume shows with the next one, about a second)."""
    from store import publishing

    def read():
        try:
            return publishing.paused(s.r, s.keys)
        except redis.RedisError:
            return None

    return s.snapshots.memo(("publishing-paused", version), read)


def build_services(settings: Settings, r: redis.Redis | None = None) -> Services:
    r = r or connect(settings.get("REDIS_URL"))
    keys = Keys.of(settings.event)
    snapshots = SnapshotReader(r, keys)
    gauge = AuditGauge(r, keys, int(settings.event.audit.budget_mb * 1024 * 1024))
    ingest = Sink(r, keys, "webhook", pressure=Pressure(r, keys, settings.event.backlog))  # 503 over budget
    url = settings.alert_webhook_url
    notifier = Notifier(url).start() if url else None
    # Several web processes compute each answer once between them (store/answers.py); one needs no Redis for it.
    shared = SharedAnswers(r, keys, namespace=build_version()) if settings.web_processes > 1 else None
    return Services(settings, r, keys, snapshots, screen_cache(snapshots, shared), ingest, gauge, notifier)


def screen_cache(snapshots: SnapshotReader, shared: SharedAnswers | None = None) -> ResponseCache:
    """The screen callback every screen asks identically each tick (see callbacks/response_cache.py).

    The answer depends on who asks only through their roles: the key carries the identity's role set
    (`roles.audience`) and the page those roles get for the path (`roles.view_for`), never a name, so every
    screen of one role set shares an answer and screens of different role sets never do, in one process or
    across several (`shared`: the same key names the answer in Redis)."""

    def canonical(key: str, value):
        if key == f"{ids.SNAP_VERSION}.data":
            return "current" if value == snapshots.get()[0] else "older"
        if key == f"{ids.CARDS_VERSION}.data":
            return "current" if value == (snapshots.get()[1] or {}).get("cards_version") else "older"
        if key == f"{ids.URL}.pathname":
            view = roles.view_for(roles.current_identity(), value)
            return view.key if view else None
        return value

    return ResponseCache(
        {ids.SNAP_VERSION: {f"{ids.TICK}.n_intervals", f"{ids.PUSH}.data"}},
        lambda: snapshots.get()[0],
        canonical,
        audience=roles.audience,
        expect=snapshots.expect,
        shared=shared,
    )
