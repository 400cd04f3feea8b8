"""Learned models kept in Redis (relevance, sentiment, care): the model's bytes with the cursor of what it has
learned up to, and a version counter that workers poll to know when to load it again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import redis

logger = logging.getLogger(__name__)

M = TypeVar("M")


def save(r: redis.Redis, key: str, version_key: str, data: bytes, cursor: str) -> int:
    """Store the model and its cursor together, bump the version; returns the new version."""
    pipe = r.pipeline(transaction=True)
    pipe.hset(key, mapping={"model": data, "cursor": cursor})
    pipe.incr(version_key)
    return pipe.execute()[-1]


def decode(raw: bytes | None, from_bytes: Callable[[bytes], M], what: str) -> M | None:
    """The model from its stored bytes; None (logged, the caller falls back to its rules) when unreadable."""
    if not raw:
        return None
    try:
        return from_bytes(raw)
    except ValueError as exc:  # InvalidModel and its kin
        logger.warning("stored %s unreadable (%s); using the rules alone", what, exc)
        return None


def load(r: redis.Redis, key: str, from_bytes: Callable[[bytes], M], what: str) -> M | None:
    return decode(r.hget(key, "model"), from_bytes, what)


def cursor(r: redis.Redis, key: str) -> str:
    raw = r.hget(key, "cursor")
    return raw.decode() if raw else "0-0"


def version(r: redis.Redis, version_key: str) -> int:
    return int(r.get(version_key) or 0)
