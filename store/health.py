"""Per-source health records in Redis (one hash field per source)."""

from __future__ import annotations

import orjson
import redis

from store.keys import Keys


def write(r: redis.Redis, keys: Keys, name: str, health: dict) -> None:
    r.hset(keys.sources, name, orjson.dumps(health))


def read_all(r: redis.Redis, keys: Keys) -> dict[str, dict]:
    return {k.decode(): orjson.loads(v) for k, v in r.hgetall(keys.sources).items()}


def load_cursor(r: redis.Redis, keys: Keys, source: str) -> str | None:
    value = r.get(keys.cursor(source))
    return value.decode() if value else None


def save_cursor(r: redis.Redis, keys: Keys, source: str, cursor: str) -> None:
    r.set(keys.cursor(source), cursor)
