"""Mastodon hashtag and public timelines over the streaming API's server-sent events, HTML made plain text."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import orjson
import redis
import requests

from analytics import entities
from config.settings import Settings
from model.post import InvalidPost, Post, source_post
from store.keys import Keys
from streams.sources.backoff import Backoff, closing_on_stop, until_stopped
from streams.sources.base import CONNECTED, FAILING, RECONNECTING, STREAM_BUFFER, Recent, Sink
from streams.sources.terms import TermFilter

logger = logging.getLogger(__name__)

NAME = "mastodon"
SKIP_TAGS = {"script", "style", "template", "iframe", "object", "noscript"}
BLOCK_TAGS = {"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}


# ---------------------------------------------------------------------------------------------
# HTML, SSE and statuses (pure)


class _PlainText(HTMLParser):
    """Collects the text of untrusted HTML (no markup survives) and the plain links it points to."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP_TAGS:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in BLOCK_TAGS and self.parts:
            self.parts.append("\n\n")
        elif tag == "a":
            attr = dict(attrs)
            classes = (attr.get("class") or "").split()
            if attr.get("href") and not {"mention", "hashtag"} & set(classes):
                self.links.append(attr["href"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag in SKIP_TAGS and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, list[str]]:
    """(plain text, links) from a status's HTML content: tags stripped, entities decoded, scripts dropped."""
    parser = _PlainText()
    parser.feed(html or "")
    parser.close()
    text = "\n".join(" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip(), parser.links


def parse_sse(lines: Iterable[bytes]) -> Iterator[tuple[str, str]]:
    """(event, data) per server-sent event; comments (heartbeats such as `:thump`) as ("comment", text)."""
    event, data = None, []
    for raw in lines:
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if not line:
            if data:
                yield event or "message", "\n".join(data)
            event, data = None, []
        elif line.startswith(":"):
            yield "comment", line[1:].strip()
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
    if data:
        yield event or "message", "\n".join(data)


def _handle(account: dict) -> str:
    acct = account.get("acct") or account.get("username") or ""
    host = urlsplit(account.get("url") or "").hostname
    return acct if "@" in acct or not host else f"{acct}@{host}"


def normalize_status(status: dict) -> Post:
    """A Mastodon Status (the `update` event's JSON) as a Post; a boost keeps the booster as author."""
    if not isinstance(status, dict) or not status.get("id") or not isinstance(status.get("account"), dict):
        raise InvalidPost("status without an id or an account")
    shown = status.get("reblog") or status
    text, links = html_to_text(shown.get("content") or "")
    if shown.get("spoiler_text"):
        text = f"CW: {shown['spoiler_text']}\n\n{text}"
    account = status["account"]
    return source_post(
        {
            "id": f"mastodon:{status['id']}",
            "source": NAME,
            "url": status.get("url") or shown.get("url") or shown.get("uri"),
            "author": {
                "handle": _handle(account),
                "name": account.get("display_name") or "",
                "followers": max(0, n) if isinstance(n := account.get("followers_count"), int) else None,
            },
            "text": text,
            "created_at": status.get("created_at"),
            "lang": shown.get("language"),
            "hashtags": [t.get("name", "") for t in shown.get("tags") or []],
            "mentions": [m.get("acct", "") for m in shown.get("mentions") or []],
            "links": list(dict.fromkeys(links + entities.links(text))),
            "reply_to": f"mastodon:{shown['in_reply_to_id']}" if shown.get("in_reply_to_id") else None,
            "repost_of": f"mastodon:{shown['id']}" if status.get("reblog") else None,
            "quote_of": f"mastodon:{(shown.get('quote') or {}).get('quoted_status', {}).get('id')}"
            if ((shown.get("quote") or {}).get("quoted_status") or {}).get("id")
            else None,
            "engagement": {
                "likes": shown.get("favourites_count") or 0,
                "reposts": shown.get("reblogs_count") or 0,
                "replies": shown.get("replies_count") or 0,
                "quotes": shown.get("quotes_count") or 0,
            },
        },
        entities=False,  # html_to_text has decoded them already
    )


def stream_paths(tags: Iterable[str], public: bool) -> list[str]:
    paths = [f"/api/v1/streaming/hashtag?tag={quote(t.lstrip('#'))}" for t in tags]
    return paths + (["/api/v1/streaming/public"] if public else [])


def streaming_base(session: requests.Session, base: str) -> str:
    """The instance's streaming host (often not the API host), from /api/v2/instance; `base` if unknown."""
    try:
        resp = session.get(f"{base}/api/v2/instance", timeout=10)
        url = ((resp.json().get("configuration") or {}).get("urls") or {}).get("streaming") if resp.ok else None
    except (requests.RequestException, ValueError):
        url = None
    if not url:
        return base
    return url.replace("wss://", "https://", 1).replace("ws://", "http://", 1).rstrip("/")


# ---------------------------------------------------------------------------------------------
# Streaming: one reader thread per timeline, one sink fed by the caller's thread


def _follow(
    session: requests.Session, url: str, out: queue.Queue, stop: threading.Event, stall_s: float, scale: float
) -> None:
    """Read one timeline's SSE until `stop`, reconnecting with back-off; everything goes to `out`."""
    network, http = Backoff.network(scale), Backoff(start=1.0, maximum=120.0, scale=scale)

    def connection() -> float | None:
        try:
            with session.get(url, stream=True, timeout=(10, stall_s)) as resp, closing_on_stop(stop, resp):
                if resp.status_code != 200:
                    state = FAILING if resp.status_code in (401, 403) else RECONNECTING
                    out.put(("state", url, state, f"HTTP {resp.status_code}"))
                    return http.next()
                out.put(("state", url, CONNECTED, ""))
                network.reset(), http.reset()
                for event, data in parse_sse(resp.iter_lines(chunk_size=512)):
                    if stop.is_set():
                        break
                    out.put((event, data, url))
                if stop.is_set():
                    return None
                out.put(("state", url, RECONNECTING, "stream closed by the server"))
                return network.next()
        except requests.RequestException as exc:
            if stop.is_set():
                return None
            stalled = isinstance(exc, requests.ConnectionError) and "timed out" in str(exc).lower()
            detail = f"stalled: no heartbeat for {stall_s:g}s" if stalled else f"network error: {type(exc).__name__}"
            out.put(("state", url, RECONNECTING, detail))
            return network.next()

    until_stopped(stop, connection)


class _Collector:
    """The caller-thread side: statuses to posts (once each), and one honest state for all timelines."""

    def __init__(self, sink: Sink, terms: TermFilter, urls: list[str]):
        self.sink, self.terms = sink, terms
        self.states = {u: RECONNECTING for u in urls}
        self.public = {u for u in urls if u.endswith("/public")}
        self.recent = Recent()

    def take(self, item: tuple) -> None:
        kind = item[0]
        if kind == "state":
            _, url, state, detail = item
            self.states[url] = state
            self._overall(detail)
        elif kind == "update":  # "delete" and "status.update" (edits) are not new posts
            self._status(item[1], from_public=item[2] in self.public)
        elif kind == "comment":
            self.sink.flush()

    def _overall(self, detail: str) -> None:
        down = [u for u, s in self.states.items() if s != CONNECTED]
        if not down:
            self.sink.state(CONNECTED, f"{len(self.states)} timeline(s)")
        else:
            worst = FAILING if any(self.states[u] == FAILING for u in down) else RECONNECTING
            self.sink.state(worst, f"{len(down)} of {len(self.states)} timeline(s) down: {detail}")

    def _status(self, data: str, from_public: bool) -> None:
        try:
            post = normalize_status(orjson.loads(data))
        except (orjson.JSONDecodeError, InvalidPost) as exc:
            self.sink.invalid(data, getattr(exc, "reason", "update event data is not JSON"))
            return
        post.matched_terms = self.terms.match(post)
        # Hashtag timelines are filtered by the server; the public one carries everything.
        if (post.matched_terms or not from_public) and self.recent.first_time(post.id):
            self.sink.emit([post])


def run(
    settings: Settings,
    r: redis.Redis,
    keys: Keys,
    stop: threading.Event,
    *,
    stall_s: float = 60.0,
    backoff_scale: float = 1.0,
) -> None:
    """Follow the event's hashtag timelines (and the public one if asked) until `stop` is set."""
    base, token = settings.get("MASTODON_BASE_URL").rstrip("/"), settings.get("MASTODON_ACCESS_TOKEN")
    cfg = settings.event.sources.mastodon
    sink = Sink.open(
        settings, r, keys, NAME, needs=("MASTODON_BASE_URL", "MASTODON_ACCESS_TOKEN"), stop=stop, buffer=STREAM_BUFFER
    )
    if sink is None:
        return
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Accept": "text/event-stream"})
    streaming = streaming_base(session, base)
    urls = [streaming + p for p in stream_paths(cfg.hashtags or settings.event.hashtags, cfg.public)]
    out: queue.Queue = queue.Queue(maxsize=10_000)
    threads = [
        threading.Thread(
            target=_follow, args=(session, u, out, stop, stall_s, backoff_scale), name=f"mastodon-{i}", daemon=True
        )
        for i, u in enumerate(urls)
    ]
    for t in threads:
        t.start()
    collector = _Collector(sink, TermFilter(settings.event), urls)
    with sink.running():
        try:
            while not stop.is_set() or not out.empty():
                try:
                    collector.take(out.get(timeout=0.2))
                except queue.Empty:
                    sink.flush()
        finally:
            for t in threads:
                t.join(5)
