"""A post's relevance to the brand team, as a score and the reasons that made it.

Cold-start rules from the event's brand profile plus author influence and engagement; every
contribution is named so the feed can show why a post ranks where it does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from analytics.influence import FOLLOWERS_FROM, influence_points
from analytics.numbers import compact

# Hashtag stuffing: more than this many tags on a post that also pushes a link, or more than MAX_TAGS on any.
# Fans tag generously (#SB49 #Seahawks #GoHawks #12s #NFL); a giveaway stuffs tags *and* a link.
MAX_TAGS_WITH_LINK = 4
MAX_TAGS = 10
# A watch-word says something only next to the brand or its context: profile phrases worth this much.
WATCH_CONTEXT = 1.0
SPAM_PHRASES = re.compile(r"\b(click here|free \w+|giveaway|dm me|follow back|promo code|crypto|airdrop)\b", re.I)


@dataclass(frozen=True)
class Signals:
    """What relevance looks at, extracted from one post (pure data)."""

    text: str
    brand: bool = False
    competitors: tuple[str, ...] = ()
    profile_hits: tuple[tuple[str, float], ...] = ()
    watch_words: tuple[str, ...] = ()
    followers: int | None = None  # None: unknown (the network does not say)
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
    return rules(
        text_contributions(brand_name, s.brand, s.competitors, s.profile_hits, s.watch_words),
        s.followers,
        s.reposted,
        s.mentioned,
        s.verified,
        s.engagement,
        s.is_repost,
        s.hashtags,
        looks_spammy(s.text),
        len(s.text) < 15,
        links=s.links,
    )


def rules(
    text_parts: list[tuple[float, str]],
    followers: int | None,
    reposted: int,
    mentioned: int,
    verified: bool,
    engagement: int,
    is_repost: bool,
    hashtags: int,
    spam_phrase: bool,
    short: bool,
    links: int = 0,
) -> list[tuple[float, str]]:
    """The one composition of the rules. The enricher calls it with `text_parts` (and the text's features)
    cached per distinct text; `contributions` computes them from a Signals."""
    return (
        text_parts
        + author_contributions(followers, reposted, mentioned, verified, engagement)
        + form_contributions(is_repost, tag_stuffed(hashtags, links) or spam_phrase, short)
    )


def tag_stuffed(hashtags: int, links: int) -> bool:
    """Hashtags piled on to ride every hot tag: many of them with a link, or very many."""
    return hashtags > MAX_TAGS or (hashtags > MAX_TAGS_WITH_LINK and links > 0)


def engagement(likes: int, reposts: int, replies: int, quotes: int) -> int:
    """Interactions, a repost counting twice (it carries the post further)."""
    return likes + 2 * reposts + replies + quotes


def text_contributions(
    brand_name: str,
    brand: bool,
    competitors: tuple[str, ...],
    profile_hits: tuple[tuple[str, float], ...],
    watch_words: tuple[str, ...],
) -> list[tuple[float, str]]:
    """What the post talks about: the brand, competitors, the brand's profile, watch-words (same for a repeated text).

    A watch-word counts only with the brand or its context (profile phrases worth WATCH_CONTEXT): "kill the
    patriots" or "offensive pass interference" is football, not a threat to the brand.
    """
    out: list[tuple[float, str]] = []
    if brand:
        out.append((3.0, f"mentions {brand_name}"))
    if competitors:
        out.append((1.0, f"mentions {', '.join(competitors[:2])}"))
    if profile_hits:
        pts = min(3.0, sum(w for _, w in profile_hits))
        out.append((pts, "about " + ", ".join(p for p, _ in profile_hits[:3])))
    if watch_words and (brand or sum(w for _, w in profile_hits) >= WATCH_CONTEXT):
        out.append((1.5, f"watch-word '{watch_words[0]}'"))
    return out


def author_contributions(
    followers: int | None, reposted: int, mentioned: int, verified: bool, engagement: int
) -> list[tuple[float, str]]:
    """Who wrote it and how far it went: influence, verification, engagement. Unknown followers add nothing
    (and take nothing away): reach is then judged by resonance alone."""
    out: list[tuple[float, str]] = []
    if (followers or 0) > FOLLOWERS_FROM or reposted > 0 or mentioned > 0:
        points, reason = _influence(followers, reposted, mentioned)
        if points > 0:
            out.append((points, reason))
    if verified:
        out.append((0.5, "verified"))
    if engagement >= 10:
        out.append(_engagement(engagement))
    return out


def form_contributions(is_repost: bool, spammy: bool, short: bool) -> list[tuple[float, str]]:
    """Penalties for the post's form: a repost, spam-looking, very short."""
    out: list[tuple[float, str]] = []
    if is_repost:
        out.append((-1.5, "repost"))
    if spammy:
        out.append((-2.5, "looks like spam"))
    if short:
        out.append((-0.5, "very short"))
    return out


def looks_spammy(text: str) -> bool:
    return SPAM_PHRASES.search(text) is not None


@lru_cache(maxsize=65_536)
def _influence(followers: int | None, reposted: int, mentioned: int) -> tuple[float, str]:
    return influence_points(followers, reposted, mentioned)


@lru_cache(maxsize=4_096)
def _engagement(engagement: int) -> tuple[float, str]:
    return min(2.5, 0.5 * math.log10(engagement)), f"{compact(engagement)} engagements"


def score(s: Signals, brand_name: str, extra: list[tuple[float, str]] | None = None) -> Scored:
    """Sum of contributions (plus any `extra`, e.g. a learned model's), reasons by weight."""
    return score_parts(contributions(s, brand_name) + (extra or []))


def score_parts(parts: list[tuple[float, str]]) -> Scored:
    """Sum of (points, reason) parts in their order, and the three weightiest reasons."""
    if not parts:
        return Scored(0, [])
    total = sum(p for p, _ in parts)
    ranked = sorted(parts, key=_weight, reverse=True) if len(parts) > 1 else parts
    return Scored(round(total, 3), [f"{r} ({p:+.1f})" for p, r in ranked[:3]])


def _weight(part: tuple[float, str]) -> float:
    return abs(part[0])
