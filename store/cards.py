"""Framing cards (opportunities and threats): durable writes the whole room sees at once."""

from __future__ import annotations

import logging
import secrets
import time

import orjson
import redis

from store.errors import NotFound
from store.keys import Keys

logger = logging.getLogger(__name__)

DURABLE_TIMEOUT_MS = 2000


def save(r: redis.Redis, keys: Keys, card: dict) -> dict:
    """Create or update a card; returns once the AOF holds it on disk (WAITAOF), so `kill -9` cannot lose it."""
    now = time.time()
    card = {**card, "updated_at": now}
    card.setdefault("id", secrets.token_hex(6))
    card.setdefault("created_at", now)
    pipe = r.pipeline(transaction=True)
    pipe.hset(keys.cards, card["id"], orjson.dumps(card))
    pipe.incr(keys.cards_version)
    pipe.execute()
    card["durable"] = _fsync(r)
    return card


def _fsync(r: redis.Redis) -> bool:
    """Wait for the local AOF fsync. A server without WAITAOF (Redis < 7.2) still has AOF everysec."""
    try:
        local, _ = r.execute_command("WAITAOF", 1, 0, DURABLE_TIMEOUT_MS)
        return int(local) >= 1
    except redis.ResponseError as exc:
        logger.warning("WAITAOF unavailable (%s): card saved with the server's own fsync policy", exc)
        return False


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
