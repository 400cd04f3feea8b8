"""Each network's own way of counting a post's length, and Bluesky's rich-text facets. Pure.

- X: weighted length (twitter-text 3: most CJK and emoji weigh 2, every URL 23), limit 280.
- Bluesky: grapheme clusters, limit 300; links, mentions and hashtags are facets with UTF-8 byte offsets.
- Mastodon: grapheme clusters (as its StatusLengthValidator counts), limit 500; every http(s) URL counts 23
  and a mention @user@domain counts as @user.
"""

from __future__ import annotations

from collections.abc import Callable

import regex

LIMITS = {"x": 280, "bluesky": 300, "mastodon": 500}
URL_LENGTH = 23  # X and Mastodon count every link as this many characters

# A link with a scheme; trailing punctuation is not part of it (".", ",", ")" after a link end the sentence).
URL = regex.compile(r"https?://[^\s<>\"]+", regex.IGNORECASE)
_TRAILING = ".,;:!?'\""
# @handle (Bluesky: a domain name), @user@domain (Mastodon): not preceded by a word character (emails).
MENTION = regex.compile(
    r"(?<![\w@/])@([a-zA-Z0-9_](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9_])?)(?:@([a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+))?"
)
HASHTAG = regex.compile(r"(?<![\w#&])[#＃]([^\s#＃\p{P}]*[^\d\s#＃\p{P}][^\s#＃\p{P}]*)")
_BSKY_HANDLE = regex.compile(
    r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)+$"
)


def urls(text: str) -> list[tuple[int, int, str]]:
    """(start, end, url) in code-point offsets, trailing punctuation and an unbalanced ')' left out."""
    out = []
    for m in URL.finditer(text):
        url = m.group(0).rstrip(_TRAILING)
        while url.endswith(")") and url.count("(") < url.count(")"):
            url = url[:-1].rstrip(_TRAILING)
        out.append((m.start(), m.start() + len(url), url))
    return out


def mentions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, handle without '@') for every @mention; @user@domain keeps its domain."""
    link_spans = [(s, e) for s, e, _ in urls(text)]
    out = []
    for m in MENTION.finditer(text):
        if any(s <= m.start() < e for s, e in link_spans):
            continue
        handle = m.group(1) + (f"@{m.group(2)}" if m.group(2) else "")
        out.append((m.start(), m.end(), handle))
    return out


def hashtags(text: str) -> list[tuple[int, int, str]]:
    """(start, end, tag without '#'); a tag is at most 64 characters and not only digits."""
    link_spans = [(s, e) for s, e, _ in urls(text)]
    return [
        (m.start(), m.end(), m.group(1))
        for m in HASHTAG.finditer(text)
        if len(m.group(1)) <= 64 and not any(s <= m.start() < e for s, e in link_spans)
    ]


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def x_length(text: str) -> int:
    """X's weighted length (twitter-text v3 configuration)."""
    from twitter_text import parse_tweet  # a second to import (its emoji tables): only when X text is measured

    return parse_tweet(text).weightedLength


def bluesky_length(text: str) -> int:
    return graphemes(text)


def mastodon_length(text: str) -> int:
    """Mastodon's count: links are 23 characters, @user@domain counts as @user, the rest in graphemes."""
    spans = [(s, e, "x" * URL_LENGTH) for s, e, _ in urls(text)]
    spans += [(s, e, "@" + h.split("@")[0]) for s, e, h in mentions(text)]
    spans.sort()
    out, at = [], 0
    for s, e, replacement in spans:
        if s < at:
            continue  # overlapping entity: the first one wins
        out += [text[at:s], replacement]
        at = e
    out.append(text[at:])
    return graphemes("".join(out))


COUNTERS = {"x": x_length, "bluesky": bluesky_length, "mastodon": mastodon_length}


def length(network: str, text: str) -> int:
    return COUNTERS[network](text)


def over_limit(network: str, text: str) -> int:
    """How many (network-counted) characters must go; 0 when the text fits."""
    return max(0, length(network, text) - LIMITS[network])


def _byte(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def bluesky_facets(text: str, resolve: Callable[[str], str | None] | None = None) -> list[dict]:
    """app.bsky.richtext.facet records for links, hashtags and mentions (byteStart/byteEnd in UTF-8).

    A mention needs the account's DID: `resolve(handle)` returns it, or None to leave the mention as plain text
    (as does a handle that is not a domain name)."""
    facets = []

    def add(start: int, end: int, feature: dict) -> None:
        facets.append(
            {
                "$type": "app.bsky.richtext.facet",
                "index": {"byteStart": _byte(text, start), "byteEnd": _byte(text, end)},
                "features": [feature],
            }
        )

    for s, e, url in urls(text):
        add(s, e, {"$type": "app.bsky.richtext.facet#link", "uri": url})
    for s, e, handle in mentions(text):
        if resolve is None or "@" in handle or not _BSKY_HANDLE.match(handle):
            continue
        did = resolve(handle.lower())
        if did:
            add(s, e, {"$type": "app.bsky.richtext.facet#mention", "did": did})
    for s, e, tag in hashtags(text):
        add(s, e, {"$type": "app.bsky.richtext.facet#tag", "tag": tag})
    facets.sort(key=lambda f: f["index"]["byteStart"])
    return facets
