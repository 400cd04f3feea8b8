"""The snapshot: one JSON document per tick that every screen reads."""

from __future__ import annotations

import threading
import time

import orjson
import redis

from store.keys import SNAPSHOT_TTL_S, Keys
from store.lease import Lease


def write(r: redis.Redis, keys: Keys, snap: dict, version: int, lease: Lease | None = None) -> None:
    """Publish a snapshot; with a lease, only while it is held (raises LeaseLost otherwise)."""
    data = orjson.dumps(snap)

    def put(pipe):
        pipe.set(keys.snapshot, data, ex=SNAPSHOT_TTL_S)
        pipe.set(keys.snapshot_version, version)

    if lease is not None:
        lease.fenced(put)
        return
    pipe = r.pipeline(transaction=True)
    put(pipe)
    pipe.execute()


def version(r: redis.Redis, keys: Keys) -> int:
    return int(r.get(keys.snapshot_version) or 0)


def read_raw(r: redis.Redis, keys: Keys) -> bytes | None:
    return r.get(keys.snapshot)


def read(r: redis.Redis, keys: Keys) -> dict | None:
    raw = read_raw(r, keys)
    return orjson.loads(raw) if raw else None


class SnapshotReader:
    """One reader per web process: every viewer shares the same fetched snapshot and rendered pieces.

    A hundred screens polling each second cost one small GET of the version a few times a second
    and one fetch per new snapshot, not a hundred fetches and renders.
    """

    def __init__(self, r: redis.Redis, keys: Keys, min_interval_s: float = 0.2):
        self.r, self.keys, self.min_interval_s = r, keys, min_interval_s
        self._lock = threading.Lock()
        self._checked = float("-inf")  # the first get() reads, however long the machine has been up
        self.version = -1
        self.snap: dict | None = None
        self.raw: bytes | None = None
        self._memo: dict = {}

    def get(self) -> tuple[int, dict | None]:
        with self._lock:
            if time.monotonic() - self._checked >= self.min_interval_s:
                self._checked = time.monotonic()
                v = version(self.r, self.keys)
                if v != self.version:
                    raw = read_raw(self.r, self.keys)
                    self.version, self.raw = v, raw
                    self.snap = orjson.loads(raw) if raw else None
                    self._memo = {}
            return self.version, self.snap

    def expect(self, version: int) -> None:
        """Read the version now if it is behind `version` (the push server asks the moment a snapshot lands)."""
        with self._lock:
            if self.version < version:
                self._checked = float("-inf")
        self.get()

    def memo(self, key: tuple, build):
        """`build()` once per snapshot version and key (filters, role), shared by every viewer."""
        with self._lock:
            if key in self._memo:
                return self._memo[key]
        value = build()
        with self._lock:
            if len(self._memo) < 256:
                self._memo[key] = value
        return value
