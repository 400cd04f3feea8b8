"""Which workers are alive, for sharing an event's partitions (store/keys.py `workers`, used only when K > 1)."""

from __future__ import annotations

import redis

from store.keys import WORKER_LIVE_S, Keys

FORGET_S = 60.0  # a worker silent this long is dropped from the set (a live one is back within a second)


def beat(r: redis.Redis, keys: Keys, name: str, now: float) -> list[str]:
    """Record that `name` is alive now; returns the names of every live worker, sorted (one round trip)."""
    pipe = r.pipeline(transaction=False)
    pipe.zadd(keys.workers, {name: now})
    pipe.zremrangebyscore(keys.workers, "-inf", now - FORGET_S)
    pipe.zrangebyscore(keys.workers, now - WORKER_LIVE_S, "+inf")
    live = pipe.execute()[-1]
    return sorted(m.decode() if isinstance(m, bytes) else m for m in live)


def assign(partitions: int, live: list[str], name: str) -> list[int]:
    """The partitions `name` serves: worker i of W (sorted) takes every p with p % W == i; with more workers than
    partitions, worker i shares partition i % K. Every partition has a worker whenever one is live."""
    if name not in live:
        live = sorted([*live, name])
    i, w = live.index(name), len(live)
    mine = [p for p in range(partitions) if p % w == i]
    return mine or [i % partitions]
