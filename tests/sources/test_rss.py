"""RSS/Atom polling against a local feed server that honours ETag and Last-Modified."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import requests

from streams.sources import rss
from streams.sources.base import Sink
from tests.sources.servers import FeedServer, health, running, stream_posts, wait_for

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
GAME_NIGHT = datetime(2026, 2, 8, 2, 0, tzinfo=UTC).timestamp()
NEW_ITEM = b"""<item><title>Play resumes</title><link>https://news.example/2026/02/08/resume</link>
<guid isPermaLink="false">gameday-0003</guid><pubDate>Sun, 08 Feb 2026 02:10:00 GMT</pubDate>
<description>34 minutes later.</description></item>"""


def feeds() -> dict[str, bytes]:
    return {
        "/rss.xml": (FIXTURES / "feed_rss.xml").read_bytes(),
        "/atom.xml": (FIXTURES / "feed_atom.xml").read_bytes(),
    }


def test_conditional_get_304_yields_nothing_and_new_entries_come_once(r, keys):
    with FeedServer(feeds()) as server:
        url, sink, session = server.url + "/rss.xml", Sink(r, keys, "rss"), requests.Session()
        first = rss.poll_feed(session, r, keys, sink, url, now=GAME_NIGHT)
        second = rss.poll_feed(session, r, keys, sink, url, now=GAME_NIGHT)
        server.update("/rss.xml", server.feeds["/rss.xml"].replace(b"<item>", NEW_ITEM + b"<item>", 1))
        third = rss.poll_feed(session, r, keys, sink, url, now=GAME_NIGHT + 600)
        seen = server.requests
    assert (first, second, third) == (2, 0, 1)  # yesterday's preview is too old to be news
    assert "If-None-Match" not in seen[0].headers
    assert seen[1].headers["If-None-Match"] == '"v1"' and "If-Modified-Since" in seen[1].headers
    ids = [p["id"] for p in stream_posts(r, keys)]
    assert len(ids) == len(set(ids)) == 3
    blackout = next(p for p in stream_posts(r, keys) if "Power outage" in p["text"])
    assert "alert" not in blackout["text"] and blackout["url"] == "https://news.example/2026/02/08/blackout"
    assert blackout["lang"] == "en-us" and blackout["author"]["handle"] == "Game Day Desk"
    assert "blackout" in blackout["hashtags"]


def test_seen_entries_survive_a_lost_etag(r, keys):
    with FeedServer(feeds()) as server:
        url, sink, session = server.url + "/atom.xml", Sink(r, keys, "rss"), requests.Session()
        assert rss.poll_feed(session, r, keys, sink, url, now=GAME_NIGHT) == 1
        r.delete(keys.rss_validators(rss.feed_id(url)))  # the server will send the whole feed again
        assert rss.poll_feed(session, r, keys, sink, url, now=GAME_NIGHT) == 0
    post = stream_posts(r, keys)[0]
    assert post["author"]["handle"] == "Ad Watch Staff" and post["text"].startswith("Cookie brand tweets")
    assert "You can still dunk in the dark." in post["text"]


def test_run_polls_every_feed_and_reports_failures(r, keys, make_settings):
    with FeedServer(feeds()) as server:
        urls = [server.url + "/rss.xml", server.url + "/atom.xml", server.url + "/missing.xml"]
        settings = make_settings({"rss": {"feeds": urls}})
        with running(rss.run, settings, r, keys, max_age_s=None):
            assert wait_for(lambda: len(stream_posts(r, keys)) == 4)
            assert wait_for(lambda: health(r, keys, "rss").get("state") == "reconnecting")
            assert "missing.xml: HTTP 404" in health(r, keys, "rss")["detail"]
    assert health(r, keys, "rss")["state"] == "stopped"


def test_no_feeds_not_configured(r, keys, make_settings):
    rss.run(make_settings(), r, keys, threading.Event())
    assert health(r, keys, "rss")["state"] == "not configured"
