"""The feed: which enriched posts enter it and in what order (pure; the store writes the result)."""

from __future__ import annotations

import math

from model.enriched import FEED_ALL, Enriched, FeedWrite

# Seconds of recency worth one point of relevance in the feed's "hot" order.
HOT_TAU_S = 300.0


def hot(relevance: float, at: float) -> float:
    """Feed order: relevance plus recency, so newer posts of equal relevance rank higher."""
    return relevance + at / HOT_TAU_S


def admits(e: Enriched, min_score: float) -> bool:
    """Relevant enough, the first of its near-duplicates (the rest show as "+N similar"), and not spam."""
    return e.score >= min_score and e.first and not e.spam


def admit(posts: list[Enriched], floors: dict[str, float], min_score: float) -> FeedWrite:
    """The posts that rank above the lowest entry of a full feed (`floors`: feed -> lowest rank, -inf if room)."""
    out = FeedWrite()
    for e in posts:
        if not admits(e, min_score):
            continue
        rank = hot(e.score, e.at)
        for name in (FEED_ALL, e.post.source):
            if rank > floors.get(name, -math.inf):
                out.ranks.setdefault(name, {})[e.post.id] = rank
                if e.post.id not in out.bodies:
                    out.bodies[e.post.id] = e.body()
                    out.folds.append(e.fold)
    return out
