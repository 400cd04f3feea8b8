"""Reads over every partition of an event (store/keys.py `parts`): streams read with one cursor per partition,
and hashes summed. With one partition each is the single read it always was."""

from __future__ import annotations

from collections.abc import Callable

import redis

from store.keys import Keys

START = "0-0"


def split_cursor(cursor: str, k: int) -> list[str]:
    """One stream id per partition from "id0|id1|..." (a cursor saved with fewer partitions keeps its ids)."""
    ids = [c or START for c in (cursor or START).split("|")]
    return (ids + [START] * k)[:k]


def join_cursor(ids: list[str]) -> str:
    return "|".join(ids)


def _after(cursor: str) -> str:
    return f"({cursor}" if cursor != START else "-"


def _id(raw: bytes) -> tuple[int, int]:
    ms, _, seq = raw.decode().partition("-")
    return int(ms), int(seq or 0)


def read_after(
    r: redis.Redis, keys: Keys, key_of: Callable[[Keys], str], cursor: str, count: int
) -> tuple[str, list[tuple[bytes, dict]]]:
    """Entries after `cursor` in the stream `key_of(part)` of every partition (at most `count` from each), in
    stream-id order; returns the new cursor and the entries."""
    parts = keys.parts()
    cursors = split_cursor(cursor, len(parts))
    pipe = r.pipeline(transaction=False)
    for part, c in zip(parts, cursors, strict=True):
        pipe.xrange(key_of(part), min=_after(c), count=count)
    moved, entries = [], []
    for c, got in zip(cursors, pipe.execute(), strict=True):
        moved.append(got[-1][0].decode() if got else c)
        entries.extend(got)
    if len(parts) > 1:
        entries.sort(key=lambda e: _id(e[0]))
    return join_cursor(moved), entries


def hgetall_each(r: redis.Redis, keys: Keys, key_of: Callable[[Keys], str]) -> list[dict]:
    """HGETALL of `key_of(part)` for every partition, in one pipeline."""
    pipe = r.pipeline(transaction=False)
    for part in keys.parts():
        pipe.hgetall(key_of(part))
    return pipe.execute()
