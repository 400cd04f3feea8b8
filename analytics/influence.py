"""Author influence from reach (followers) and resonance (how often reposted and mentioned), Cha et al. 2010."""

from __future__ import annotations

import logging
import math
import re

from analytics.numbers import compact

logger = logging.getLogger(__name__)

# Cha, Haddadi, Benevenuto, Gummadi (ICWSM 2010): followers, retweets and mentions rank authors
# differently; a big audience alone says little about whether anyone passes the author's posts on.
FOLLOWERS_FROM = 1_000  # below this, followers add nothing
FOLLOWER_WEIGHT, FOLLOWER_CAP = 0.5, 2.0  # per decade above 1k: 100k -> 1.0, 10M -> 2.0
REPOST_WEIGHT, REPOST_CAP = 0.6, 1.5  # per decade of reposts: 10x -> 0.6, 316x -> 1.5
MENTION_WEIGHT, MENTION_CAP = 0.5, 1.0  # per decade of mentions: 10x -> 0.5, 100x -> 1.0
MAX_POINTS = FOLLOWER_CAP + REPOST_CAP + MENTION_CAP

_RT = re.compile(r"^\s*RT\s+@([\w.\-]+?)\s*:", re.IGNORECASE)
_AT_URI = re.compile(r"^at://([^/]+)/")


def _decades(n: float, weight: float, cap: float) -> float:
    return min(cap, weight * math.log10(1.0 + max(n, 0.0)))


def influence_points(followers: int | None, reposted: int, mentioned: int) -> tuple[float, str]:
    """(points 0 .. MAX_POINTS, reason like "2.1M followers, reposted 340x") for an author.

    `followers=None` (unknown: Bluesky, Reddit, webhooks) scores on resonance alone, never as "0 followers".
    """
    parts: list[str] = []
    points = 0.0
    if followers is not None and followers > FOLLOWERS_FROM:
        points += min(FOLLOWER_CAP, FOLLOWER_WEIGHT * math.log10(followers / FOLLOWERS_FROM))
        parts.append(f"{compact(followers)} followers")
    if reposted > 0:
        points += _decades(reposted, REPOST_WEIGHT, REPOST_CAP)
        parts.append(f"reposted {compact(reposted)}x")
    if mentioned > 0:
        points += _decades(mentioned, MENTION_WEIGHT, MENTION_CAP)
        parts.append(f"mentioned {compact(mentioned)}x")
    return round(points, 3), ", ".join(parts)


def reposted_handle(text: str, repost_of: str | None) -> str | None:
    """The original author of a repost: "RT @handle: ..." text, else the DID of a Bluesky at:// repost_of."""
    m = _RT.match(text)
    if m:
        return m.group(1).lower()
    if repost_of:
        at = _AT_URI.match(repost_of)
        return at.group(1) if at else None
    return None
