"""Framing cards (opportunities and threats): durable writes the whole room sees at once."""

from __future__ import annotations

import secrets
import time

import orjson
import redis

from store import audit
from store.errors import NotFound
from store.keys import Keys


def save(r: redis.Redis, keys: Keys, card: dict, audit_entry: dict) -> dict:
    """Create or update a card with its audit entry in one MULTI/EXEC; returns once the AOF holds both on disk
    (WAITAOF), so `kill -9` cannot lose either.

    `audit_entry` is `store.audit.entry(who, "card.create" | "card.move" | ..., "card", "", before=...)`: its
    object id and `after` are filled in here with the card as stored (a new card gets its id here).
    """
    now = time.time()
    card = {**card, "updated_at": now}
    card.setdefault("id", secrets.token_hex(6))
    card.setdefault("created_at", now)
    item = {**audit_entry, "object_type": "card", "object_id": card["id"], "after": card}
    pipe = r.pipeline(transaction=True)
    pipe.hset(keys.cards, card["id"], orjson.dumps(card))
    pipe.incr(keys.cards_version)
    audit.append(pipe, keys, item)
    pipe.execute()
    card["durable"] = audit.durable(r, keys.audit)
    return card


def get(r: redis.Redis, keys: Keys, card_id: str) -> dict:
    raw = r.hget(keys.cards, card_id)
    if raw is None:
        raise NotFound(f"card {card_id!r} does not exist")
    return orjson.loads(raw)


def all_cards(r: redis.Redis, keys: Keys) -> list[dict]:
    items = [orjson.loads(v) for v in r.hvals(keys.cards)]
    items.sort(key=lambda c: c["created_at"], reverse=True)
    return items


def version(r: redis.Redis, keys: Keys) -> int:
    return int(r.get(keys.cards_version) or 0)
