"""reddit.run with the real praw against a local server speaking Reddit's OAuth and listing API."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from streams.sources import reddit
from tests.sources.servers import RedditServer, health, running, stream_posts, wait_for

LISTING = json.loads((Path(__file__).resolve().parent.parent / "fixtures" / "reddit_listing.json").read_text())
CLIENT_ID, SECRET = "test-reddit-app", "test-reddit-secret-xyz"


def fixture_items(kind: str) -> list[dict]:
    return [child["data"] for child in LISTING[kind]["data"]["children"]]


def submission(n: int, title: str = "Oreo dunks in the dark", **kw) -> dict:
    sid = f"new{n:04d}"
    return {
        "subreddit": "superbowl",
        "selftext": "",
        "title": f"{title} {n}",
        "name": f"t3_{sid}",
        "id": sid,
        "score": 10 + n,
        "is_self": True,
        "author": f"fan{n}",
        "num_comments": n,
        "permalink": f"/r/superbowl/comments/{sid}/post_{n}/",
        "created_utc": time.time(),
        **kw,
    }


def comment(n: int, parent: str) -> dict:
    cid = f"c{n:05d}"
    return {
        "subreddit": "superbowl",
        "id": cid,
        "name": f"t1_{cid}",
        "author": f"commenter{n}",
        "parent_id": parent,
        "link_id": parent,
        "body": f"Lights out, cookies in {n}",
        "score": n,
        "permalink": f"/r/superbowl/comments/x/y/{cid}/",
        "created_utc": time.time(),
    }


@pytest.fixture
def settings(make_settings):
    return make_settings(
        {"reddit": {"enabled": True, "subreddits": ["nfl", "superbowl"]}},
        REDDIT_CLIENT_ID=CLIENT_ID,
        REDDIT_CLIENT_SECRET=SECRET,
    )


def ids(r, keys) -> list[str]:
    return [p["id"] for p in stream_posts(r, keys)]


def run_against(server: RedditServer, settings, r, keys, **kw):
    return running(
        reddit.run,
        settings,
        r,
        keys,
        praw_options={"oauth_url": server.url, "reddit_url": server.url},
        idle_s=0.2,
        backoff_scale=0.05,
        **kw,
    )


def test_new_submissions_and_comments_land_in_the_stream_normalized(settings, r, keys):
    existing = fixture_items("submissions")
    with (
        RedditServer(CLIENT_ID, SECRET, existing, fixture_items("comments")) as server,
        run_against(server, settings, r, keys),
    ):
        assert wait_for(lambda: health(r, keys, "reddit").get("state") == "connected", 30), health(r, keys, "reddit")
        # What was already there when we connected is not news (skip_existing).
        time.sleep(1.0)
        assert ids(r, keys) == []
        server.add("new", submission(1), submission(2, title="Chips Ahoy in the blackout"))
        server.add("comments", comment(1, parent="t3_new0001"))
        assert wait_for(lambda: len(ids(r, keys)) == 3, 30), ids(r, keys)
        posts = {p["id"]: p for p in stream_posts(r, keys)}
        first = posts["reddit:t3_new0001"]
        assert first["source"] == "reddit" and first["author"]["handle"] == "fan1"
        assert first["text"] == "Oreo dunks in the dark 1"
        assert first["url"] == "https://www.reddit.com/r/superbowl/comments/new0001/post_1/"
        assert first["engagement"]["likes"] == 11
        assert first["matched_terms"] == ["Oreo"]
        assert "Chips Ahoy" in posts["reddit:t3_new0002"]["matched_terms"]
        reply = posts["reddit:t1_c00001"]
        assert reply["reply_to"] == "reddit:t3_new0001" and reply["text"] == "Lights out, cookies in 1"
        h = health(r, keys, "reddit")
        assert h["state"] == "connected" and "r/nfl+superbowl" in h["detail"]
        assert h["rate_limit"]["remaining"] == 95.0 and h["rate_limit"]["used"] == 5
    assert health(r, keys, "reddit")["state"] == "stopped"
    # praw spoke Reddit's protocol: token first (client credentials), then bearer listings on both subreddits.
    token = [s for s in server.requests if s.path == "/api/v1/access_token"]
    assert token and token[0].method == "POST"
    listings = server.listing_requests()
    assert {s.path.rstrip("/") for s in listings} == {"/r/nfl+superbowl/new", "/r/nfl+superbowl/comments"}
    assert all(s.headers["Authorization"] == f"bearer {server.token}" for s in listings)
    assert reddit.USER_AGENT in listings[0].headers["User-Agent"]
    assert SECRET not in "".join(json.dumps(p) for p in stream_posts(r, keys))


def test_a_503_shows_reconnecting_then_recovers_without_losing_posts(settings, r, keys):
    with RedditServer(CLIENT_ID, SECRET) as server, run_against(server, settings, r, keys):
        assert wait_for(lambda: health(r, keys, "reddit").get("state") == "connected", 30)
        server.add("new", submission(1))
        assert wait_for(lambda: ids(r, keys) == ["reddit:t3_new0001"], 30), ids(r, keys)
        # Reddit goes down: more than prawcore's own retries, so the source must notice.
        server.fail(6, 503)
        assert wait_for(lambda: health(r, keys, "reddit").get("state") == "reconnecting", 60), health(r, keys, "reddit")
        h = health(r, keys, "reddit")
        assert "ServerError" in h["detail"]
        assert h["gaps"] and h["gaps"][-1][1] is None, "an open gap while down"
        # Posted while we were down: fetched once Reddit answers again.
        server.add("new", submission(2), submission(3))
        assert wait_for(lambda: health(r, keys, "reddit").get("state") == "connected", 90), health(r, keys, "reddit")
        assert wait_for(lambda: set(ids(r, keys)) >= {"reddit:t3_new0002", "reddit:t3_new0003"}, 30), ids(r, keys)
        server.add("new", submission(4))
        assert wait_for(lambda: "reddit:t3_new0004" in ids(r, keys), 30), ids(r, keys)
        got = ids(r, keys)
        assert len(got) == len(set(got)), f"duplicates after reconnect: {got}"
        gap = health(r, keys, "reddit")["gaps"][-1]
        assert gap[1] is not None and gap[1] >= gap[0], gap


def test_wrong_secret_shows_failing(make_settings, r, keys):
    settings = make_settings(
        {"reddit": {"enabled": True, "subreddits": ["nfl"]}},
        REDDIT_CLIENT_ID=CLIENT_ID,
        REDDIT_CLIENT_SECRET="not-the-secret",
    )
    with RedditServer(CLIENT_ID, SECRET) as server, run_against(server, settings, r, keys):
        assert wait_for(lambda: health(r, keys, "reddit").get("state") in ("failing", "reconnecting"), 30), health(
            r, keys, "reddit"
        )
        time.sleep(0.5)
        h = health(r, keys, "reddit")
        assert h["state"] == "failing", h
        assert "not-the-secret" not in json.dumps(h)
    assert ids(r, keys) == []
