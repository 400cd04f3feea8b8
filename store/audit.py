"""The audit trail: one stream entry per write, queued in the same MULTI/EXEC as the write it records.

    pipe = r.pipeline(transaction=True)
    pipe.hset(keys.cards, card_id, ...)
    audit.append(pipe, keys, audit.entry(identity, "card.create", "card", card_id, before=None, after=card))
    pipe.execute()
    audit.durable(r)  # WAITAOF 1 0: on disk before the UI says "saved"

The stream is never trimmed (no MAXLEN): its size is watched against a budget instead (`size`).
"""

from __future__ import annotations

import csv
import io
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson
import redis
import redis.cluster

from store.keys import Keys

logger = logging.getLogger(__name__)

DURABLE_TIMEOUT_MS = 2000
WARN_FRACTION = 0.8
FIELDS = ("id", "at", "who", "roles", "action", "object_type", "object_id", "before", "after", "address", "detail")
_SCAN_BATCH = 500


def entry(
    actor: Any,
    action: str,
    object_type: str,
    object_id: str,
    *,
    before: Any = None,
    after: Any = None,
    detail: str = "",
    address: str | None = None,
    at: float | None = None,
) -> dict:
    """An audit entry. `actor` is an `auth.identity.Identity` (or anything with name, roles, address), or a name."""
    if isinstance(actor, str):
        who, roles, addr = actor, [], ""
    else:
        who, roles, addr = actor.name, sorted(actor.roles), getattr(actor, "address", "") or ""
    return {
        "at": time.time() if at is None else at,
        "who": who,
        "roles": roles,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": before,
        "after": after,
        "address": addr if address is None else address,
        "detail": detail,
    }


def append(pipe: redis.client.Pipeline, keys: Keys, item: dict) -> None:
    """Queue the entry's XADD on the caller's MULTI pipeline: it lands exactly when the change does."""
    pipe.xadd(keys.audit, {"e": orjson.dumps(item)})


def record(r: redis.Redis, keys: Keys, item: dict, *, wait: bool = True) -> str:
    """Append one entry on its own (a failed sign-in: there is no other change); durable when `wait`."""
    entry_id = r.xadd(keys.audit, {"e": orjson.dumps(item)})
    if wait:
        durable(r, keys.audit)
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


def durable(r: redis.Redis, key: str | None = None) -> bool:
    """Wait until the local AOF has every write so far on disk (WAITAOF 1 0). False if the server cannot say.

    On a Redis Cluster WAITAOF goes to the primary that holds `key` (every key of an event is in one slot, so one
    node took the write); with no key, to every primary, and it is durable only if every one says so."""
    try:
        if isinstance(r, redis.cluster.RedisCluster):
            nodes = r.get_node_from_key(key) if key is not None else r.get_primaries()
            reply = r.execute_command("WAITAOF", 1, 0, DURABLE_TIMEOUT_MS, target_nodes=nodes)
            replies = list(reply.values()) if isinstance(reply, dict) else [reply]
            return all(int(local) >= 1 for local, _ in replies)
        local, _ = r.execute_command("WAITAOF", 1, 0, DURABLE_TIMEOUT_MS)
        return int(local) >= 1
    except redis.ResponseError as exc:
        logger.warning("WAITAOF unavailable (%s): relying on the server's own fsync policy", exc)
        return False


def _decode(entry_id: bytes | str, fields: dict) -> dict:
    item = orjson.loads(fields[b"e"])
    item["id"] = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return item


def _ms(t: float | None, default: str) -> str:
    return default if t is None else str(int(t * 1000))


def scan(r: redis.Redis, keys: Keys, *, since: float | None = None, until: float | None = None) -> Iterator[dict]:
    """Every entry between `since` and `until` (epoch seconds, inclusive), newest first, read in batches."""
    hi, lo = _ms(until, "+"), _ms(since, "-")
    if hi != "+":
        hi = f"{hi}-18446744073709551615"  # the whole millisecond
    while True:
        batch = r.xrevrange(keys.audit, max=hi, min=lo, count=_SCAN_BATCH)
        for entry_id, fields in batch:
            yield _decode(entry_id, fields)
        if len(batch) < _SCAN_BATCH:
            return
        hi = "(" + (batch[-1][0].decode() if isinstance(batch[-1][0], bytes) else batch[-1][0])


def query(
    r: redis.Redis,
    keys: Keys,
    *,
    who: str | None = None,
    action: str | None = None,
    obj: str | tuple[str, str] | None = None,
    since: float | None = None,
    until: float | None = None,
    limit: int | None = 500,
) -> list[dict]:
    """Entries matching every filter given, newest first.

    `action` matches exactly or as a prefix ending in "." ("card." = every card action); `obj` is an object type
    ("card"), or (type, id), or "type:id".
    """
    obj_type = obj_id = None
    if isinstance(obj, tuple):
        obj_type, obj_id = obj
    elif obj:
        obj_type, _, obj_id = obj.partition(":")
        obj_id = obj_id or None
    out = []
    for item in scan(r, keys, since=since, until=until):
        if who and item["who"] != who:
            continue
        if action and not (item["action"] == action or (action.endswith(".") and item["action"].startswith(action))):
            continue
        if obj_type and item["object_type"] != obj_type:
            continue
        if obj_id and item["object_id"] != obj_id:
            continue
        out.append(item)
        if limit and len(out) >= limit:
            break
    return out


def timeline(r: redis.Redis, keys: Keys, object_type: str, object_id: str, limit: int = 200) -> list[dict]:
    """One object's history (a card's timeline), oldest first."""
    return list(reversed(query(r, keys, obj=(object_type, object_id), limit=limit)))


def size(r: redis.Redis, keys: Keys, budget_bytes: int) -> dict:
    """How much of its budget the audit stream uses; `warning` from 80 %, logged once per call that crosses it."""
    entries = r.xlen(keys.audit)
    used = int(r.memory_usage(keys.audit, samples=0) or 0) if entries else 0
    fraction = used / budget_bytes if budget_bytes else 0.0
    info = {
        "entries": entries,
        "bytes": used,
        "budget_bytes": budget_bytes,
        "fraction": round(fraction, 4),
        "warning": fraction >= WARN_FRACTION,
    }
    if info["warning"]:
        logger.warning(
            "audit trail uses %.0f%% of its budget (%d of %d bytes, %d entries): raise audit.budget_mb in the "
            "event file or export it (GET /api/audit) before it is full; it is never trimmed during an event",
            fraction * 100,
            used,
            budget_bytes,
            entries,
        )
    return info


def to_jsonl(items: Iterable[dict]) -> Iterator[bytes]:
    for item in items:
        yield orjson.dumps({k: item.get(k) for k in FIELDS}) + b"\n"


def to_csv(items: Iterable[dict]) -> Iterator[str]:
    """CSV with a header; before/after/roles as JSON text in their cells."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(FIELDS)
    yield _drain(buf)
    for item in items:
        row = []
        for k in FIELDS:
            v = item.get(k)
            if isinstance(v, dict | list) or (v is None and k in ("before", "after")):
                v = orjson.dumps(v).decode()
            row.append(_cell(v))
        writer.writerow(row)
        yield _drain(buf)


def _cell(v: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (=, +, -, @) is prefixed with ' (CSV injection)."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return v


def _drain(buf: io.StringIO) -> str:
    text = buf.getvalue()
    buf.seek(0)
    buf.truncate()
    return text


def write(r: redis.Redis, watch: Iterable[str], build: Callable[[redis.client.Pipeline], Any]) -> Any:
    """Read-check-write as one durable transaction: WATCH `watch`, `build(pipe)` reads (immediate mode), calls
    `pipe.multi()`, queues the change and its `append(...)`; EXEC (retried if a watched key moved), then WAITAOF.

    Returns what `build` returned. An exception from `build` aborts with nothing written.
    """
    watch = list(watch)
    with r.pipeline(transaction=True) as pipe:
        while True:
            try:
                if watch:
                    pipe.watch(*watch)
                result = build(pipe)
                pipe.execute()
                break
            except redis.WatchError:
                continue
    durable(r, watch[0] if watch else None)
    return result
