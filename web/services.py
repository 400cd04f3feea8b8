"""What callbacks and routes need, built once per web process and passed in."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from callbacks.response_cache import ResponseCache
from config.settings import Settings
from layouts import ids
from store.keys import Keys
from store.server import connect
from store.snapshot import SnapshotReader
from streams.sources.base import Pressure, Sink


@dataclass
class Services:
    settings: Settings
    r: redis.Redis
    keys: Keys
    snapshots: SnapshotReader  # the current snapshot, fetched once per version for every screen
    cache: ResponseCache  # the screen callback's shared answers (installed on the server by create_app)
    ingest: Sink  # the webhook's health row: posts, rate, last post


def build_services(settings: Settings, r: redis.Redis | None = None) -> Services:
    r = r or connect(settings.get("REDIS_URL"))
    keys = Keys(settings.event.id)
    snapshots = SnapshotReader(r, keys)
    ingest = Sink(r, keys, "webhook", pressure=Pressure(r, keys, settings.event.backlog))  # 503 over budget
    return Services(settings, r, keys, snapshots, screen_cache(snapshots), ingest)


def screen_cache(snapshots: SnapshotReader) -> ResponseCache:
    """The screen callback every screen asks identically each tick (see callbacks/response_cache.py)."""

    def canonical(key: str, value):
        if key == f"{ids.SNAP_VERSION}.data":
            return "current" if value == snapshots.get()[0] else "older"
        if key == f"{ids.CARDS_VERSION}.data":
            return "current" if value == (snapshots.get()[1] or {}).get("cards_version") else "older"
        return value

    return ResponseCache({ids.SNAP_VERSION: {f"{ids.TICK}.n_intervals"}}, lambda: snapshots.get()[0], canonical)
