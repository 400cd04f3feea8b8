"""Hashtags, mentions and links pulled out of post text (for sources that do not send them), and link-like text."""

from __future__ import annotations

import re

HASHTAG = re.compile(r"(?<![\w&])#(\w{1,100})", re.UNICODE)
MENTION = re.compile(r"(?<![\w@])@(\w{1,50}(?:\.[\w-]+)*)", re.UNICODE)
LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
# Anything link-like (www. too), removed from a text before its words are compared, folded or learned from.
URL_LIKE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


def hashtags(text: str) -> list[str]:
    return list(dict.fromkeys(t.lower() for t in HASHTAG.findall(text)))


def mentions(text: str) -> list[str]:
    return list(dict.fromkeys(m.lower() for m in MENTION.findall(text)))


def links(text: str) -> list[str]:
    return list(dict.fromkeys(u.rstrip(".,;:!?)") for u in LINK.findall(text)))
