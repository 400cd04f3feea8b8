"""Comments on a card (the room's discussion) and the mentions they carry: durable writes with their audit entry.

A comment, its card's count, each mentioned person's mention and unread count, the cards version (screens redraw
the card's "comments · N") and the audit entry land in one MULTI/EXEC; `add` returns once the AOF has them on
disk (WAITAOF), like a card. What a comment says and whom it mentions is decided by web/comments.py.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import orjson
import redis

from store import audit
from store.errors import StoreError
from store.keys import COMMENTS_PER_CARD, MENTIONS_KEPT, Keys

EXCERPT = 200  # characters of the comment a mention keeps (the list shows it; the card has the whole text)


class TooMany(StoreError):
    """The card's discussion is full (COMMENTS_PER_CARD): nothing written."""


def add(
    r: redis.Redis,
    keys: Keys,
    comment: dict,
    audit_entry: dict,
    *,
    card_title: str = "",
    notify: list[str] = (),
) -> dict:
    """Store a comment (`card_id`, `author`, `text`, `mentions`, `groups`; its id and time are given here), tell
    each of `notify` (their mention list and unread count), bump the cards version and append `audit_entry`
    (object and `after` filled in here), all in one transaction; TooMany if the card's discussion is full."""
    now = time.time()
    comment = {**comment, "id": comment.get("id") or secrets.token_hex(6), "at": comment.get("at") or now}
    card_id = comment["card_id"]
    mention = {
        "comment_id": comment["id"],
        "card_id": card_id,
        "card_title": card_title,
        "author": comment["author"],
        "excerpt": comment["text"][:EXCERPT],
        "at": comment["at"],
    }
    item = {**audit_entry, "object_type": "comment", "object_id": comment["id"], "after": comment}
    key = keys.comments(card_id)
    with r.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(key)
                if pipe.llen(key) >= COMMENTS_PER_CARD:
                    raise TooMany(f"this card has {COMMENTS_PER_CARD} comments, the most one card keeps")
                pipe.multi()
                pipe.rpush(key, orjson.dumps(comment))
                pipe.hincrby(keys.comment_counts, card_id, 1)
                for name in notify:
                    pipe.lpush(keys.mentions(name), orjson.dumps(mention))
                    pipe.ltrim(keys.mentions(name), 0, MENTIONS_KEPT - 1)
                    pipe.hincrby(keys.mentions_unread, name, 1)
                pipe.incr(keys.cards_version)
                audit.append(pipe, keys, item)
                pipe.execute()
                break
            except redis.WatchError:
                continue
    return {**comment, "durable": audit.durable(r, keys.audit)}


def for_card(r: redis.Redis, keys: Keys, card_id: str) -> list[dict]:
    """The card's comments, oldest first."""
    return [orjson.loads(v) for v in r.lrange(keys.comments(card_id), 0, -1)]


def counts(r: redis.Redis, keys: Keys) -> dict[str, int]:
    """Card id -> comments on it, for every card with one."""
    return {k.decode(): int(v) for k, v in r.hgetall(keys.comment_counts).items()}


def mentions(r: redis.Redis, keys: Keys, user: str, limit: int = MENTIONS_KEPT) -> list[dict]:
    """The newest mentions of `user`, newest first."""
    return [orjson.loads(v) for v in r.lrange(keys.mentions(user), 0, limit - 1)]


def unread(r: redis.Redis, keys: Keys, user: str) -> int:
    return int(r.hget(keys.mentions_unread, user) or 0)


def mark_read(r: redis.Redis, keys: Keys, user: str, audit_entry: Any) -> int:
    """`user` opened their mentions: the unread count goes to 0 with its audit entry. Returns how many were unread
    (0: nothing written, nothing audited)."""
    with r.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(keys.mentions_unread)
                was = int(pipe.hget(keys.mentions_unread, user) or 0)
                if not was:
                    return 0
                pipe.multi()
                pipe.hdel(keys.mentions_unread, user)
                audit.append(pipe, keys, {**audit_entry, "before": {"unread": was}, "after": {"unread": 0}})
                pipe.execute()
                break
            except redis.WatchError:
                continue
    audit.durable(r, keys.audit)
    return was
