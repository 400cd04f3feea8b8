"""X filtered stream and recent search against a local server speaking X API v2 (chunked CRLF lines)."""

from __future__ import annotations

import json
import logging
import time

import pytest

from model.post import InvalidPost
from store import posts as post_store
from streams.sources import x
from tests.sources.servers import (
    XServer,
    health,
    running,
    stream_posts,
    wait_for,
    x_fixture_lines,
)

TOKEN = "test-x-bearer-token-123"


def fixture_payloads(shared) -> list[dict]:
    return [json.loads(line) for line in x_fixture_lines(shared) if line.strip()]


def test_normalize_tweet_keeps_author_metrics_entities_and_references(shared):
    first, second, retweet = (x.normalize_tweet(p) for p in fixture_payloads(shared)[:3])
    assert first.id == "x:1888000000000000001"
    assert first.author.handle == "cookiefan" and first.author.followers == 812 and first.author.verified is False
    assert first.hashtags == ["superbowl", "blackout"] and first.lang == "en"
    assert first.created_at.isoformat().startswith("2026-02-08T01:38:12")
    assert second.author.verified is True and second.author.followers > 100_000
    assert second.links == ["https://example.com/watch/blackout"]
    assert second.engagement.likes == 20400 and second.engagement.reposts == 5120
    assert retweet.repost_of == "x:1888000000000000002" and retweet.mentions == ["bigsportsdesk"]
    assert first.matched_terms  # rule tags from matching_rules


def test_normalize_rejects_payload_without_author_or_date():
    with pytest.raises(InvalidPost, match="author"):
        x.normalize_tweet({"data": {"id": "1", "text": "hi", "created_at": "2026-02-08T01:38:12.000Z"}})
    with pytest.raises(InvalidPost, match="created_at"):
        x.normalize_tweet({"data": {"id": "1", "text": "hi", "author_id": "5"}})


def test_operational_disconnect_is_recognised(shared):
    assert "operational-disconnect" in x.disconnect_reason(fixture_payloads(shared)[-1])
    assert x.disconnect_reason({"errors": [{"title": "Not Found Error", "detail": "gone"}]}) is None


def test_rules_one_per_series_tagged_and_within_limit(make_settings):
    rules = x.rules_for(make_settings().event)
    tags = [t for _, t in rules]
    assert tags[:2] == ["Oreo", "Chips Ahoy"] and "hashtags" in tags
    oreo = {t: v for v, t in rules}["Oreo"]
    assert '"dunk in the dark"' in oreo and "#oreo" in oreo and "@oreo" in oreo
    assert all(len(v) <= x.MAX_RULE_CHARS for v, _ in rules)


def test_rule_plan_adds_missing_and_deletes_stale(shared):
    current = json.loads((shared / "fixtures/x/rules_get_response.json").read_text())["data"]
    keep = (current[1]["value"], current[1]["tag"])
    delete, add = x.plan_rules(current, [keep, ("#blackout", "Blackout")])
    assert delete == ["1700000000000000001"] and add == [("#blackout", "Blackout")]


def rate_headers(remaining: int, reset_in: float = 1.0) -> dict:
    return {
        "x-rate-limit-limit": 50,
        "x-rate-limit-remaining": remaining,
        "x-rate-limit-reset": int(time.time() + reset_in),
    }


def test_stream_survives_429_cut_and_operational_disconnect(r, keys, shared, make_settings, caplog):
    lines = x_fixture_lines(shared) + [b"not json\r\n", b'{"data": {"id": "9", "text": "no author"}}\r\n']
    split = next(i for i, line in enumerate(lines) if b"1888000000000000003" in line)
    error_at = next(i for i, line in enumerate(lines) if b"operational-disconnect" in line)
    connections = [
        [("status", 429, rate_headers(0))],
        [("line", line) for line in lines[:split]] + [("cut",)],
        [("line", line) for line in lines[split:error_at] + lines[error_at + 1 :] + [lines[error_at]]],
    ]
    rules = json.loads((shared / "fixtures/x/rules_get_response.json").read_text())["data"]
    with XServer(connections, rules=rules) as server:
        settings = make_settings(X_BEARER_TOKEN=TOKEN, X_API_BASE_URL=server.url)
        caplog.set_level(logging.DEBUG)
        with running(x.run, settings, r, keys, backoff_scale=0.01):
            assert wait_for(lambda: len(server.stream_requests()) >= 4, timeout=15)
            assert wait_for(lambda: health(r, keys, "x").get("state") == "connected")
        seen = server.stream_requests()
    ids = [p["id"] for p in stream_posts(r, keys)]
    assert sorted(set(ids)) == [f"x:188800000000000000{i}" for i in range(1, 7)] and len(ids) == 6
    h = health(r, keys, "x")
    assert h["state"] == "stopped"
    assert len([g for g in h["gaps"] if g[1] is not None]) >= 2, h["gaps"]  # the cut and the operational disconnect
    assert h["rate_limit"]["remaining"] == 0  # the 429's headers are in health
    assert post_store.stats(r, keys)["dead"] == 2
    # Rules synced to the event: stale "event" rule gone, "brand" replaced, every series tagged.
    tags = {rule["tag"] for rule in server.rules}
    assert {"Oreo", "Chips Ahoy", "Milano", "Blackout", "Halftime", "Ads", "hashtags"} == tags
    params = seen[0].query
    assert "author_id" in params["expansions"][0] and "public_metrics" in params["tweet.fields"][0]
    assert "verified" in params["user.fields"][0] and "referenced_tweets" in params["tweet.fields"][0]
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in caplog.text


def test_stall_without_keepalives_reconnects_and_records_a_gap(r, keys, shared, make_settings):
    lines = x_fixture_lines(shared)
    connections = [[("line", lines[0]), ("silence", 5)]]
    with XServer(connections) as server:
        settings = make_settings(X_BEARER_TOKEN=TOKEN, X_API_BASE_URL=server.url)
        with running(x.run, settings, r, keys, stall_s=0.5, backoff_scale=0.01):
            assert wait_for(lambda: len(server.stream_requests()) >= 2, timeout=5)
            assert wait_for(lambda: health(r, keys, "x").get("state") == "connected")
    h = health(r, keys, "x")
    assert h["gaps"] and h["gaps"][0][1] is not None
    assert len(stream_posts(r, keys)) == 1


def test_no_token_means_not_configured(r, keys, make_settings):
    import threading

    x.run(make_settings(), r, keys, threading.Event())
    h = health(r, keys, "x")
    assert h["state"] == "not configured" and "X_BEARER_TOKEN" in h["detail"]


def test_search_mode_uses_since_id_and_respects_rate_limits(r, keys, shared, make_settings):
    payloads = fixture_payloads(shared)[:2]
    body = {
        "data": [p["data"] for p in payloads],
        "includes": {"users": [u for p in payloads for u in p["includes"]["users"]]},
        "meta": {"newest_id": "1888000000000000002", "oldest_id": "1888000000000000001", "result_count": 2},
    }
    search = [(200, rate_headers(10), body), (429, rate_headers(0, reset_in=1), {"title": "Too Many Requests"})]
    with XServer(search=search) as server:
        settings = make_settings(
            {"x": {"mode": "search", "poll_seconds": 1}}, X_BEARER_TOKEN=TOKEN, X_API_BASE_URL=server.url
        )
        with running(x.run, settings, r, keys, backoff_scale=0.2):
            assert wait_for(lambda: (health(r, keys, "x").get("rate_limit") or {}).get("remaining") == 0)
            assert wait_for(lambda: any("since_id" in s.query for s in server.requests), timeout=8)
        first_query = server.requests[0].query["query"][0]
        again = [s for s in server.requests if s.query["query"][0] == first_query]
    assert again[1].query["since_id"] == ["1888000000000000002"]
    gap = again[1].at - server.requests[1].at
    assert gap >= 0.5, "the poller waited for the rate-limit window to reset"
    assert sorted(p["id"] for p in stream_posts(r, keys)) == ["x:1888000000000000001", "x:1888000000000000002"]
