"""Bluesky through Jetstream (WebSocket JSON): post creates filtered by the event's terms, resumable by cursor."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson
import redis
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import connect

from analytics import entities
from config.settings import Settings
from model.post import InvalidPost, Post, source_post
from store import health as health_store
from store.keys import Keys
from streams.sources.backoff import Backoff, until_stopped
from streams.sources.base import CONNECTED, RECONNECTING, STREAM_BUFFER, Sink
from streams.sources.terms import TermFilter

logger = logging.getLogger(__name__)

NAME = "bluesky"
DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
POST = "app.bsky.feed.post"
CLOCK_SKEW_S = 600  # a record's createdAt further than this from Jetstream's time is not trusted


# ---------------------------------------------------------------------------------------------
# Normalization and filtering (pure)


def _facets(record: dict) -> tuple[list[str], list[str]]:
    """(tags, links) declared in the record's rich-text facets."""
    tags, links = [], []
    for facet in record.get("facets") or []:
        for feature in (facet or {}).get("features") or []:
            kind = (feature or {}).get("$type", "")
            if kind.endswith("#tag") and feature.get("tag"):
                tags.append(feature["tag"])
            elif kind.endswith("#link") and feature.get("uri"):
                links.append(feature["uri"])
    return tags, links


def _quoted(record: dict) -> str | None:
    embed = record.get("embed") or {}
    kind = embed.get("$type", "")
    if kind == "app.bsky.embed.record":
        uri = (embed.get("record") or {}).get("uri")
    elif kind == "app.bsky.embed.recordWithMedia":
        uri = ((embed.get("record") or {}).get("record") or {}).get("uri")
    else:
        uri = None
    return f"bluesky:{uri}" if uri else None


def _created_at(record: dict, time_us: int | None) -> datetime:
    seen = datetime.fromtimestamp(time_us / 1e6, UTC) if isinstance(time_us, int) else None
    try:
        claimed = datetime.fromisoformat(str(record.get("createdAt")))
        claimed = claimed if claimed.tzinfo else claimed.replace(tzinfo=UTC)
    except ValueError:
        claimed = None
    if claimed and (seen is None or abs((claimed - seen).total_seconds()) <= CLOCK_SKEW_S):
        return claimed
    if seen is None:
        raise InvalidPost("record.createdAt is not a date and the event has no time_us")
    return seen


def normalize_event(event: dict) -> Post | None:
    """A Jetstream event as a Post; None for anything but an app.bsky.feed.post create."""
    commit = event.get("commit") if isinstance(event, dict) and event.get("kind") == "commit" else None
    if not isinstance(commit, dict) or commit.get("operation") != "create" or commit.get("collection") != POST:
        return None
    record, did, rkey = commit.get("record") or {}, event.get("did"), commit.get("rkey")
    if not did or not rkey:
        raise InvalidPost("commit without did or rkey")
    text = record.get("text")
    if not isinstance(text, str):
        raise InvalidPost("commit.record.text: missing or not a string")
    tags, links = _facets(record)
    parent = ((record.get("reply") or {}).get("parent") or {}).get("uri")
    langs = [x for x in record.get("langs") or [] if isinstance(x, str)]
    return source_post(
        {
            "id": f"bluesky:at://{did}/{POST}/{rkey}",
            "source": NAME,
            "url": f"https://bsky.app/profile/{did}/post/{rkey}",
            "author": {"handle": did},
            "text": text,
            "created_at": _created_at(record, event.get("time_us")),
            "lang": langs[0] if langs else None,
            "langs": langs,  # every language, not just the first
            "hashtags": tags + entities.hashtags(text),
            "mentions": entities.mentions(text),
            "links": list(dict.fromkeys(links + entities.links(text))),
            "reply_to": f"bluesky:{parent}" if parent else None,
            "quote_of": _quoted(record),
        },
        entities=False,  # Bluesky text is plain: a literal "&amp;" is what the person typed
    )


def subscribe_url(base: str, cursor: int | None) -> str:
    """The Jetstream URL for post commits, from `cursor` (time_us) if given."""
    parts = urlsplit(base)
    query = [("wantedCollections", POST)] + ([("cursor", str(cursor))] if cursor is not None else [])
    extra = "&".join(q for q in [parts.query, urlencode(query)] if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/subscribe", extra, ""))


# ---------------------------------------------------------------------------------------------
# Consuming, with a durable cursor and an "already emitted" window


class Consumer:
    """Turns Jetstream messages into posts; remembers where it is so a restart neither loses nor doubles."""

    def __init__(
        self,
        r: redis.Redis,
        keys: Keys,
        sink: Sink,
        terms: TermFilter,
        rewind_s: float = 5.0,
        save_every_s: float = 1.0,
    ):
        self.r, self.keys, self.sink, self.terms = r, keys, sink, terms
        self.rewind_us = int(rewind_s * 1e6)
        self.save_every_s = save_every_s
        self.last_us: int | None = None
        self._saved_at = 0.0
        self.emitted_key = keys.bluesky_emitted

    def resume_cursor(self) -> int | None:
        """A few seconds before the last event handled (here or by the previous run); None = live tail."""
        last = self.last_us
        if last is None:
            saved = health_store.load_cursor(self.r, self.keys, NAME)
            last = int(saved) if saved and saved.isdigit() else None
        return None if last is None else max(0, last - self.rewind_us)

    def handle(self, raw: str | bytes) -> None:
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self.sink.invalid(raw, "Jetstream message is not JSON")
            return
        time_us = event.get("time_us") if isinstance(event, dict) else None
        if isinstance(time_us, int):
            self.last_us = max(self.last_us or 0, time_us)
        try:
            post = normalize_event(event)
        except InvalidPost as exc:
            self.sink.invalid(event, exc.reason)
            return
        if post is not None:
            self._offer(post, time_us if isinstance(time_us, int) else self.last_us or 0)
        self.maybe_save()

    def _offer(self, post: Post, time_us: int) -> None:
        post.matched_terms = self.terms.match(post)
        if not post.matched_terms or self.r.zscore(self.emitted_key, post.id) is not None:
            return  # not about the event, or emitted before a reconnect/restart rewound the cursor
        self.sink.emit([post])
        self.r.zadd(self.emitted_key, {post.id: time_us})

    def maybe_save(self) -> None:
        if time.monotonic() - self._saved_at >= self.save_every_s:
            self.save()

    def save(self) -> None:
        self._saved_at = time.monotonic()
        if self.last_us is None:
            return
        health_store.save_cursor(self.r, self.keys, NAME, str(self.last_us))
        # Ids older than any rewind could replay are no longer needed.
        self.r.zremrangebyscore(self.emitted_key, "-inf", self.last_us - 2 * self.rewind_us - 60_000_000)


def run(
    settings: Settings,
    r: redis.Redis,
    keys: Keys,
    stop: threading.Event,
    *,
    rewind_s: float = 5.0,
    save_every_s: float = 1.0,
    stall_s: float = 60.0,
    backoff_scale: float = 1.0,
) -> None:
    """Follow Jetstream until `stop` is set (no credentials needed; BLUESKY_JETSTREAM_URL overrides)."""
    sink = Sink.open(settings, r, keys, NAME, stop=stop, buffer=STREAM_BUFFER)
    if sink is None:
        return
    base = settings.get("BLUESKY_JETSTREAM_URL") or DEFAULT_URL
    consumer = Consumer(r, keys, sink, TermFilter(settings.event), rewind_s, save_every_s)
    backoff = Backoff(start=0.5, maximum=30.0, scale=backoff_scale)

    def connection() -> float | None:
        reason = _session(base, consumer, sink, stop, stall_s, backoff)
        consumer.save()
        if stop.is_set():
            return None
        sink.state(RECONNECTING, reason)
        return backoff.next()

    with sink.running():
        try:
            until_stopped(stop, connection)
        finally:
            consumer.save()


def _session(base: str, consumer: Consumer, sink: Sink, stop: threading.Event, stall_s: float, backoff: Backoff) -> str:
    """One connection, read until it ends; returns why it ended."""
    cursor = consumer.resume_cursor()
    try:
        with connect(subscribe_url(base, cursor), open_timeout=10, close_timeout=1, max_size=2**22) as ws:
            sink.state(CONNECTED, f"jetstream from cursor {cursor}" if cursor else "jetstream live")
            backoff.reset()
            last = time.monotonic()
            while not stop.is_set():
                try:
                    message = ws.recv(timeout=0.5)
                except TimeoutError:
                    consumer.maybe_save()
                    sink.flush()
                    if time.monotonic() - last > stall_s:
                        return f"stalled: nothing for {stall_s:g}s"
                    continue
                last = time.monotonic()
                consumer.handle(message)
            return "stopped"
    except ConnectionClosed as exc:
        return f"connection closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
        return f"cannot connect: {type(exc).__name__}"
