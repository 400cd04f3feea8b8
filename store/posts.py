"""The posts stream: append (every source's sink), dead letters, consumer-group reads and counters."""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Iterable

import orjson
import redis

from model.post import Post
from store.keys import DEAD_MAXLEN, GROUP, STREAM_TRIM_LIMIT, Keys
from store.partitions import hgetall_each

logger = logging.getLogger(__name__)

FIELD = b"p"  # stream entries carry one field: the post as JSON


def append(r: redis.Redis, keys: Keys, posts: Iterable[Post], now: float | None = None) -> list[str]:
    """XADD valid posts, stamping `received_at`; returns the stream ids. Nothing is lost on return.

    No MAXLEN: a cap at XADD would trim entries no worker has processed yet (see `trim_acknowledged`)."""
    now = time.time() if now is None else now
    pipe = r.pipeline(transaction=False)
    received: collections.Counter[Keys] = collections.Counter()
    for post in posts:
        if post.received_at is None:
            post.received_at = now
        part = keys.part_of(post.id)
        pipe.xadd(part.stream, {FIELD: post.to_json()})
        received[part] += 1
    n = received.total()
    if not n:
        return []
    for part, count in received.items():
        pipe.hincrby(part.stats, "received", count)
    return [i.decode() if isinstance(i, bytes) else i for i in pipe.execute()[:n]]


def append_dicts(r: redis.Redis, keys: Keys, posts: list[dict], now: float | None = None) -> int:
    """Fast path for trusted producers (simulator, replay): XADD post dicts; the processor still validates."""
    now = time.time() if now is None else now
    pipe = r.pipeline(transaction=False)
    received: collections.Counter[Keys] = collections.Counter()
    for post in posts:
        post.setdefault("received_at", now)
        part = keys.part_of(str(post.get("id", "")))
        pipe.xadd(part.stream, {FIELD: orjson.dumps(post)})
        received[part] += 1
    if posts:
        for part, count in received.items():
            pipe.hincrby(part.stats, "received", count)
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
    """The newest dead letters over every partition, newest first."""
    pipe = r.pipeline(transaction=False)
    for part in keys.parts():
        pipe.xrevrange(part.dead, count=count)
    entries = [e for got in pipe.execute() for e in got]
    entries.sort(key=lambda e: _id(e[0]), reverse=True)
    out = []
    for entry_id, fields in entries[:count]:
        out.append({"id": entry_id.decode(), **{k.decode(): v.decode("utf-8", "replace") for k, v in fields.items()}})
    return out


def ensure_group(r: redis.Redis, keys: Keys) -> None:
    """The consumer group on every partition's stream (created with the stream)."""
    for part in keys.parts():
        try:
            r.xgroup_create(part.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise


def read_batch(
    r: redis.Redis, keys: Keys, consumer: str, count: int, block_ms: int | None
) -> list[tuple[bytes, bytes | None]]:
    """New entries of `keys`' partition for this consumer: [(entry id, post JSON or None if the entry has no post
    field)]. `block_ms` None: answer at once."""
    reply = r.xreadgroup(GROUP, consumer, {keys.stream: ">"}, count=count, block=block_ms)
    return _entries(reply[0][1]) if reply else []


def claim_stale(
    r: redis.Redis, keys: Keys, consumer: str, min_idle_ms: int, count: int
) -> list[tuple[bytes, bytes | None]]:
    """Take over entries of `keys`' partition another consumer read but never acknowledged (it crashed)."""
    _, claimed, *_ = r.xautoclaim(keys.stream, GROUP, consumer, min_idle_ms, "0-0", count=count)
    return _entries(claimed)


def _entries(raw: list) -> list[tuple[bytes, bytes | None]]:
    return [(entry_id, (fields or {}).get(FIELD)) for entry_id, fields in raw]


def _id(raw: bytes | str) -> tuple[int, int]:
    ms, _, seq = (raw.decode() if isinstance(raw, bytes) else raw).partition("-")
    return int(ms), int(seq or 0)


def _text(v):
    return v.decode() if isinstance(v, bytes) else v


def safe_trim_id(r: redis.Redis, keys: Keys) -> str | None:
    """The oldest entry some consumer group may still need, or None when nothing may be trimmed.

    For each group that is the oldest entry it has read but not acknowledged (XPENDING), or else its
    last-delivered id; every entry before the minimum over groups has been acknowledged by all of them.
    Both are read in one MULTI, so a read that delivers entries in between cannot move the point past them.
    No group (or a group that has read nothing): None, nothing is acknowledged.
    """
    try:
        names = [_text(g["name"]) for g in r.xinfo_groups(keys.stream)]
    except redis.ResponseError:  # no stream yet
        return None
    if not names:
        return None
    pipe = r.pipeline(transaction=True)
    pipe.xinfo_groups(keys.stream)
    for name in names:
        pipe.xpending(keys.stream, name)
    try:
        groups, *pending = pipe.execute()
    except redis.ResponseError:  # the stream or a group was deleted in between: nothing to decide now
        return None
    if sorted(_text(g["name"]) for g in groups) != sorted(names):
        return None  # a group came or went between the two reads: try again next time
    by_name = {_text(g["name"]): g for g in groups}
    points = []
    for name, summary in zip(names, pending, strict=True):
        delivered = _id(by_name[name]["last-delivered-id"])
        if delivered == (0, 0):
            return None
        oldest = _id(summary["min"]) if summary.get("pending") else delivered
        points.append(min(oldest, delivered))
    ms, seq = min(points)
    return f"{ms}-{seq}"


def trim_acknowledged(r: redis.Redis, keys: Keys) -> int:
    """XTRIM MINID to `safe_trim_id`: free entries every group has acknowledged, never one still needed (in
    `keys`' partition: each worker trims the partitions it serves).

    Approximate (whole radix-tree nodes, so it is cheap and may keep up to a node of acknowledged entries) and
    at most STREAM_TRIM_LIMIT entries per call. Returns the entries removed.
    """
    point = safe_trim_id(r, keys)
    if point is None:
        return 0
    return int(r.xtrim(keys.stream, minid=point, approximate=True, limit=STREAM_TRIM_LIMIT) or 0)


def backlog(r: redis.Redis, keys: Keys) -> tuple[int, int]:
    """(entries, bytes) the posts streams of every partition hold now: one round trip (XLEN, MEMORY USAGE with its
    default sampling)."""
    pipe = r.pipeline(transaction=False)
    for part in keys.parts():
        pipe.xlen(part.stream)
        pipe.memory_usage(part.stream)
    got = pipe.execute()
    return sum(int(x or 0) for x in got[0::2]), sum(int(x or 0) for x in got[1::2])


LAG_COUNT_MAX = 10_000  # entries counted one by one when the server's own lag figure is not valid


def lag(r: redis.Redis, keys: Keys) -> dict:
    """The group's lag and pending count summed over every partition (`part_lag`)."""
    each = [part_lag(r, part) for part in keys.parts()]
    return {"lag": sum(e["lag"] for e in each), "pending": sum(e["pending"] for e in each)}


def part_lag(r: redis.Redis, keys: Keys) -> dict:
    """The group's true lag (entries after its last-delivered id) and pending count; 0s when there is no group.

    XINFO GROUPS' `lag` is entries-added minus entries-read: it is null once an entry after the group's
    position was deleted, and it counts entries a trim removed. So: all of XLEN when the group's position is
    before the first entry; else the server's figure when valid (never more than XLEN); else counted with
    XRANGE up to LAG_COUNT_MAX and estimated beyond.
    """
    pipe = r.pipeline(transaction=True)
    pipe.xinfo_groups(keys.stream)
    pipe.xlen(keys.stream)
    pipe.xrange(keys.stream, count=1)
    try:
        groups, length, first = pipe.execute()
    except redis.ResponseError:
        return {"lag": 0, "pending": 0}
    group = next((g for g in groups if _text(g.get("name")) == GROUP), None)
    if group is None:
        return {"lag": 0, "pending": 0}
    pending, delivered = int(group.get("pending") or 0), _text(group.get("last-delivered-id") or "0-0")
    server_lag = group.get("lag")
    if not length:
        behind = 0
    elif _id(first[0][0]) > _id(delivered):
        behind = length
    elif isinstance(server_lag, int):
        behind = min(server_lag, length)
    else:
        counted = len(r.xrange(keys.stream, min=f"({delivered}", count=LAG_COUNT_MAX + 1))
        read = group.get("entries-read")
        estimate = int(r.xinfo_stream(keys.stream)["entries-added"]) - read if isinstance(read, int) else length
        behind = counted if counted <= LAG_COUNT_MAX else min(length, max(counted, estimate))
    return {"lag": int(behind), "pending": pending}


def consumers_active(r: redis.Redis, keys: Keys, within_ms: int) -> int:
    """Consumers of the group (on any partition) that asked for entries within `within_ms` (a live worker asks
    every second)."""
    active = set()
    for part in keys.parts():
        try:
            consumers = r.xinfo_consumers(part.stream, GROUP)
        except redis.ResponseError:  # no stream or no group yet
            continue
        active.update(_text(c.get("name")) for c in consumers if int(c.get("idle", within_ms + 1)) <= within_ms)
    return len(active)


def count_dropped(r: redis.Redis, keys: Keys, source: str, n: int) -> None:
    """Count posts a source could not keep (never silent: /api/health and the header show them)."""
    r.hincrby(keys.dropped, source, n)


def dropped(r: redis.Redis, keys: Keys) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in r.hgetall(keys.dropped).items()}


def stats(r: redis.Redis, keys: Keys) -> dict[str, float]:
    """Pipeline counters (received, processed, dead, duplicates) summed over partitions, and `last_at`, the newest
    processed arrival."""
    out: dict[str, float] = {}
    for raw in hgetall_each(r, keys, lambda part: part.stats):
        for k, v in raw.items():
            name, value = k.decode(), float(v)
            out[name] = max(out.get(name, value), value) if name == "last_at" else out.get(name, 0) + int(value)
    return out
