"""Test helpers that stand in for a worker's loop (streams/processor.py `run`) where a test steps it by hand."""

from __future__ import annotations

from store import posts as post_store
from store.keys import Keys


def drain(proc, r, keys: Keys, consumer: str, now: float | None = None) -> int:
    """Hand every entry waiting in every partition to `proc`, batch by batch; returns the entries handed."""
    n = 0
    for part in keys.parts():
        while entries := post_store.read_batch(r, part, consumer, 500, None):
            proc.handle(entries, now=now, keys=part)
            n += len(entries)
    return n
