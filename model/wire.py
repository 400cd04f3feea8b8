"""The post as it travels as JSON, checked by msgspec: the fast path of `model.post.parse_post`.

msgspec validates typed structs several times faster than pydantic. It only ever *accepts* here: a payload it
accepts, pydantic accepts with the same values (the structs mirror `model.post`'s constraints, stricter where they
differ); anything else goes to pydantic, which stays the authority and words the reason. Imports nothing of the
project, so `model.post` can use it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct
from msgspec.structs import asdict

MAX_TEXT = 10_000  # model.post.MAX_TEXT
# pydantic's JSON parser refuses nesting deeper than ~200 even in ignored fields, msgspec's only near 1,000:
# payloads with more brackets than any real post has (brackets in strings count too) go to pydantic.
MAX_BRACKETS = 100
# pydantic reads a number as seconds up to 2e10 (milliseconds above); the fast path takes seconds from 0 to there.
MAX_EPOCH_S = 2e10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The one timestamp form whose parse pydantic and `datetime.fromisoformat` agree on; others go to pydantic.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})?")

Source = Literal["x", "bluesky", "mastodon", "reddit", "rss", "webhook", "simulator", "replay"]


class WireAuthor(Struct):
    handle: Annotated[str, Meta(min_length=1, max_length=200)]
    name: Annotated[str, Meta(max_length=200)] = ""
    followers: Annotated[int, Meta(ge=0)] | None = None
    verified: bool = False


class WireEngagement(Struct):
    likes: Annotated[int, Meta(ge=0)] = 0
    reposts: Annotated[int, Meta(ge=0)] = 0
    replies: Annotated[int, Meta(ge=0)] = 0
    quotes: Annotated[int, Meta(ge=0)] = 0


class WirePost(Struct, kw_only=True):  # fields in model.post.Post's order (kw_only: defaults may come first)
    id: Annotated[str, Meta(min_length=3, max_length=300)]
    source: Source
    url: str | None = None
    author: WireAuthor
    text: Annotated[str, Meta(max_length=MAX_TEXT)]
    created_at: str | float
    lang: Annotated[str, Meta(max_length=16)] | None = None
    langs: list[str] = []
    hashtags: list[str] = []
    mentions: list[str] = []
    links: list[str] = []
    reply_to: str | None = None
    repost_of: str | None = None
    quote_of: str | None = None
    engagement: WireEngagement = msgspec.field(default_factory=WireEngagement)
    matched_terms: list[str] = []
    received_at: float | None = None


_DECODER = msgspec.json.Decoder(WirePost)


def fields(raw: bytes | str) -> dict | None:
    """A JSON payload's post fields in `Post`'s order, `author` and `engagement` as dicts; None: let pydantic decide."""
    if isinstance(raw, str):
        raw = raw.encode()
    if raw.count(b"[") + raw.count(b"{") > MAX_BRACKETS:
        return None
    try:
        w = _DECODER.decode(raw)
    except (msgspec.MsgspecError, RecursionError):
        return None
    if (created_at := _datetime(w.created_at)) is None:
        return None
    post = asdict(w)  # shallow: author and engagement are still structs
    post["created_at"] = created_at
    post["author"], post["engagement"] = asdict(w.author), asdict(w.engagement)
    return post


def _datetime(value: str | float) -> datetime | None:
    """`created_at` as pydantic reads it, or None where the two might differ (pydantic then decides)."""
    if isinstance(value, float):
        if not 0 <= value <= MAX_EPOCH_S:
            return None
        # pydantic rounds the microseconds half away from zero (Python's fromtimestamp rounds half to even).
        seconds = int(value)
        x = (value - seconds) * 1e6  # both exact in binary, as in pydantic-core
        micros = int(x) + (x - int(x) >= 0.5)
        return _EPOCH + timedelta(seconds=seconds, microseconds=micros)
    if not _TIMESTAMP.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:  # e.g. month 13: pydantic words the reason
        return None
