"""Relevance marks from strategists and the learned model every worker shares."""

from __future__ import annotations

import time

import orjson
import redis

from analytics.learning import RelevanceModel
from store import audit, models
from store.keys import MARKS_MAXLEN, Keys


def add_mark(r: redis.Redis, keys: Keys, post: dict, relevant: bool, user: str, audit_entry: dict) -> None:
    """Record a mark and show its effect at once: a "not relevant" post leaves the feed, a relevant one rises.

    `audit_entry` (store.audit.entry(who, "post.mark", "post", post id, after=...)) is written in the same
    MULTI/EXEC, then WAITAOF: the mark and its audit entry land together."""
    pipe = r.pipeline(transaction=True)
    pipe.xadd(
        keys.marks,
        {"post": orjson.dumps(post), "label": int(relevant), "by": user, "at": time.time()},
        maxlen=MARKS_MAXLEN,
        approximate=True,
    )
    if relevant:
        pipe.zincrby(keys.feed, 2.0, post["id"])
    else:
        pipe.zrem(keys.feed, post["id"])
        pipe.zrem(keys.feed_source(post.get("source", "")), post["id"])
    audit.append(pipe, keys, audit_entry)
    pipe.execute()
    audit.durable(r, keys.audit)


def read_marks(r: redis.Redis, keys: Keys, after: str, count: int = 500) -> tuple[str, list[dict], list[int]]:
    entries = r.xrange(keys.marks, min=f"({after}" if after != "0-0" else "-", count=count)
    if not entries:
        return after, [], []
    posts = [orjson.loads(f[b"post"]) for _, f in entries]
    labels = [int(f[b"label"]) for _, f in entries]
    return entries[-1][0].decode(), posts, labels


def marks_count(r: redis.Redis, keys: Keys) -> int:
    return r.xlen(keys.marks)


def save_model(r: redis.Redis, keys: Keys, model: RelevanceModel, cursor: str) -> int:
    return models.save(r, keys.model, keys.model_version, model.to_bytes(), cursor)


def load_model(r: redis.Redis, keys: Keys) -> RelevanceModel | None:
    return models.load(r, keys.model, RelevanceModel.from_bytes, "relevance model")


def load_cursor(r: redis.Redis, keys: Keys) -> str:
    return models.cursor(r, keys.model)


def version(r: redis.Redis, keys: Keys) -> int:
    return models.version(r, keys.model_version)
