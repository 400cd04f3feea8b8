"""Reddit normalization on listing-format items, and the credential gate."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from model.post import InvalidPost
from streams.sources import reddit
from tests.sources.servers import health

LISTING = json.loads((Path(__file__).resolve().parent.parent / "fixtures" / "reddit_listing.json").read_text())


def items(kind: str) -> list[dict]:
    return [child["data"] for child in LISTING[kind]["data"]["children"]]


def test_self_post_and_link_post():
    text_post, link_post = (reddit.normalize_submission(d) for d in items("submissions"))
    assert text_post.id == "reddit:t3_1ioxq2b" and text_post.author.handle == "gridiron_fan"
    assert text_post.text.startswith("[Highlight] Power outage stops Super Bowl\n\nThird quarter")
    assert text_post.url == "https://www.reddit.com/r/nfl/comments/1ioxq2b/highlight_power_outage_stops_super_bowl/"
    assert text_post.mentions == ["gameday_bot"] and text_post.hashtags == ["blackout"]
    assert text_post.engagement.likes == 4821 and text_post.engagement.replies == 1312
    assert text_post.created_at.isoformat() == "2026-02-08T01:38:32+00:00"
    assert link_post.links == ["https://example.com/oreo-blackout"]


def test_comment_replies_to_its_parent_by_fullname():
    comment = reddit.normalize_comment(items("comments")[0])
    assert comment.id == "reddit:t1_mcn0f1x" and comment.reply_to == "reddit:t3_1ioxq2b"
    assert comment.text == "You can still dunk in the dark"


def test_item_without_timestamp_is_invalid():
    with pytest.raises(InvalidPost):
        reddit.normalize_comment({"id": "x", "body": "hi"})


def test_without_app_credentials_not_configured(r, keys, make_settings):
    reddit.run(make_settings({"reddit": {"enabled": True}}, REDDIT_CLIENT_ID="id-only"), r, keys, threading.Event())
    h = health(r, keys, "reddit")
    assert h["state"] == "not configured" and "REDDIT_CLIENT_SECRET" in h["detail"]
