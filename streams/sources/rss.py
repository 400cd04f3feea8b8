"""RSS and Atom feeds polled with conditional GETs (ETag, Last-Modified), parsed by feedparser, each entry once."""

from __future__ import annotations

import calendar
import hashlib
import logging
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import feedparser
import orjson
import redis
import requests

from analytics import entities
from config.settings import Settings
from model.post import MAX_TEXT, InvalidPost, Post, source_post
from store.keys import Keys
from streams.sources.backoff import until_stopped
from streams.sources.base import CONNECTED, RECONNECTING, Sink
from streams.sources.mastodon import html_to_text

logger = logging.getLogger(__name__)

NAME = "rss"
SEEN_MAX = 5_000  # entry ids remembered per feed (a feed rarely carries more than a few hundred)
USER_AGENT = "war-room/1.0 (+feed poller)"


class FeedError(Exception):
    """A feed answered, but not with a feed; the message says what came back."""


def feed_id(url: str) -> str:
    return hashlib.sha1(url.encode()).hexdigest()[:12]


def entry_key(entry: dict) -> str:
    key = entry.get("id") or entry.get("link")
    if not key:
        key = hashlib.sha1(f"{entry.get('title', '')}|{entry.get('published', '')}".encode()).hexdigest()
    return key


def _when(entry: dict) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else None


def normalize_entry(entry: dict, feed: dict, url: str, now: float | None = None) -> Post:
    """One feedparser entry as a Post; the feed's title stands in as the author when the entry has none."""
    key = entry_key(entry)
    native = f"{feed_id(url)}:{key}"
    if len(native) > 280:
        native = f"{feed_id(url)}:{hashlib.sha1(key.encode()).hexdigest()}"
    summary, links = html_to_text(entry.get("summary") or "")
    title, _ = html_to_text(entry.get("title") or "")
    text = "\n\n".join(t for t in (title, summary) if t)[:MAX_TEXT]
    if not text:
        raise InvalidPost("entry has neither a title nor a summary")
    host = urlsplit(url).hostname or "feed"
    feed_title, _ = html_to_text(feed.get("title") or "")
    created = _when(entry) or datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return source_post(
        {
            "id": f"rss:{native}",
            "source": NAME,
            "url": entry.get("link"),
            "author": {"handle": (entry.get("author") or feed_title or host)[:200], "name": feed_title[:200]},
            "text": text,
            "created_at": created,
            "lang": (feed.get("language") or None) and feed["language"][:16],
            "hashtags": entities.hashtags(text),
            "mentions": [],
            "links": list(dict.fromkeys(([entry["link"]] if entry.get("link") else []) + links + entities.links(text))),
        },
        entities=False,  # html_to_text has decoded them
        find_mentions=False,
    )


def poll_feed(
    session: requests.Session,
    r: redis.Redis,
    keys: Keys,
    sink: Sink,
    url: str,
    *,
    now: float | None = None,
    max_age_s: float | None = 6 * 3600,
) -> int:
    """Fetch one feed (conditionally), emit the entries not seen before; returns how many were emitted.

    Entries older than `max_age_s` are remembered but not emitted: a feed's back catalogue is not news.
    """
    now = time.time() if now is None else now
    saved = r.get(keys.rss_validators(feed_id(url)))
    validators = orjson.loads(saved) if saved else {}
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5",
    }
    if validators.get("etag"):
        headers["If-None-Match"] = validators["etag"]
    if validators.get("modified"):
        headers["If-Modified-Since"] = validators["modified"]
    resp = session.get(url, headers=headers, timeout=20)
    if resp.status_code == 304:
        return 0
    if resp.status_code != 200:
        raise FeedError(f"{url}: HTTP {resp.status_code}")
    parsed = feedparser.parse(resp.content, response_headers={k.lower(): v for k, v in resp.headers.items()})
    if parsed.get("bozo") and not parsed.entries:
        raise FeedError(f"{url}: not a feed ({type(parsed.get('bozo_exception')).__name__})")
    emitted = _emit_new(r, keys, sink, url, parsed, now, max_age_s)
    validators = {"etag": resp.headers.get("ETag"), "modified": resp.headers.get("Last-Modified")}
    r.set(keys.rss_validators(feed_id(url)), orjson.dumps(validators))
    return emitted


def _emit_new(r: redis.Redis, keys: Keys, sink: Sink, url: str, parsed, now: float, max_age_s: float | None) -> int:
    seen = keys.rss_seen(feed_id(url))
    entries = list(parsed.entries)
    ids = [entry_key(e) for e in entries]
    known = r.zmscore(seen, ids) if ids else []
    posts = []
    for entry, score in zip(entries, known, strict=True):
        if score is not None:
            continue
        try:
            post = normalize_entry(entry, parsed.feed, url, now)
        except InvalidPost as exc:
            sink.invalid(dict(entry), exc.reason)
            continue
        if max_age_s is None or post.ts >= now - max_age_s:
            posts.append(post)
    sink.emit(posts)
    if ids:
        pipe = r.pipeline(transaction=False)
        pipe.zadd(seen, {i: now for i in ids}, nx=True)
        pipe.zremrangebyrank(seen, 0, -SEEN_MAX - 1)
        pipe.execute()
    return len(posts)


def run(
    settings: Settings, r: redis.Redis, keys: Keys, stop: threading.Event, *, max_age_s: float | None = 6 * 3600
) -> None:
    """Poll `sources.rss.feeds` every `poll_seconds` until `stop` is set."""
    cfg = settings.event.sources.rss
    sink = Sink.open(
        settings,
        r,
        keys,
        NAME,
        configured=bool(cfg.feeds),
        missing="add feed URLs under sources.rss.feeds in the event file",
        stop=stop,
    )
    if sink is None:
        return
    session = requests.Session()
    with sink.running():
        until_stopped(stop, lambda: _poll_all(session, r, keys, sink, cfg.feeds, cfg.poll_seconds, max_age_s))


def _poll_all(
    session: requests.Session, r: redis.Redis, keys: Keys, sink: Sink, feeds: list[str], every: float, max_age_s
) -> float:
    """One round over every feed; a failing feed is named in the state and the others are still polled."""
    failing = []
    for url in feeds:
        try:
            poll_feed(session, r, keys, sink, url, max_age_s=max_age_s)
        except (requests.RequestException, FeedError) as exc:
            failing.append(str(exc) if isinstance(exc, FeedError) else f"{url}: {type(exc).__name__}")
    if failing:
        sink.state(RECONNECTING, f"{len(failing)} of {len(feeds)} feed(s) failing: {failing[0]}")
    else:
        sink.state(CONNECTED, f"{len(feeds)} feed(s), every {every:g}s")
    return every
