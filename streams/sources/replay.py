"""Record the posts stream to JSONL, and replay a recording into the stream at N x speed, re-stamped to now."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import redis

from config.settings import Backlog
from model.post import InvalidPost, Post, parse_post, source_post
from store.keys import Keys
from store.posts import FIELD
from streams.sources.backoff import sleep
from streams.sources.base import CONNECTED, STOPPED, Pressure, Sink

logger = logging.getLogger(__name__)

NAME = "replay"
BATCH = 500
REFS = ("reply_to", "repost_of", "quote_of")


def _last_id(r: redis.Redis, keys: Keys) -> str:
    newest = r.xrevrange(keys.stream, count=1)
    return newest[0][0].decode() if newest else "0-0"


def record(
    r: redis.Redis,
    keys: Keys,
    path: str | Path,
    stop: threading.Event,
    source: str | None = None,
    limit: int | None = None,
    *,
    start_id: str = "$",
    block_ms: int = 500,
) -> int:
    """Write posts from the stream to `path` as JSONL, from now (`start_id="$"`) or a given entry id (of each
    partition's stream).

    Stops when `stop` is set or `limit` posts are written; `source` keeps only that network. Returns the count.
    """
    parts = keys.parts()
    last = {p.stream: _last_id(r, p) if start_id == "$" else start_id for p in parts}
    written = 0
    with open(path, "wb") as out:
        while not stop.is_set() and (limit is None or written < limit):
            if len(parts) == 1:
                reply = r.xread(last, count=BATCH, block=block_ms) or []
            else:  # one stream per read: a cluster refuses keys of several slots in one command
                reply = [got for s, i in last.items() for got in (r.xread({s: i}, count=BATCH) or [])]
                if not reply:
                    stop.wait(block_ms / 1000)
            for stream, entries in _by_name(reply):
                for entry_id, fields in entries:
                    last[stream] = entry_id
                    raw = fields.get(FIELD)
                    if raw and (source is None or orjson.loads(raw).get("source") == source):
                        out.write(raw + b"\n")
                        written += 1
                        if limit is not None and written >= limit:
                            break
                if limit is not None and written >= limit:
                    break
            out.flush()
    logger.info("recorded %d posts to %s", written, path)
    return written


def _by_name(reply) -> list[tuple[str, list]]:
    """XREAD's reply as (stream name, entries): a list of pairs over RESP2, a dict over RESP3."""
    pairs = reply.items() if isinstance(reply, dict) else reply
    return [(k.decode() if isinstance(k, bytes) else k, v) for k, v in pairs]


def _replay_id(tag: str, native: str) -> str:
    rid = f"{NAME}:{tag}:{native}"
    return rid if len(rid) <= 300 else f"{NAME}:{tag}:{hashlib.sha1(native.encode()).hexdigest()}"


def restamp(post: Post, tag: str, now: float, keep_source: bool = False) -> Post:
    """The post as replayed: new id (so a replay is not taken for a duplicate), created now, references kept."""
    update = {"id": _replay_id(tag, post.id), "created_at": datetime.fromtimestamp(now, UTC), "received_at": None}
    if not keep_source:
        update["source"] = NAME
    for ref in REFS:
        if getattr(post, ref):
            update[ref] = _replay_id(tag, getattr(post, ref))
    return post.model_copy(update=update)


def _read(line: bytes) -> Post:
    """A recorded line as a Post, normalised like a source's (a real-shaped recording may carry X's entities and
    hashtags only in its text; a line recorded from our own stream is already plain and stays as it is)."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        return parse_post(line)  # says why in the model's words
    return source_post(data) if isinstance(data, dict) else parse_post(data)


def replay(
    r: redis.Redis,
    keys: Keys,
    path: str | Path,
    speed: float,
    stop: threading.Event,
    *,
    tag: str | None = None,
    keep_source: bool = False,
    backlog: Backlog | None = None,
) -> int:
    """Append the JSONL posts at `path` to the stream keeping their relative timing at `speed` x (0: at once).

    Each post is re-stamped to the moment it is replayed (so the live chart shows it) and gets the id
    "replay:<tag>:<original id>" with a fresh tag per replay. Bad lines are dead-lettered. Returns the count.
    With `backlog` (the event's budget) the replay waits while the backlog is over it.
    """
    sink = Sink(r, keys, NAME, pressure=Pressure(r, keys, backlog) if backlog else None, stop=stop)
    tag = tag or secrets.token_hex(3)
    sink.state(CONNECTED, f"replaying {Path(path).name} at {speed:g}x" if speed else f"replaying {Path(path).name}")
    start, first_ts, batch, sent = time.time(), None, [], 0
    try:
        with open(path, "rb") as lines:
            for lineno, line in enumerate(lines, 1):
                if stop.is_set():
                    break
                if not line.strip():
                    continue
                try:
                    post = _read(line)
                except InvalidPost as exc:
                    sink.invalid(line, f"{Path(path).name} line {lineno}: {exc.reason}")
                    continue
                first_ts = post.ts if first_ts is None else first_ts
                due = start + max(0.0, post.ts - first_ts) / speed if speed > 0 else start
                if due > time.time() or len(batch) >= BATCH:
                    sent += sink.emit(batch)
                    batch = []
                    if sleep(stop, due - time.time()):
                        break
                batch.append(restamp(post, tag, max(due, time.time()), keep_source))
            sent += sink.emit(batch)
    finally:
        sink.state(STOPPED, f"replayed {sent} posts")
    return sent
