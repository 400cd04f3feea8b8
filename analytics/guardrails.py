"""Brand guardrails: what a framed response must not say before it can be approved, and what to change.

`violations` is the original banned-phrase check (the card workflow uses it). `check(draft, context, rules)` is the
full set for response drafts: each `Finding` names the rule, the words, what to change, and whether it blocks
approval ("block") or is a warning the approvers see ("warn"). Pure apart from VADER's lexicon, loaded once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from publish import text as counting

BLOCK = "block"
WARN = "warn"
NETWORK_NAMES = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon"}


def violations(text: str, banned_phrases: list[str]) -> list[str]:
    """The banned phrases a draft contains (whole words, any case)."""
    found = []
    for phrase in banned_phrases:
        if re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", text.lower()):
            found.append(phrase)
    return found


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # BLOCK or WARN
    words: tuple[str, ...]
    message: str  # what to change, for the card


@dataclass(frozen=True)
class Rules:
    """What the event file says a response must respect (build it with `rules_for(event)`)."""

    banned_phrases: tuple[str, ...] = ()
    topics_to_avoid: tuple[str, ...] = ()
    competitors: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, phrases that name it)
    allowed_domains: tuple[str, ...] = ()  # empty: links are not restricted
    sensitive_words: tuple[str, ...] = ()
    watch_words: tuple[str, ...] = ()
    own_handles: tuple[str, ...] = ()
    all_caps_words: int = 3
    negative_tone: float = -0.05
    sensitive_group: str = "legal"


@dataclass(frozen=True)
class Context:
    """The moment a draft answers: handles in the framed conversation, and what the room has open right now."""

    conversation: tuple[str, ...] = ()  # the framed post's author and the accounts it mentions
    open_alerts: tuple[dict, ...] = ()  # alerts not acknowledged (title, subject, detail)
    storylines: tuple[dict, ...] = ()  # current storylines (label: list of terms)
    extra: dict = field(default_factory=dict)


def rules_for(event) -> Rules:
    """Rules from an EventConfig: guardrails, publishing, competitors and alert watch-words."""
    pub = event.publishing
    return Rules(
        banned_phrases=tuple(event.guardrails.banned_phrases),
        topics_to_avoid=tuple(pub.topics_to_avoid),
        competitors=tuple(
            (w.name, tuple(dict.fromkeys([w.name.lower(), *(k.lstrip("#@") for k in w.keywords)])))
            for w in event.competitors
        ),
        allowed_domains=tuple(pub.allowed_domains),
        sensitive_words=tuple(pub.sensitive_words),
        watch_words=tuple(w.lower() for w in event.alerts.watch_words),
        own_handles=tuple(h.lstrip("@").lower() for h in event.brand.handles),
        all_caps_words=pub.all_caps_words,
        negative_tone=pub.negative_tone,
        sensitive_group=pub.approvals.sensitive_group,
    )


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", text.lower()) is not None


def _quote(words) -> str:
    return ", ".join(f"“{w}”" for w in words)


def sensitive_moment(context: Context, rules: Rules) -> tuple[str, ...]:
    """The sensitive words (injury, safety, tragedy … or an alert watch-word) in what is open right now."""
    words = set(rules.sensitive_words) | set(rules.watch_words)
    found: list[str] = []
    for alert in context.open_alerts:
        if alert.get("acked_by"):
            continue
        if alert.get("kind") == "watch_word" and alert.get("subject"):
            found.append(str(alert["subject"]).lower())
        blob = " ".join(str(alert.get(k) or "") for k in ("title", "subject", "detail"))
        found += [w for w in words if _has(blob, w)]
    for line in context.storylines:
        blob = " ".join(line.get("label") or [])
        found += [w for w in words if _has(blob, w)]
    return tuple(dict.fromkeys(sorted(found)))


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def _plain_words(text: str) -> list[str]:
    """Words outside links, @mentions and #hashtags."""
    spans = [(s, e) for s, e, _ in counting.urls(text) + counting.mentions(text) + counting.hashtags(text)]
    keep = "".join(" " if any(s <= i < e for s, e in spans) else ch for i, ch in enumerate(text))
    return re.findall(r"[^\W\d_][\w'’-]*", keep)


def _host_allowed(url: str, allowed: tuple[str, ...]) -> bool:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in allowed)


def check(draft: dict, context: Context, rules: Rules) -> list[Finding]:
    """Every guardrail the draft breaks, blocking findings first. An empty list: nothing to change."""
    text = draft["text"]
    network = draft["network"]
    tags = set((draft.get("template") or {}).get("tags") or [])
    out: list[Finding] = []

    if banned := violations(text, list(rules.banned_phrases)):
        out.append(Finding("banned_phrase", BLOCK, tuple(banned), f"Remove {_quote(banned)}: banned for this event."))
    if topics := [t for t in rules.topics_to_avoid if _has(text, t)]:
        out.append(Finding("topic", BLOCK, tuple(topics), f"Leave out {_quote(topics)}: a topic to avoid today."))
    over = counting.over_limit(network, text)
    if over:
        limit = counting.LIMITS[network]
        how = {"x": " (links count 23, most emoji and CJK 2)", "mastodon": " (links count 23)"}.get(network, "")
        out.append(
            Finding(
                "length",
                BLOCK,
                (),
                f"Cut {over} character{'s' * (over != 1)}: {NETWORK_NAMES[network]} allows {limit}{how}.",
            )
        )
    if rules.allowed_domains:
        links = [u for _, _, u in counting.urls(text)]
        bad = [u for u in links if not _host_allowed(u, rules.allowed_domains)]
        if bad:
            out.append(
                Finding(
                    "link_domain",
                    BLOCK,
                    tuple(bad),
                    f"Link only to {', '.join(rules.allowed_domains)}: change or remove {_quote(bad)}.",
                )
            )
        image_url = (draft.get("image") or {}).get("url")
        if image_url and not _host_allowed(image_url, rules.allowed_domains):
            out.append(
                Finding(
                    "image_domain",
                    BLOCK,
                    (image_url,),
                    f"Use an image from {', '.join(rules.allowed_domains)} (the allowed domains, as for links): "
                    f"change or remove {_quote([image_url])}.",
                )
            )
    lock = sensitive_moment(context, rules)
    if lock and "playful" in tags:
        out.append(
            Finding(
                "sensitive_moment",
                WARN,
                lock,
                f"Sensitive moment ({', '.join(lock)} open): a playful template needs {rules.sensitive_group} "
                "approval; consider a plainer response.",
            )
        )
    rivals = [(name, [p for p in phrases if _has(text, p)]) for name, phrases in rules.competitors]
    if named := [(n, ps) for n, ps in rivals if ps]:
        words = tuple(p for _, ps in named for p in ps)
        names = ", ".join(n for n, _ in named)
        out.append(Finding("competitor", WARN, words, f"Names {names} ({_quote(words)}): make sure that is meant."))
    caps = [w for w in _plain_words(text) if len([c for c in w if c.isalpha()]) >= 2 and w.upper() == w]
    if len(caps) >= rules.all_caps_words:
        out.append(Finding("all_caps", WARN, tuple(caps), f"Lower-case {_quote(caps)}: ALL CAPS reads as shouting."))
    compound = _vader().polarity_scores(text)["compound"]
    if compound <= rules.negative_tone:
        lexicon = _vader().lexicon
        negative = [w for w in _plain_words(text) if lexicon.get(w.lower(), 0) < 0]
        out.append(
            Finding(
                "negative_tone",
                WARN,
                tuple(negative),
                f"Reads negative (tone {compound:+.2f})"
                + (f": reconsider {_quote(negative)}." if negative else ": soften the wording."),
            )
        )
    known = {h.lower().lstrip("@") for h in context.conversation} | set(rules.own_handles)
    known |= {h.split("@")[0] for h in known}
    strangers = [
        "@" + h
        for _, _, h in counting.mentions(text)
        if h.lower() not in known and h.lower().split("@")[0] not in known
    ]
    if strangers:
        out.append(
            Finding(
                "mention",
                WARN,
                tuple(strangers),
                f"{_quote(strangers)} {'is' if len(strangers) == 1 else 'are'} not in the framed conversation: "
                "tagging outsiders pulls them in.",
            )
        )
    image = draft.get("image") or {}
    if image.get("url") and not image.get("alt"):
        out.append(Finding("alt_text", WARN, (), "Describe the image (alt text) for people who cannot see it."))
    out.sort(key=lambda f: f.severity != BLOCK)
    return out


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == BLOCK]
