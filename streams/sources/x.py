"""X API v2 source: the filtered stream (tweepy) with rules synced to the event, or recent-search polling."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterable

import orjson
import redis
import requests
import tweepy

from config.settings import Settings, redact
from model.post import InvalidPost, Post, source_post
from store.keys import Keys
from streams.sources.backoff import Backoff, closing_on_stop, sleep, until_stopped
from streams.sources.base import CONNECTED, FAILING, RECONNECTING, STREAM_BUFFER, Recent, Sink
from streams.sources.terms import HASHTAGS_TERM
from streams.sources.xhost import DEFAULT_BASE, redirect

logger = logging.getLogger(__name__)

NAME = "x"
MAX_RULE_CHARS = 512  # X's rule length limit on the self-serve tiers

EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id", "entities.mentions.username"]
TWEET_FIELDS = [
    "author_id",
    "created_at",
    "lang",
    "public_metrics",
    "entities",
    "referenced_tweets",
    "conversation_id",
    "note_tweet",
]
USER_FIELDS = ["username", "name", "public_metrics", "verified", "verified_type"]
REF_FIELDS = {"replied_to": "reply_to", "retweeted": "repost_of", "quoted": "quote_of"}
DISCONNECT_TITLES = {"operational-disconnect", "ConnectionException"}


# ---------------------------------------------------------------------------------------------
# Normalization (pure)


def normalize_tweet(payload: dict) -> Post:
    """One filtered-stream line (or a search result wrapped as {"data", "includes"}) as a Post."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or not data.get("id"):
        raise InvalidPost("no 'data' object with an 'id'")
    users = {u.get("id"): u for u in (payload.get("includes") or {}).get("users") or [] if isinstance(u, dict)}
    user = users.get(data.get("author_id")) or {}
    handle = user.get("username") or data.get("author_id")
    if not handle:
        raise InvalidPost("tweet has neither an expanded author nor an author_id")
    text = ((data.get("note_tweet") or {}).get("text")) or data.get("text") or ""
    entities = data.get("entities") or {}
    metrics = data.get("public_metrics") or {}
    post = {
        "id": f"x:{data['id']}",
        "source": NAME,
        "url": f"https://x.com/{handle}/status/{data['id']}",
        "author": {
            "handle": handle,
            "name": user.get("name", ""),
            "followers": (user.get("public_metrics") or {}).get("followers_count"),  # None: not expanded
            "verified": bool(user.get("verified")) or user.get("verified_type") in ("blue", "business", "government"),
        },
        "text": text,
        "created_at": data.get("created_at"),
        "lang": data.get("lang"),
        "hashtags": [h.get("tag", "") for h in entities.get("hashtags") or []],
        "mentions": [m.get("username", "") for m in entities.get("mentions") or []],
        "links": [u.get("expanded_url") or u.get("url", "") for u in entities.get("urls") or []],
        "engagement": {
            "likes": metrics.get("like_count", 0),
            "reposts": metrics.get("retweet_count", 0),
            "replies": metrics.get("reply_count", 0),
            "quotes": metrics.get("quote_count", 0),
        },
        "matched_terms": [
            m["tag"] for m in payload.get("matching_rules") or [] if isinstance(m, dict) and m.get("tag")
        ],
    }
    for ref in data.get("referenced_tweets") or []:
        field = REF_FIELDS.get(ref.get("type"))
        if field and ref.get("id"):
            post[field] = f"x:{ref['id']}"
    if post["created_at"] is None:
        raise InvalidPost("data.created_at: missing (ask for tweet.fields=created_at)")
    return source_post(post)  # X sends &amp; &lt; &gt; in text: decoded here


def disconnect_reason(payload: dict) -> str | None:
    """The reason, if this stream line is an error object telling us the connection is over."""
    for err in payload.get("errors") or []:
        if err.get("title") in DISCONNECT_TITLES or err.get("disconnect_type"):
            return f"{err.get('title')}: {err.get('detail') or err.get('disconnect_type')}"
    return None


# ---------------------------------------------------------------------------------------------
# Rules (pure), and their sync through tweepy


def _term(keyword: str) -> str:
    keyword = keyword.replace('"', "").strip()
    if keyword[:1] in "#@" and " " not in keyword:
        return keyword
    return keyword if keyword.isalnum() else f'"{keyword}"'


def rules_for(event) -> list[tuple[str, str]]:
    """(value, tag) rules for the event: one per tracked series (split if too long), tagged with its name."""
    groups: list[tuple[str, list[str]]] = []
    for _, watch in event.watches():
        groups.append((watch.name, list(watch.keywords) + list(getattr(watch, "handles", []))))
    if event.hashtags:
        groups.append((HASHTAGS_TERM, [f"#{h}" for h in event.hashtags]))
    rules: list[tuple[str, str]] = []
    for tag, keywords in groups:
        value = ""
        for term in dict.fromkeys(_term(k) for k in keywords if k.strip()):
            candidate = f"{value} OR {term}" if value else term
            if len(candidate) > MAX_RULE_CHARS and value:
                rules.append((value, tag))
                candidate = term
            value = candidate
        if value:
            rules.append((value, tag))
    return rules


def plan_rules(current: Iterable[dict], desired: list[tuple[str, str]]) -> tuple[list[str], list[tuple[str, str]]]:
    """(ids to delete, (value, tag) to add) so the stream's rules become exactly `desired`."""
    have = {(r.get("value"), r.get("tag")): r.get("id") for r in current}
    want = set(desired)
    return [rid for key, rid in have.items() if key not in want], [k for k in dict.fromkeys(desired) if k not in have]


def sync_rules(client: tweepy.StreamingClient, desired: list[tuple[str, str]]) -> tuple[int, int]:
    """Add missing rules and delete stale ones; returns (added, deleted)."""
    current = client.get_rules().get("data") or []
    delete, add = plan_rules(current, desired)
    if delete:
        client.delete_rules(delete)
    if add:
        reply = client.add_rules([tweepy.StreamRule(value=v, tag=t) for v, t in add])
        for err in reply.get("errors") or []:
            logger.warning("X rejected a rule: %s %s", err.get("title"), err.get("value") or err.get("detail"))
    return len(add), len(delete)


# ---------------------------------------------------------------------------------------------
# Transport: tweepy's session pointed at X_API_BASE_URL, token kept out of logs


class _Redact(logging.Filter):
    def __init__(self, settings: Settings):
        super().__init__()
        self.settings = settings

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.settings)
        record.args = ()
        return True


def _guard_tweepy_logs(settings: Settings) -> None:
    """tweepy logs request headers (the bearer token) at DEBUG: redact its records."""
    for name in ("tweepy.client", "tweepy.streaming"):
        lg = logging.getLogger(name)
        if not any(isinstance(f, _Redact) for f in lg.filters):
            lg.addFilter(_Redact(settings))


def rate_limit(headers) -> dict | None:
    """x-rate-limit-* headers as {"limit", "remaining", "reset"} (reset in epoch seconds)."""
    try:
        return {
            "limit": int(headers["x-rate-limit-limit"]),
            "remaining": int(headers["x-rate-limit-remaining"]),
            "reset": int(headers["x-rate-limit-reset"]),
        }
    except (KeyError, TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# Filtered stream


class FilteredStream(tweepy.StreamingClient):
    """tweepy's StreamingClient with X's documented reconnect schedule, stall detection and a Sink."""

    def __init__(
        self,
        token: str,
        sink: Sink,
        stop: threading.Event,
        base: str,
        stall_s: float = 90.0,
        backoff_scale: float = 1.0,
    ):
        super().__init__(token, return_type=dict)
        self.sink, self.stop, self.base = sink, stop, base.rstrip("/")
        self.stall_s, self.scale = stall_s, backoff_scale
        redirect(self.session, self.base)

    def _connect(self, method, endpoint, params=None, **_):  # replaces tweepy's loop (its sleeps ignore `stop`)
        url = f"{self.base}/2/tweets/{endpoint}/stream"
        self.session.headers["Authorization"] = f"Bearer {self.bearer_token}"
        self.session.headers["User-Agent"] = self.user_agent
        network, http, limited = Backoff.network(self.scale), Backoff.http(self.scale), Backoff.rate_limited(self.scale)
        self.running = True
        until_stopped(self.stop, lambda: self._connection(method, url, params, network, http, limited))
        self.running = False

    def _connection(self, method, url, params, network: Backoff, http: Backoff, limited: Backoff) -> float:
        """One connection to the stream, read until it ends; returns the wait before the next one."""
        try:
            with (
                self.session.request(method, url, params=params, stream=True, timeout=(10, self.stall_s)) as resp,
                closing_on_stop(self.stop, resp),
            ):
                if resp.status_code != 200:
                    return self._http_error(resp, http, limited)
                network.reset(), http.reset(), limited.reset()
                self.sink.state(CONNECTED, "filtered stream")
                reason = self._consume(resp)
                self._lost(reason)
                return 0.0 if reason.startswith("operational") else network.next()
        except requests.RequestException as exc:
            stalled = not isinstance(exc, requests.ConnectTimeout) and "timed out" in str(exc).lower()
            self._lost(f"stalled: nothing for {self.stall_s:g}s" if stalled else f"network error: {type(exc).__name__}")
            return network.next()

    def _lost(self, reason: str) -> None:
        if not self.stop.is_set():
            self.sink.state(RECONNECTING, reason)

    def _http_error(self, resp: requests.Response, http: Backoff, limited: Backoff) -> float:
        limits = rate_limit(resp.headers)
        if limits:
            self.sink.health.rate_limit = limits
        detail = f"HTTP {resp.status_code}: {resp.text[:200]}"
        if resp.status_code == 429:
            self.sink.state(RECONNECTING, f"rate limited (429); {detail}")
            return limited.next()
        self.sink.state(FAILING if resp.status_code in (401, 403) else RECONNECTING, detail)
        return http.next()

    def _consume(self, resp: requests.Response) -> str:
        for line in resp.iter_lines(chunk_size=self.chunk_size):
            if self.stop.is_set():
                return "stopped"
            if not line:
                self.sink.flush()  # keep-alive: health stays fresh while nothing matches
                continue
            reason = self.on_data(line)
            if reason:
                return reason
        return "stream closed by the server"

    def on_data(self, raw_data: bytes) -> str | None:
        """Handle one line; returns a reason when the line says the connection is over."""
        try:
            payload = orjson.loads(raw_data)
        except orjson.JSONDecodeError:
            self.sink.invalid(raw_data, "stream line is not JSON")
            return None
        if not isinstance(payload, dict):
            self.sink.invalid(raw_data, "stream line is not a JSON object")
            return None
        if "data" in payload:
            try:
                self.sink.emit([normalize_tweet(payload)])
            except InvalidPost as exc:
                self.sink.invalid(payload, exc.reason)
            return None
        reason = disconnect_reason(payload)
        if reason is None:
            self.sink.invalid(
                payload, "error object without a post: " + orjson.dumps(payload.get("errors"))[:200].decode()
            )
        return reason


def _stream(settings: Settings, sink: Sink, stop: threading.Event, base: str, stall_s: float, scale: float) -> None:
    client = FilteredStream(settings.get("X_BEARER_TOKEN"), sink, stop, base, stall_s, scale)
    desired = rules_for(settings.event)
    http = Backoff.http(scale)
    while not stop.is_set():
        try:
            added, deleted = sync_rules(client, desired)
            logger.info("x rules in sync: %d added, %d deleted, %d total", added, deleted, len(desired))
            break
        except (tweepy.TweepyException, requests.RequestException) as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            sink.state(
                FAILING if status in (401, 403) else RECONNECTING,
                redact(f"rules sync failed: {type(exc).__name__} {status or ''}".strip(), settings),
            )
            if sleep(stop, http.next()):
                return
    client.filter(expansions=EXPANSIONS, tweet_fields=TWEET_FIELDS, user_fields=USER_FIELDS)


# ---------------------------------------------------------------------------------------------
# Recent-search polling (sources.x.mode == "search")


def rule_hash(value: str) -> str:
    """A recent-search rule's short name in its cursor key (`keys.x_search`)."""
    return hashlib.sha1(value.encode()).hexdigest()[:12]


def _search_once(
    client: tweepy.Client, r: redis.Redis, keys: Keys, sink: Sink, recent: Recent, value: str, tag: str
) -> dict | None:
    """One recent-search request for one rule; emits new posts, saves since_id; returns rate limits."""
    cursor = keys.x_search(rule_hash(value))
    since_id = r.get(cursor)
    resp = client.search_recent_tweets(
        value,
        since_id=since_id.decode() if since_id else None,
        max_results=100,
        expansions=EXPANSIONS,
        tweet_fields=TWEET_FIELDS,
        user_fields=USER_FIELDS,
    )
    body = resp.json()
    posts = []
    for tweet in body.get("data") or []:
        payload = {"data": tweet, "includes": body.get("includes") or {}, "matching_rules": [{"tag": tag}]}
        try:
            post = normalize_tweet(payload)
        except InvalidPost as exc:
            sink.invalid(payload, exc.reason)
            continue
        if recent.first_time(post.id):
            posts.append(post)
    sink.emit(posts)
    newest = (body.get("meta") or {}).get("newest_id")
    if newest:
        r.set(cursor, newest)
    return rate_limit(resp.headers)


def _until_reset(limits: dict | None, fallback: float) -> float:
    if limits and limits["remaining"] <= 0:
        return max(1.0, limits["reset"] - time.time())
    return fallback


def _poll(
    settings: Settings, r: redis.Redis, keys: Keys, sink: Sink, stop: threading.Event, base: str, scale: float
) -> None:
    client = tweepy.Client(settings.get("X_BEARER_TOKEN"), return_type=requests.Response)
    redirect(client.session, base)
    every = settings.event.sources.x.poll_seconds * scale
    rules, recent, http, network = rules_for(settings.event), Recent(), Backoff.http(scale), Backoff.network(scale)

    def round_() -> float:
        delay = every
        try:
            for value, tag in rules:
                limits = _search_once(client, r, keys, sink, recent, value, tag)
                if limits:
                    sink.health.rate_limit = limits
                    delay = max(delay, _until_reset(limits, every))
            sink.state(CONNECTED, "recent search")
            http.reset(), network.reset()
        except tweepy.TooManyRequests as exc:
            sink.health.rate_limit = rate_limit(exc.response.headers)
            sink.state(RECONNECTING, "rate limited (429): waiting for the window to reset")
            delay = _until_reset(sink.health.rate_limit, Backoff.rate_limited(scale).next())
        except tweepy.HTTPException as exc:
            status = exc.response.status_code
            sink.state(FAILING if status in (401, 403) else RECONNECTING, f"recent search HTTP {status}")
            delay = http.next()
        except requests.RequestException as exc:
            sink.state(RECONNECTING, f"network error: {type(exc).__name__}")
            delay = network.next()
        sink.flush(force=True)
        return delay

    until_stopped(stop, round_)


# ---------------------------------------------------------------------------------------------


def run(
    settings: Settings,
    r: redis.Redis,
    keys: Keys,
    stop: threading.Event,
    *,
    stall_s: float = 90.0,
    backoff_scale: float = 1.0,
) -> None:
    """Stream (or poll) X until `stop` is set. Without X_BEARER_TOKEN: NOT_CONFIGURED and return."""
    streaming = settings.event.sources.x.mode == "stream"
    buffer = STREAM_BUFFER if streaming else 0  # the filtered stream must be read on, or X disconnects us
    sink = Sink.open(settings, r, keys, NAME, needs=("X_BEARER_TOKEN",), stop=stop, buffer=buffer)
    if sink is None:
        return
    _guard_tweepy_logs(settings)
    base = settings.get("X_API_BASE_URL") or DEFAULT_BASE
    with sink.running():
        if settings.event.sources.x.mode == "search":
            _poll(settings, r, keys, sink, stop, base, backoff_scale)
        else:
            _stream(settings, sink, stop, base, stall_s, backoff_scale)
