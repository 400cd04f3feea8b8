"""Post normalisation (one model validator): UTC times, safe links, clean hashtags and mentions."""

from datetime import UTC, datetime, timedelta

from model.post import Post, parse_post


def test_payload_is_normalised():
    p = parse_post(
        b'{"id": "x:1", "source": "x", "author": {"handle": "a"}, "text": "t",'
        b' "created_at": "2026-02-08T23:00:00+02:00", "url": "javascript:alert(1)",'
        b' "links": ["https://a.example", "data:x", "HTTP://b.example"],'
        b' "hashtags": ["#Oreo", "oreo", "#", "SuperBowl"], "mentions": ["@Oreo", "oreo", "@"]}'
    )
    assert p.created_at == datetime(2026, 2, 8, 21, 0, tzinfo=UTC) and p.created_at.utcoffset() == timedelta(0)
    assert p.url is None and p.links == ["https://a.example", "HTTP://b.example"]
    assert p.hashtags == ["oreo", "superbowl"] and p.mentions == ["oreo"]


def test_naive_time_is_utc_and_defaults_stay_empty():
    p = Post(
        id="x:2",
        source="x",
        author={"handle": "a"},
        text="t",
        created_at=datetime(2026, 2, 8, 23, 0),
        url="https://x.example/1",
    )
    assert p.created_at.tzinfo is not None and p.created_at.hour == 23
    assert p.url == "https://x.example/1" and p.hashtags == [] and p.mentions == [] and p.links == []
    assert Post.model_validate(p.model_dump()).created_at == p.created_at.astimezone(UTC)
