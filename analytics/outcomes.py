"""What a published response did: the replies, quotes and reposts the room's own sources saw (counted from the
posts' references, exactly once with each batch), what the network says when polled (likes too), and the card's
clock from the first post to published. Pure: the store reads and writes, this decides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from analytics.sentiment import NEGATIVE, POSITIVE

# (the post's reference field, what a post with it is to the referenced post)
REFS = (("reply_to", "replies"), ("quote_of", "quotes"), ("repost_of", "reposts"))
SEEN = ("replies", "quotes", "reposts", "positive", "negative")
POLLED = ("likes", "reposts", "replies", "quotes")
ENGAGEMENT = ("replies", "quotes", "reposts", "likes")


def refs(posts: Iterable) -> list[str]:
    """Every post id a batch's posts reply to, quote or repost (what the worker looks up among ours)."""
    out = []
    for p in posts:
        for attr, _ in REFS:
            if ref := getattr(p, attr):
                out.append(ref)
    return out


def count(enriched: Iterable, published: dict[str, str]) -> dict[str, int]:
    """Counts ("<draft id>|<kind>" -> n) of the batch's posts that reference one of our published posts.

    A reply or quote also counts as positive or negative by its sentiment: the conversation a response started is
    its outcome, not only its size. Reposts carry no words of their own."""
    if not published:
        return {}
    out: Counter = Counter()
    for e in enriched:
        p = e.post
        for attr, kind in REFS:
            ref = getattr(p, attr)
            draft = published.get(ref) if ref else None
            if draft is None:
                continue
            out[f"{draft}|{kind}"] += 1
            if kind != "reposts":
                s = e.sentiment or 0.0
                if s >= POSITIVE:
                    out[f"{draft}|positive"] += 1
                elif s <= NEGATIVE:
                    out[f"{draft}|negative"] += 1
    return dict(out)


def seen_by_draft(fields: dict[str, int]) -> dict[str, dict[str, int]]:
    """The store's flat "<draft id>|<kind>" counters as draft id -> {kind: n}."""
    out: dict[str, dict[str, int]] = {}
    for name, n in fields.items():
        draft, _, kind = name.rpartition("|")
        if draft and kind in SEEN:
            out.setdefault(draft, {})[kind] = int(n)
    return out


def merged(seen: dict | None, polled: dict | None) -> dict:
    """One outcome per response: each count is the larger of what the room saw and what the network says (the
    network sees replies the room's filters do not; the room sees posts before a poll), likes from the network.
    `engagement` is their sum; `polled_at` None when the network was never asked."""
    seen, polled = seen or {}, polled or {}
    out = {k: max(int(seen.get(k, 0)), int(polled.get(k) or 0)) for k in ENGAGEMENT}
    out["positive"] = int(seen.get("positive", 0))
    out["negative"] = int(seen.get("negative", 0))
    out["seen"] = {k: int(seen.get(k, 0)) for k in ("replies", "quotes", "reposts")}
    out["engagement"] = sum(out[k] for k in ENGAGEMENT)
    out["polled_at"] = polled.get("at")
    return out


def words(o: dict | None) -> str:
    """An outcome in words ("12 replies (9 positive, 1 negative) · 3 quotes · 40 reposts · 120 likes"), or ""."""
    if not o or not o.get("engagement"):
        return ""
    parts = []
    for kind in ENGAGEMENT:
        n = o.get(kind, 0)
        if not n:
            continue
        label = kind if n != 1 else kind.removesuffix("s").replace("replie", "reply")
        part = f"{n} {label}"
        if kind == "replies" and (o.get("positive") or o.get("negative")):
            part += f" ({o.get('positive', 0)} positive, {o.get('negative', 0)} negative)"
        parts.append(part)
    return " · ".join(parts)


def first_post_at(card: dict) -> float | None:
    """When the conversation the card frames began: its moment (the framed post's arrival, the storyline's first
    post or the chart click)."""
    m = card.get("moment")
    return float(m) if isinstance(m, int | float) else None


def milestones(card: dict, drafts: list[dict]) -> list[tuple[str, float]]:
    """(step, when) for first post, framed, drafted, approved and published: each the first time it happened.

    `drafts` are the card's responses as web/responses.summary gives them (their history and published)."""
    steps: list[tuple[str, float]] = []
    if (t := first_post_at(card)) is not None:
        steps.append(("first post", t))
    if card.get("created_at"):
        steps.append(("framed", float(card["created_at"])))
    drafted = [d["created_at"] for d in drafts if d.get("created_at")]
    if drafted:
        steps.append(("drafted", min(drafted)))
    approved = [_approved_at(d) for d in drafts if d.get("published") or d.get("state") == "approved"]
    if approved := [t for t in approved if t is not None]:
        steps.append(("approved", min(approved)))
    published = [d["published"]["at"] for d in drafts if (d.get("published") or {}).get("at")]
    if published:
        steps.append(("published", min(published)))
    return steps


def _approved_at(d: dict) -> float | None:
    """A fully approved draft's last approval (each step's approval is one "approve" in its history)."""
    times = [h["at"] for h in d.get("history") or [] if h.get("action") == "approve"]
    return max(times) if times else None


def clock_words(steps: list[tuple[str, float]]) -> str:
    """The card's clock in words ("first post → framed 1m 05s → drafted 40s → ..."), each after the one before."""
    if not steps:
        return ""
    parts = [steps[0][0]]
    for (_, before), (name, at) in zip(steps, steps[1:], strict=False):
        parts.append(f"{name} {_span(max(0.0, at - before))}")
    total = steps[-1][1] - steps[0][1]
    return " → ".join(parts) + (f" (total {_span(total)})" if len(steps) > 2 else "")


def _span(s: float) -> str:
    s = int(round(s))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def in_feed(posts: list[dict], published: dict[str, str], outcomes: dict[str, dict]) -> list[dict]:
    """The feed with our own responses marked: a post the room published gets `ours` (its draft and outcome), a
    post that replies to, quotes or reposts one gets `answers` (the draft and how). Posts are copied, not changed
    (the store's feed is shared by every tick)."""
    if not published:
        return posts
    out = []
    for p in posts:
        draft = published.get(p.get("id", ""))
        if draft is not None:
            p = {**p, "ours": {"draft": draft, "outcome": outcomes.get(draft) or {}}}
        else:
            for attr, kind in REFS:
                ref = p.get(attr)
                if ref and (d := published.get(ref)) is not None:
                    p = {**p, "answers": {"draft": d, "kind": kind}}
                    break
        out.append(p)
    return out
