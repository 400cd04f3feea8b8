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
    MULTI/EXEC, then WAITAOF: the mark and its audit entry land together. The feed is the post's partition's: in
    the same transaction when that is the event's slot, else right after it (a crash in between loses the feed's
    change, never the mark)."""
    pipe = r.pipeline(transaction=True)
    pipe.xadd(
        keys.marks,
        {"post": orjson.dumps(post), "label": int(relevant), "by": user, "at": time.time()},
        maxlen=MARKS_MAXLEN,
        approximate=True,
    )
    part = keys.part_of(post["id"])
    same_slot = part.partition_tag == keys.tag
    if same_slot:
        _show(pipe, part, post, relevant)
    audit.append(pipe, keys, audit_entry)
    pipe.execute()
    if not same_slot:
        after = r.pipeline(transaction=False)
        _show(after, part, post, relevant)
        after.execute()
    audit.durable(r, keys.audit)


def _show(pipe: redis.client.Pipeline, part: Keys, post: dict, relevant: bool) -> None:
    if relevant:
        pipe.zincrby(part.feed, 2.0, post["id"])
    else:
        pipe.zrem(part.feed, post["id"])
        pipe.zrem(part.feed_source(post.get("source", "")), post["id"])


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
