"""The msgspec fast path of parse_post gives exactly pydantic's Post, and leaves every doubtful payload to pydantic."""

import orjson
import pytest

from model import wire
from model.post import InvalidPost, Post, parse_post

BASE = {
    "id": "x:1",
    "source": "x",
    "url": "https://x.example/1",
    "author": {"handle": "Oreo", "name": "Oreo", "followers": 10, "verified": True},
    "text": "Lights out #SuperBowl @NFL https://a.example",
    "created_at": "2026-02-08T23:00:00.5+02:00",
}

VARIANTS = [
    {},
    {"created_at": 1796216455.0169947, "received_at": 5},
    {"created_at": 1887446133.2890625},  # a half-microsecond tie: pydantic rounds it up
    {"created_at": 1796216455},
    {"created_at": "2026-02-08T23:00:00"},
    {"created_at": "0001-01-01T00:30:00-00:30"},
    {"engagement": {"likes": 3}, "langs": ["en", "en", "", "fr"], "lang": "en"},
    {"url": "javascript:alert(1)", "links": ["data:x", "https://b.example"], "hashtags": ["#A", "a", "#"]},
    {"mentions": ["@NFL", "nfl", "@"], "repost_of": "x:0", "reply_to": None, "extra": {"deep": [[1]]}},
    {"author": {"handle": "a", "followers": None}},
]


@pytest.mark.parametrize("extra", VARIANTS)
def test_fast_path_equals_pydantic(extra):
    raw = orjson.dumps({**BASE, **extra})
    assert wire.fields(raw) is not None
    fast, slow = parse_post(raw), Post.model_validate_json(raw)
    assert fast == slow and fast.to_json() == slow.to_json()
    assert fast.created_at.tzinfo is slow.created_at.tzinfo
    assert fast.author.model_dump() == slow.author.model_dump()
    assert fast.engagement.model_dump() == slow.engagement.model_dump()


@pytest.mark.parametrize(
    "extra",
    [
        {"created_at": "2026-02-08"},  # pydantic reads forms the fast path does not
        {"created_at": -1.5},
        {"created_at": 2e12},  # milliseconds
        {"author": {"handle": "a", "followers": "12"}},  # lax coercion
        {"author": {"handle": "a", "followers": 12.0}},
        {"extra": [[[[]]]] * 40},  # more brackets than any real post
        {"created_at": "0001-01-01T00:00:00+01:00"},  # out of range in UTC
        {"text": None},
        {"source": "myspace"},
        {"author": {"handle": ""}},
        {"created_at": "2026-13-01T00:00:00Z"},
    ],
)
def test_doubtful_payloads_go_to_pydantic(extra):
    raw = orjson.dumps({**BASE, **extra})
    try:
        expected = Post.model_validate_json(raw)
    except Exception:
        with pytest.raises(InvalidPost):
            parse_post(raw)
    else:
        assert parse_post(raw) == expected
    if extra.get("created_at") != "0001-01-01T00:00:00+01:00":
        assert wire.fields(raw) is None


def test_deep_nesting_in_an_ignored_field_is_refused_as_before():
    raw = orjson.dumps(BASE)[:-1] + b', "z": ' + b"[" * 300 + b"]" * 300 + b"}"
    with pytest.raises(InvalidPost, match="recursion"):
        parse_post(raw)


def test_lone_surrogate_is_refused():
    raw = orjson.dumps(BASE)[:-1] + b', "text": "\\ud800"}'
    with pytest.raises(InvalidPost):
        parse_post(raw)
