"""A post's relevance to the brand team, as a score and the reasons that made it.

Cold-start rules from the event's brand profile plus author influence and engagement; every
contribution is named so the feed can show why a post ranks where it does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from analytics.influence import influence_points
from analytics.numbers import humanize

SPAM_PHRASES = re.compile(r"\b(click here|free \w+|giveaway|dm me|follow back|promo code|crypto|airdrop)\b", re.I)

# Seconds of recency worth one point of relevance in the feed's "hot" order.
HOT_TAU_S = 300.0


@dataclass(frozen=True)
class Signals:
    """What relevance looks at, extracted from one post (pure data)."""

    text: str
    brand: bool = False
    competitors: tuple[str, ...] = ()
    profile_hits: tuple[tuple[str, float], ...] = ()
    watch_words: tuple[str, ...] = ()
    followers: int = 0
    reposted: int = 0  # times this author was reposted recently (resonance, not just reach)
    mentioned: int = 0  # times this author was @-mentioned recently
    verified: bool = False
    engagement: int = 0
    is_repost: bool = False
    is_reply: bool = False
    hashtags: int = 0
    links: int = 0


@dataclass
class Scored:
    score: float
    reasons: list[str] = field(default_factory=list)


def contributions(s: Signals, brand_name: str) -> list[tuple[float, str]]:
    """Each (points, reason) that applies to the post."""
    out: list[tuple[float, str]] = []
    if s.brand:
        out.append((3.0, f"mentions {brand_name}"))
    if s.competitors:
        out.append((1.0, f"mentions {', '.join(s.competitors[:2])}"))
    if s.profile_hits:
        pts = min(3.0, sum(w for _, w in s.profile_hits))
        out.append((pts, "about " + ", ".join(p for p, _ in s.profile_hits[:3])))
    if s.watch_words:
        out.append((1.5, f"watch-word '{s.watch_words[0]}'"))
    points, reason = influence_points(s.followers, s.reposted, s.mentioned)
    if points > 0:
        out.append((points, reason))
    if s.verified:
        out.append((0.5, "verified"))
    if s.engagement >= 10:
        out.append((min(2.5, 0.5 * math.log10(s.engagement)), f"{humanize(s.engagement)} engagements"))
    if s.is_repost:
        out.append((-1.5, "repost"))
    if s.hashtags > 4 or SPAM_PHRASES.search(s.text):
        out.append((-2.5, "looks like spam"))
    if len(s.text) < 15:
        out.append((-0.5, "very short"))
    return out


def score(s: Signals, brand_name: str, extra: list[tuple[float, str]] | None = None) -> Scored:
    """Sum of contributions (plus any `extra`, e.g. a learned model's), reasons by weight."""
    parts = contributions(s, brand_name) + (extra or [])
    total = sum(p for p, _ in parts)
    ranked = sorted(parts, key=lambda p: abs(p[0]), reverse=True)
    return Scored(round(total, 3), [f"{r} ({p:+.1f})" for p, r in ranked[:3]])


def hot(relevance: float, at: float) -> float:
    """Feed order: relevance plus recency, so newer posts of equal relevance rank higher."""
    return relevance + at / HOT_TAU_S
