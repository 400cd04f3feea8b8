"""Alerts: the signals workers raise, the alerts the aggregator keeps, and acknowledgements."""

from __future__ import annotations

import time

import orjson
import redis

from store import audit, partitions
from store.keys import ALERTS_MAX, Keys


def read_signals(r: redis.Redis, keys: Keys, after: str, count: int = 1000) -> tuple[str, list[dict]]:
    """Signals of every partition after cursor `after` (store/partitions.py); returns the new cursor and the
    signals."""
    cursor, entries = partitions.read_after(r, keys, lambda part: part.signals, after, count)
    return cursor, [orjson.loads(f[b"s"]) for _, f in entries]


# What a grown alert keeps from its stored self: who acknowledged it and when, and when it was first raised (the
# time to acknowledge is measured from there).
KEPT_FIELDS = ("acked_by", "acked_at", "raised_at")


def add(r: redis.Redis, keys: Keys, alerts: list[dict]) -> None:
    """Store new alerts, and alerts that grew (same id): a grown alert keeps its acknowledgement and first raise
    (KEPT_FIELDS), read and written under WATCH so an acknowledgement landing meanwhile is never overwritten."""
    if not alerts:
        return
    ids = [a["id"] for a in alerts]
    with r.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(keys.alerts)
                stored = pipe.hmget(keys.alerts, ids)
                rows = {}
                for alert, raw in zip(alerts, stored, strict=True):
                    kept = {f: v for f, v in orjson.loads(raw).items() if f in KEPT_FIELDS} if raw else {}
                    rows[alert["id"]] = orjson.dumps({**alert, **kept} if kept else alert)
                pipe.multi()
                pipe.hset(keys.alerts, mapping=rows)
                pipe.execute()
                return
            except redis.WatchError:
                continue


def recent(r: redis.Redis, keys: Keys, n: int = 50) -> list[dict]:
    items = [orjson.loads(v) for v in r.hvals(keys.alerts)]
    items.sort(key=lambda a: a["at"], reverse=True)
    return items[:n]


def trim(r: redis.Redis, keys: Keys) -> None:
    if r.hlen(keys.alerts) > ALERTS_MAX:
        oldest = recent(r, keys, ALERTS_MAX * 2)[ALERTS_MAX:]
        if oldest:
            r.hdel(keys.alerts, *[a["id"] for a in oldest])


def acknowledge(r: redis.Redis, keys: Keys, alert_id: str, user: str, audit_entry: dict) -> dict | None:
    """Mark an alert acknowledged by `user`, with its audit entry (before/after filled in here) in the same
    MULTI/EXEC, durable (WAITAOF) before it returns. None if the alert is gone (nothing written)."""

    def build(pipe):
        raw = pipe.hget(keys.alerts, alert_id)
        if raw is None:
            return None
        before = orjson.loads(raw)
        alert = {**before, "acked_by": user, "acked_at": time.time()}
        pipe.multi()
        pipe.hset(keys.alerts, alert_id, orjson.dumps(alert))
        item = {**audit_entry, "object_type": "alert", "object_id": alert_id}
        audit.append(pipe, keys, {**item, "before": _shown(before), "after": _shown(alert)})
        return alert

    return audit.write(r, [keys.alerts], build)


def _shown(alert: dict) -> dict:
    """What the audit trail keeps of an alert: enough to say which one and its state, not its whole body."""
    return {k: alert.get(k) for k in ("id", "kind", "severity", "title", "at", "acked_by", "acked_at")}


def load_state(r: redis.Redis, keys: Keys) -> dict:
    raw = r.get(keys.alert_state)
    return orjson.loads(raw) if raw else {}


def save_state(r: redis.Redis, keys: Keys, state: dict) -> None:
    r.set(keys.alert_state, orjson.dumps(state))
