"""The posts stream: append (every source's sink), dead letters, consumer-group reads and counters."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

import orjson
import redis

from model.post import Post
from store.keys import DEAD_MAXLEN, GROUP, STREAM_MAXLEN, Keys

logger = logging.getLogger(__name__)

FIELD = b"p"  # stream entries carry one field: the post as JSON


def append(r: redis.Redis, keys: Keys, posts: Iterable[Post], now: float | None = None) -> list[str]:
    """XADD valid posts, stamping `received_at`; returns the stream ids. Nothing is lost on return."""
    now = time.time() if now is None else now
    pipe = r.pipeline(transaction=False)
    n = 0
    for post in posts:
        if post.received_at is None:
            post.received_at = now
        pipe.xadd(keys.stream, {FIELD: post.to_json()}, maxlen=STREAM_MAXLEN, approximate=True)
        n += 1
    if not n:
        return []
    pipe.hincrby(keys.stats, "received", n)
    return [i.decode() if isinstance(i, bytes) else i for i in pipe.execute()[:n]]


def append_dicts(r: redis.Redis, keys: Keys, posts: list[dict], now: float | None = None) -> int:
    """Fast path for trusted producers (simulator, replay): XADD post dicts; the processor still validates."""
    now = time.time() if now is None else now
    pipe = r.pipeline(transaction=False)
    for post in posts:
        post.setdefault("received_at", now)
        pipe.xadd(keys.stream, {FIELD: orjson.dumps(post)}, maxlen=STREAM_MAXLEN, approximate=True)
    if posts:
        pipe.hincrby(keys.stats, "received", len(posts))
        pipe.execute()
    return len(posts)


def dead_letter(r: redis.Redis, keys: Keys, payload: bytes | str | dict, reason: str, source: str) -> None:
    """Keep a payload that could not be used, with why, and count it."""
    if isinstance(payload, dict):
        payload = orjson.dumps(payload, default=str)
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "replace")
    pipe = r.pipeline(transaction=False)
    pipe.xadd(
        keys.dead,
        {"reason": reason[:500], "source": source, "payload": payload[:20_000], "at": str(time.time())},
        maxlen=DEAD_MAXLEN,
        approximate=True,
    )
    pipe.hincrby(keys.stats, "dead", 1)
    pipe.execute()
    logger.warning("dead-lettered a %s payload: %s", source, reason)


def dead_letters(r: redis.Redis, keys: Keys, count: int = 20) -> list[dict]:
    out = []
    for entry_id, fields in r.xrevrange(keys.dead, count=count):
        out.append({"id": entry_id.decode(), **{k.decode(): v.decode("utf-8", "replace") for k, v in fields.items()}})
    return out


def ensure_group(r: redis.Redis, keys: Keys) -> None:
    try:
        r.xgroup_create(keys.stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def read_batch(
    r: redis.Redis, keys: Keys, consumer: str, count: int, block_ms: int
) -> list[tuple[bytes, bytes | None]]:
    """New entries for this consumer: [(entry id, post JSON or None if the entry has no post field)]."""
    reply = r.xreadgroup(GROUP, consumer, {keys.stream: ">"}, count=count, block=block_ms)
    return _entries(reply[0][1]) if reply else []


def claim_stale(
    r: redis.Redis, keys: Keys, consumer: str, min_idle_ms: int, count: int
) -> list[tuple[bytes, bytes | None]]:
    """Take over entries another consumer read but never acknowledged (it crashed)."""
    _, claimed, *_ = r.xautoclaim(keys.stream, GROUP, consumer, min_idle_ms, "0-0", count=count)
    return _entries(claimed)


def _entries(raw: list) -> list[tuple[bytes, bytes | None]]:
    return [(entry_id, (fields or {}).get(FIELD)) for entry_id, fields in raw]


def lag(r: redis.Redis, keys: Keys) -> dict:
    """Consumer-group lag and pending count (0s when the group does not exist yet)."""
    try:
        groups = r.xinfo_groups(keys.stream)
    except redis.ResponseError:
        return {"lag": 0, "pending": 0}
    for g in groups:
        name = g.get("name", g.get(b"name"))
        if name in (GROUP, GROUP.encode()):
            return {"lag": int(g.get("lag") or 0), "pending": int(g.get("pending") or 0)}
    return {"lag": 0, "pending": 0}


def stats(r: redis.Redis, keys: Keys) -> dict[str, float]:
    """Pipeline counters (received, processed, dead, duplicates) and `last_at`, the newest processed arrival."""
    raw = {k.decode(): float(v) for k, v in r.hgetall(keys.stats).items()}
    return {k: v if k == "last_at" else int(v) for k, v in raw.items()}
