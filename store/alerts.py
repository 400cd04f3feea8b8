"""Alerts: the signals workers raise, the alerts the aggregator keeps, and acknowledgements."""

from __future__ import annotations

import time

import orjson
import redis

from store.keys import ALERTS_MAX, Keys


def read_signals(r: redis.Redis, keys: Keys, after: str, count: int = 1000) -> tuple[str, list[dict]]:
    """Signals after stream id `after`; returns the new last id and the signals."""
    entries = r.xrange(keys.signals, min=f"({after}" if after != "0-0" else "-", count=count)
    if not entries:
        return after, []
    return entries[-1][0].decode(), [orjson.loads(f[b"s"]) for _, f in entries]


def add(r: redis.Redis, keys: Keys, alerts: list[dict]) -> None:
    if alerts:
        r.hset(keys.alerts, mapping={a["id"]: orjson.dumps(a) for a in alerts})


def recent(r: redis.Redis, keys: Keys, n: int = 50) -> list[dict]:
    items = [orjson.loads(v) for v in r.hvals(keys.alerts)]
    items.sort(key=lambda a: a["at"], reverse=True)
    return items[:n]


def trim(r: redis.Redis, keys: Keys) -> None:
    if r.hlen(keys.alerts) > ALERTS_MAX:
        oldest = recent(r, keys, ALERTS_MAX * 2)[ALERTS_MAX:]
        if oldest:
            r.hdel(keys.alerts, *[a["id"] for a in oldest])


def acknowledge(r: redis.Redis, keys: Keys, alert_id: str, user: str) -> dict | None:
    raw = r.hget(keys.alerts, alert_id)
    if raw is None:
        return None
    alert = orjson.loads(raw)
    alert.update(acked_by=user, acked_at=time.time())
    r.hset(keys.alerts, alert_id, orjson.dumps(alert))
    return alert


def load_state(r: redis.Redis, keys: Keys) -> dict:
    raw = r.get(keys.alert_state)
    return orjson.loads(raw) if raw else {}


def save_state(r: redis.Redis, keys: Keys, state: dict) -> None:
    r.set(keys.alert_state, orjson.dumps(state))
