"""Outcomes of published responses: the workers' counts (written with their batches, store/aggregates.py) and
what each network says when polled (publish/watcher.py). Reads give one merged outcome per draft."""

from __future__ import annotations

import orjson
import redis

from analytics import outcomes
from store.keys import Keys


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else v


def all_outcomes(r: redis.Redis, keys: Keys) -> dict[str, dict]:
    """Draft id -> merged outcome (analytics.outcomes.merged) for every response with anything counted or polled.
    Two reads, whatever the number of responses."""
    pipe = r.pipeline(transaction=False)
    pipe.hgetall(keys.outcomes_polled)
    for part in keys.parts():
        pipe.hgetall(part.outcomes)
    polled_raw, *seen_parts = pipe.execute()
    counted: dict[str, int] = {}
    for seen_raw in seen_parts:
        for k, v in seen_raw.items():
            counted[_text(k)] = counted.get(_text(k), 0) + int(v)
    seen = outcomes.seen_by_draft(counted)
    polled = {_text(k): orjson.loads(v) for k, v in polled_raw.items()}
    return {d: outcomes.merged(seen.get(d), polled.get(d)) for d in set(seen) | set(polled)}


def save_polled(r: redis.Redis, keys: Keys, draft_id: str, metrics: dict, at: float) -> None:
    """The network's own counts for a published response, as of `at`."""
    clean = {k: int(metrics.get(k) or 0) for k in outcomes.POLLED}
    r.hset(keys.outcomes_polled, draft_id, orjson.dumps({**clean, "at": at}))


def for_feed(r: redis.Redis, keys: Keys, posts: list[dict]) -> tuple[dict[str, str], dict[str, dict]]:
    """Which of the feed's posts (or the posts they reference) are our published responses, and those responses'
    outcomes: one HMGET, and the outcome reads only when the feed holds any of ours."""
    ids = sorted({x for p in posts for x in (p.get("id"), *(p.get(a) for a, _ in outcomes.REFS)) if x})
    if not ids:
        return {}, {}
    found = r.hmget(keys.published, ids)
    published = {i: _text(d) for i, d in zip(ids, found, strict=True) if d is not None}
    if not published:
        return {}, {}
    merged = all_outcomes(r, keys)
    return published, {d: merged[d] for d in set(published.values()) if d in merged}
