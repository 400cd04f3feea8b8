"""Mastodon streaming against a local SSE server replaying the recorded vcrpy cassette."""

from __future__ import annotations

import json
import threading

import pytest

from model.post import InvalidPost
from store import posts as post_store
from streams.sources import mastodon
from tests.sources.servers import (
    MastodonServer,
    health,
    mastodon_cassette,
    running,
    sse_events,
    stream_posts,
    wait_for,
)

TOKEN = "test-mastodon-token"

HOSTILE = (
    '<p>Lights out at the <a href="https://social.example/tags/superbowl" class="mention hashtag" rel="tag">'
    '#<span>SuperBowl</span></a>! <script>alert("pwned")</script><img src=x onerror=alert(1)>'
    'Still dunking &amp; smiling<br>see <a href="https://example.com/oreo" rel="nofollow">'
    '<span class="invisible">https://</span>example.com/oreo</a></p><p>second &lt;b&gt;para&lt;/b&gt;</p>'
)


def recorded(shared) -> tuple[dict, str, dict]:
    """(instance JSON, the streaming response body, the status JSON) from the cassette."""
    by_uri = {i["request"]["uri"]: i for i in mastodon_cassette(shared)}
    instance = json.loads(by_uri["http://localhost:3000/api/v2/instance/"]["response"]["body"]["string"])
    stream_body = by_uri["http://localhost:4000/api/v1/streaming/user"]["response"]["body"]["string"]
    data = next(line for line in stream_body.splitlines() if line.startswith("data: "))
    return instance, stream_body, json.loads(data[len("data: ") :])


def variant(status: dict, new_id: str, content: str, **kw) -> dict:
    return {**json.loads(json.dumps(status)), "id": new_id, "content": content, **kw}


def update_block(status: dict) -> str:
    return f"event: update\ndata: {json.dumps(status)}\n\n"


def test_html_is_stripped_to_text_and_links():
    text, links = mastodon.html_to_text(HOSTILE)
    assert (
        text
        == "Lights out at the #SuperBowl! Still dunking & smiling\nsee https://example.com/oreo\n\nsecond <b>para</b>"
    )
    assert "alert" not in text and links == ["https://example.com/oreo"]


def test_cassette_status_normalizes(shared):
    _, _, status = recorded(shared)
    post = mastodon.normalize_status(status)
    assert post.id == "mastodon:117024248092393661" and post.text == "it's cool guy"
    assert post.author.handle == "mastodonpy_test@localhost" and post.lang == "ja"
    assert post.url == "http://localhost:3000/@mastodonpy_test/117024248092393661"


def test_boost_keeps_booster_and_points_at_original(shared):
    _, _, status = recorded(shared)
    boost = variant(status, "200", "", reblog=variant(status, "100", HOSTILE, tags=[{"name": "SuperBowl"}]))
    post = mastodon.normalize_status(boost)
    assert post.repost_of == "mastodon:100" and post.hashtags == ["superbowl"] and "Lights out" in post.text
    with pytest.raises(InvalidPost):
        mastodon.normalize_status({"id": "1"})


def test_sse_parser_handles_comments_multiline_data_and_unicode_separators():
    raw = [
        b":)",
        b"event: update",
        b'data: {"a":',
        b"data: 1}",
        b"",
        b":thump",
        b"event: delete",
        b"data: 42",
        b"",
        "data: \u2028x".encode(),
    ]
    assert list(mastodon.parse_sse(raw)) == [
        ("comment", ")"),
        ("update", '{"a":\n1}'),
        ("comment", "thump"),
        ("delete", "42"),
        ("message", "\u2028x"),
    ]


def test_stream_with_heartbeats_reconnects_after_a_cut(r, keys, shared, make_settings):
    instance, stream_body, status = recorded(shared)
    tagged = variant(status, "117024248092393700", HOSTILE, tags=[{"name": "superbowl"}], language="en")
    boost = variant(status, "117024248092393701", "", reblog=tagged)
    connections = [
        sse_events(stream_body)
        + [
            ":thump\n\n",
            update_block(tagged),
            "event: delete\ndata: 1\n\n",
            "event: update\ndata: {not json\n\n",
            "cut",
        ],
        [":)\n\n", update_block(boost), update_block(tagged)],  # the repeat is emitted once
    ]
    with MastodonServer(instance, connections) as server:
        settings = make_settings(
            {"mastodon": {"hashtags": ["superbowl"]}}, MASTODON_BASE_URL=server.url, MASTODON_ACCESS_TOKEN=TOKEN
        )
        with running(mastodon.run, settings, r, keys, backoff_scale=0.01):
            assert wait_for(lambda: len(stream_posts(r, keys)) >= 3 and len(server.stream_requests()) >= 2)
            assert wait_for(lambda: health(r, keys, "mastodon").get("state") == "connected")
            wait_for(lambda: False, timeout=0.3)
        streams = server.stream_requests()
    assert streams[0].path == "/api/v1/streaming/hashtag" and streams[0].query == {"tag": ["superbowl"]}
    assert streams[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert sorted(p["id"] for p in stream_posts(r, keys)) == [
        "mastodon:117024248092393661",
        "mastodon:117024248092393700",
        "mastodon:117024248092393701",
    ]
    h = health(r, keys, "mastodon")
    assert h["gaps"] and h["gaps"][0][1] is not None and h["state"] == "stopped"
    assert post_store.stats(r, keys)["dead"] == 1


def test_public_timeline_keeps_only_posts_about_the_event(r, keys, shared, make_settings):
    instance, _, status = recorded(shared)
    about = variant(status, "900", "<p>Lights out in the stadium</p>")
    unrelated = variant(status, "901", "<p>nothing to see here</p>")
    connections = {
        "/api/v1/streaming/public": [[update_block(unrelated), update_block(about)]],
        "/api/v1/streaming/hashtag": [[update_block(status)]],
    }
    with MastodonServer(instance, connections) as server:
        settings = make_settings(
            {"mastodon": {"hashtags": ["superbowl"], "public": True}},
            MASTODON_BASE_URL=server.url,
            MASTODON_ACCESS_TOKEN=TOKEN,
        )
        with running(mastodon.run, settings, r, keys, backoff_scale=0.01):
            assert wait_for(lambda: len(stream_posts(r, keys)) >= 2)
            assert wait_for(lambda: health(r, keys, "mastodon").get("detail") == "2 timeline(s)")
            wait_for(lambda: False, timeout=0.3)
    posts = {p["id"]: p for p in stream_posts(r, keys)}
    assert sorted(posts) == ["mastodon:117024248092393661", "mastodon:900"]
    assert posts["mastodon:900"]["matched_terms"] == ["Blackout"]


def test_unauthorized_token_reports_failing(r, keys, shared, make_settings):
    instance, _, _ = recorded(shared)
    with MastodonServer(instance, []) as server:
        settings = make_settings(MASTODON_BASE_URL=server.url, MASTODON_ACCESS_TOKEN="wrong-token")
        with running(mastodon.run, settings, r, keys, backoff_scale=0.01):
            assert wait_for(lambda: health(r, keys, "mastodon").get("state") == "failing")
    assert "wrong-token" not in json.dumps(health(r, keys, "mastodon"))


def test_without_instance_or_token_not_configured(r, keys, make_settings):
    mastodon.run(make_settings(MASTODON_BASE_URL="https://mastodon.example"), r, keys, threading.Event())
    assert health(r, keys, "mastodon")["state"] == "not configured"
