"""Text as the sources hand it over, made plain once at the boundary: HTML entities decoded, Unicode composed,
hashtags / mentions / links found in the text whatever the network declared. Pure; imports nothing of the project.
"""

from __future__ import annotations

import html
import re
import unicodedata

# The "#" before the lookbehind: a pattern that starts with a literal is searched for it, not tried everywhere.
HASHTAG = re.compile(r"#(?<![\w&]#)(\w{1,100})", re.UNICODE)
MENTION = re.compile(r"(?<![\w@])@(\w{1,50}(?:\.[\w-]+)*)", re.UNICODE)
LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
# Anything link-like (www. too), removed from a text before its words are compared, folded or learned from.
URL_LIKE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z]{2,8});")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200e\u200f\u2060\ufeff"))  # zero-width, marks, BOM (not ZWJ)


def hashtags(text: str) -> list[str]:
    return list(dict.fromkeys(t.lower() for t in HASHTAG.findall(text)))


def mentions(text: str) -> list[str]:
    return list(dict.fromkeys(m.lower() for m in MENTION.findall(text)))


def links(text: str) -> list[str]:
    return list(dict.fromkeys(u.rstrip(".,;:!?)") for u in LINK.findall(text)))


def plain(text: str, *, entities: bool = True) -> str:
    """What a person wrote: `&amp;` `&lt;` `&gt;` (as X and Reddit send them) decoded once, NFC, no zero-widths.

    `entities=False` for text that is already plain (decoding it again would turn a literal "&lt;" into "<").
    """
    if entities and "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    return text


def merged(declared: list | None, found: list[str]) -> list[str]:
    """The network's own list first, then what the text adds (case-insensitive, no repeats)."""
    out: dict[str, str] = {}
    for item in [*(declared or []), *found]:
        if isinstance(item, str) and item.strip("#@"):
            out.setdefault(item.lower().lstrip("#@"), item)
    return list(out.values())
