"""The one normalized post every source produces and every stage reads."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from model import wire
from model.text import hashtags, links, mentions, merged, plain

SOURCES = ("x", "bluesky", "mastodon", "reddit", "rss", "webhook", "simulator", "replay")
Source = Literal["x", "bluesky", "mastodon", "reddit", "rss", "webhook", "simulator", "replay"]

MAX_TEXT = 10_000
_SAFE_URL = re.compile(r"^https?://", re.IGNORECASE)


class InvalidPost(ValueError):
    """A payload that cannot become a Post; `reason` says why in one line."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Author(BaseModel):
    model_config = ConfigDict(extra="ignore")

    handle: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=200)
    # None: the network does not say (Bluesky, Reddit, most webhooks). Unknown is not "nobody follows them".
    followers: int | None = Field(default=None, ge=0)
    verified: bool = False


class Engagement(BaseModel):
    model_config = ConfigDict(extra="ignore")

    likes: int = Field(default=0, ge=0)
    reposts: int = Field(default=0, ge=0)
    replies: int = Field(default=0, ge=0)
    quotes: int = Field(default=0, ge=0)


class Post(BaseModel):
    """A post from any network. `id` is globally unique: "<source>:<native id>"."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=3, max_length=300)
    source: Source
    url: str | None = None
    author: Author
    text: str = Field(max_length=MAX_TEXT)
    created_at: datetime
    lang: str | None = Field(default=None, max_length=16)  # the first (main) language
    langs: list[str] = []  # every language the network declared, `lang` first
    hashtags: list[str] = []
    mentions: list[str] = []
    links: list[str] = []
    reply_to: str | None = None
    repost_of: str | None = None
    quote_of: str | None = None
    engagement: Engagement = Engagement()
    matched_terms: list[str] = []
    # Set by the sink when the post enters the pipeline (epoch seconds): freshness is measured from it.
    received_at: float | None = None

    @model_validator(mode="after")
    def _normalise(self) -> Post:
        # One Python call per post instead of one per field (this runs for every post the pipeline reads).
        _normalise(self.__dict__)
        return self

    @property
    def ts(self) -> float:
        return self.created_at.timestamp()

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json", exclude_none=True))


def _normalise(d: dict) -> None:
    """What every Post holds once validated, applied in place to its field dict (pydantic's and the fast path's)."""
    at = d["created_at"]
    try:
        d["created_at"] = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except (OverflowError, ValueError):  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError("created_at is out of range once converted to UTC") from None
    url = d["url"]
    if url is not None and not _SAFE_URL.match(url):
        d["url"] = None  # a javascript: or data: link must never become clickable on a screen
    if links := d["links"]:
        d["links"] = [u for u in links if _SAFE_URL.match(u)][:20]
    if tags := d["hashtags"]:
        d["hashtags"] = list(dict.fromkeys(t.lower().lstrip("#") for t in tags if t.strip("#")))[:30]
    if langs := d["langs"]:
        d["langs"] = [x[:16] for x in dict.fromkeys(x for x in langs if isinstance(x, str) and x)][:8]
    if mentions := d["mentions"]:
        d["mentions"] = list(dict.fromkeys(m.lower().lstrip("@") for m in mentions if m.strip("@")))[:30]


def source_post(data: dict, *, entities: bool = True, find_mentions: bool = True) -> Post:
    """A source's dict as a Post, normalised at the boundary the same way for every network.

    The text is made plain (`model.text.plain`: HTML entities decoded unless `entities=False`, NFC, no zero-width
    characters); hashtags, mentions and links found in the text join the ones the network declared (so a
    webhook post gets its hashtags; `find_mentions=False` where "@" is not a handle, e.g. RSS); `langs` keeps every declared language and `lang` is its first.
    """
    data = dict(data)
    text = data.get("text")
    if isinstance(text, str):
        text = data["text"] = plain(text, entities=entities)
        data["hashtags"] = merged(data.get("hashtags"), hashtags(text))
        if find_mentions:
            data["mentions"] = merged(data.get("mentions"), mentions(text))
        if not data.get("links"):  # a network's own links win (X's are expanded, the text's are t.co)
            data["links"] = links(text)
    langs = [x for x in (data.get("langs") or []) if isinstance(x, str) and x]
    if data.get("lang") and data["lang"] not in langs:
        langs.insert(0, data["lang"])
    if langs:
        data["langs"], data["lang"] = langs, langs[0]
    return parse_post(data)


def _fast(raw: bytes | str) -> Post | None:
    """The Post msgspec validated (model.wire), built without validating again; None: pydantic decides."""
    if (post := wire.fields(raw)) is None:
        return None
    try:
        _normalise(post)
    except ValueError:  # out of range in UTC: pydantic words the reason
        return None
    post["author"] = _built(Author, post["author"])
    post["engagement"] = _built(Engagement, post["engagement"])
    return _built(Post, post)


def _built(cls: type[BaseModel], fields: dict) -> BaseModel:
    """`cls.model_construct(**fields)` for a dict holding every field, without its per-field Python loop."""
    m = cls.__new__(cls)
    object.__setattr__(m, "__dict__", fields)
    object.__setattr__(m, "__pydantic_fields_set__", set(fields))
    object.__setattr__(m, "__pydantic_extra__", None)
    object.__setattr__(m, "__pydantic_private__", None)
    return m


def parse_post(data: bytes | str | dict) -> Post:
    """Validate a payload into a Post, or raise InvalidPost with a one-line reason."""
    if not isinstance(data, dict) and (post := _fast(data)) is not None:
        return post
    try:
        if isinstance(data, dict):
            return Post.model_validate(data)
        return Post.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(payload)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InvalidPost(f"{where}: {first['msg']}{more}") from None
