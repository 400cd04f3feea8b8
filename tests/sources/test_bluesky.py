"""Bluesky Jetstream against a local WebSocket server replaying production-format events."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from store import health as health_store
from store import posts as post_store
from streams.sources import bluesky
from streams.sources.terms import TermFilter
from tests.sources.servers import (
    JetstreamServer,
    health,
    running,
    stream_posts,
    wait_for,
)

OURS = Path(__file__).resolve().parent.parent / "fixtures" / "bluesky_superbowl.jsonl"
MATCHING = [0, 2, 3, 5, 6, 9]  # events in OURS about the event (see tests/fixtures/README.md)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def all_events(shared) -> list[dict]:
    return load(shared / "fixtures/bluesky/jetstream_v1_golden.jsonl") + load(OURS)


def expected_ids() -> list[str]:
    ours = load(OURS)
    return sorted(f"bluesky:at://{ours[i]['did']}/app.bsky.feed.post/{ours[i]['commit']['rkey']}" for i in MATCHING)


def test_golden_post_normalizes_and_everything_else_is_skipped(shared):
    events = load(shared / "fixtures/bluesky/jetstream_v1_golden.jsonl")
    posts = [p for p in map(bluesky.normalize_event, events) if p is not None]
    assert len(posts) == 1
    post = posts[0]
    assert post.id == "bluesky:at://did:plc:q235v55g5unth4zjjdpacfdr/app.bsky.feed.post/3mmoojp4cd223"
    assert post.text == "Try RSV for a good time !!" and post.lang == "en"
    assert post.reply_to == "bluesky:at://did:plc:j76trmiofvaxxpvx2vnb2vwf/app.bsky.feed.post/3mmojbrjwbs26"
    assert post.url == "https://bsky.app/profile/did:plc:q235v55g5unth4zjjdpacfdr/post/3mmoojp4cd223"


def test_facets_quotes_and_untrusted_dates(make_settings):
    ours = load(OURS)
    tagged, linked, quoting = (bluesky.normalize_event(ours[i]) for i in (2, 5, 6))
    assert "dunkinthedark" in tagged.hashtags
    assert linked.links == ["https://example.com/ads"] and "superbowlads" in linked.hashtags
    assert quoting.quote_of.endswith("/3quoted") and quoting.mentions == ["cookiefan.bsky.social"]
    skewed = json.loads(json.dumps(ours[0]))
    skewed["commit"]["record"]["createdAt"] = "2099-01-01T00:00:00Z"
    assert bluesky.normalize_event(skewed).created_at.timestamp() == ours[0]["time_us"] / 1e6


def test_term_filter_uses_brand_terms_and_hashtags(make_settings):
    terms = TermFilter(make_settings().event)
    ours = load(OURS)
    assert terms.match(bluesky.normalize_event(ours[0])) == ["Blackout", "hashtags"]
    assert terms.match(bluesky.normalize_event(ours[1])) == []
    assert "Oreo" in terms.match(bluesky.normalize_event(ours[2]))


def test_dropped_connection_resumes_from_cursor_without_loss_or_doubles(r, keys, shared, make_settings):
    events = all_events(shared)
    # After the server-side wantedCollections filter: the golden post, then ours; cut after ours[4].
    with JetstreamServer(events, drop_after=6) as server:
        settings = make_settings(BLUESKY_JETSTREAM_URL=server.url)
        with running(bluesky.run, settings, r, keys, backoff_scale=0.01):
            assert wait_for(lambda: len(stream_posts(r, keys)) >= len(MATCHING) and len(server.paths) >= 2)
            wait_for(lambda: False, timeout=0.3)  # anything doubled would arrive now
    assert "wantedCollections=app.bsky.feed.post" in server.paths[0] and "cursor=" not in server.paths[0]
    resumed_at = int(server.paths[1].split("cursor=")[1].split("&")[0])
    assert resumed_at == load(OURS)[4]["time_us"] - 5_000_000  # five seconds before the last event seen
    ids = [p["id"] for p in stream_posts(r, keys)]
    assert sorted(ids) == expected_ids()  # nothing lost, nothing twice
    h = health(r, keys, "bluesky")
    assert h["gaps"] and h["gaps"][0][1] is not None
    assert post_store.stats(r, keys)["dead"] == 1  # the post without text


def test_restart_resumes_a_few_seconds_back_and_skips_what_it_emitted(r, keys, shared, make_settings):
    events = all_events(shared)
    first_half = events[:14]  # golden + our first four
    with JetstreamServer(first_half) as server:
        settings = make_settings(BLUESKY_JETSTREAM_URL=server.url)
        with running(bluesky.run, settings, r, keys):
            assert wait_for(lambda: len(stream_posts(r, keys)) == 3)
    saved = int(health_store.load_cursor(r, keys, "bluesky"))
    assert saved == load(OURS)[3]["time_us"]
    with JetstreamServer(events) as server:
        settings = make_settings(BLUESKY_JETSTREAM_URL=server.url)
        with running(bluesky.run, settings, r, keys):
            assert wait_for(lambda: len(stream_posts(r, keys)) >= len(MATCHING))
            wait_for(lambda: False, timeout=0.3)
    assert f"cursor={saved - 5_000_000}" in server.paths[0]
    assert sorted(p["id"] for p in stream_posts(r, keys)) == expected_ids()


def test_disabled_source_reports_stopped(r, keys, make_settings):
    bluesky.run(make_settings({"bluesky": {"enabled": False}}), r, keys, threading.Event())
    assert health(r, keys, "bluesky")["state"] == "stopped"
