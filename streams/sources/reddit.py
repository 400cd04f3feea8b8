"""Reddit (praw): new submissions and comments in the event's subreddits, only when app credentials are set."""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from datetime import UTC, datetime

import redis

from analytics import entities
from config.settings import Settings
from model.post import MAX_TEXT, InvalidPost, Post, parse_post
from store.keys import Keys
from streams.sources.backoff import Backoff, sleep
from streams.sources.base import (
    CONNECTED,
    FAILING,
    NOT_CONFIGURED,
    RECONNECTING,
    STOPPED,
    Sink,
)
from streams.sources.bluesky import TermFilter

logger = logging.getLogger(__name__)

NAME = "reddit"
SITE = "https://www.reddit.com"
USER_AGENT = "python:war-room:1.0 (live event monitor)"
USER_MENTION = re.compile(r"(?<![\w/])/?u/([A-Za-z0-9_-]{3,20})")
IDLE_S = 2.5  # between listing rounds with nothing new: 2 requests a round stays under 100 per minute


def _common(d: dict, kind: str, text: str) -> dict:
    if not d.get("id") or d.get("created_utc") is None:
        raise InvalidPost(f"{kind} without an id or created_utc")
    text = text[:MAX_TEXT]
    return {
        "id": f"{NAME}:{d.get('name') or f'{kind}_' + d['id']}",
        "source": NAME,
        "url": SITE + d["permalink"] if str(d.get("permalink", "")).startswith("/") else d.get("permalink"),
        "author": {"handle": str(d.get("author") or "[deleted]")},
        "text": text,
        "created_at": datetime.fromtimestamp(float(d["created_utc"]), UTC),
        "hashtags": entities.hashtags(text),
        "links": entities.links(text),
        "mentions": USER_MENTION.findall(text),
    }


def normalize_submission(d: dict) -> Post:
    """A submission (a t3 listing item's `data`, or praw's attributes) as a Post."""
    text = "\n\n".join(t for t in (d.get("title") or "", d.get("selftext") or "") if t)
    post = _common(d, "t3", text)
    if d.get("url") and not d.get("is_self"):
        post["links"] = [d["url"]] + post["links"]
    post["engagement"] = {"likes": max(0, int(d.get("score") or 0)), "replies": int(d.get("num_comments") or 0)}
    if d.get("crosspost_parent"):
        post["repost_of"] = f"{NAME}:{d['crosspost_parent']}"
    return parse_post(post)


def normalize_comment(d: dict) -> Post:
    """A comment (a t1 listing item's `data`) as a Post replying to its parent."""
    post = _common(d, "t1", d.get("body") or "")
    post["engagement"] = {"likes": max(0, int(d.get("score") or 0))}
    if d.get("parent_id"):
        post["reply_to"] = f"{NAME}:{d['parent_id']}"
    return parse_post(post)


def as_dict(thing) -> dict:
    """praw's lazy object as the listing JSON it came from (author and subreddit as names)."""
    d = {k: v for k, v in vars(thing).items() if not k.startswith("_")}
    d["author"] = str(d["author"]) if d.get("author") else "[deleted]"
    d["subreddit"] = str(d.get("subreddit", ""))
    return d


class Seen:
    """The newest fullname and the last `size` fullnames of one listing, kept across rebuilt praw streams.

    praw's own memory of what it yielded dies with its generator; a stream rebuilt after an error
    (with `continue_after_id`) would yield older items again once a poll finds nothing new.
    """

    def __init__(self, size: int = 2000):
        self.newest: str | None = None
        self._order: deque[str] = deque(maxlen=size)
        self._set: set[str] = set()

    def add(self, name: str) -> bool:
        """Remember `name`; False if it was already seen."""
        if name in self._set:
            return False
        if len(self._order) == self._order.maxlen:
            self._set.discard(self._order[0])
        self._order.append(name)
        self._set.add(name)
        self.newest = name
        return True


def _drain(stream, normalize, sink: Sink, terms: TermFilter, seen: Seen) -> int:
    """Everything new on one praw stream (it yields None when caught up); returns how many new items came."""
    count = 0
    for thing in stream:
        if thing is None:
            break
        d = as_dict(thing)
        if d.get("name") and not seen.add(d["name"]):
            continue
        count += 1
        try:
            post = normalize(d)
        except (InvalidPost, ValueError, TypeError) as exc:
            sink.invalid(d, getattr(exc, "reason", str(exc)))
            continue
        post.matched_terms = terms.match(post)
        sink.emit([post])
    return count


def _is_refused(exc: Exception, prawcore) -> bool:
    """Reddit said no to these credentials (bad id/secret: 401 on the token endpoint; banned: 403)."""
    if isinstance(exc, prawcore.exceptions.OAuthException | prawcore.exceptions.Forbidden):
        return True
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) in (401, 403)


def _describe(exc: Exception) -> str:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return f"{type(exc).__name__} (HTTP {status})" if status else type(exc).__name__


def _stream(listing, last: str | None):
    """praw's stream over `listing`: from now on the first connect, after `last` on a reconnect."""
    if last:
        return listing(pause_after=-1, continue_after_id=last)
    return listing(pause_after=-1, skip_existing=True)


def run(
    settings: Settings,
    r: redis.Redis,
    keys: Keys,
    stop: threading.Event,
    *,
    backoff_scale: float = 1.0,
    idle_s: float = IDLE_S,
    praw_options: dict | None = None,
) -> None:
    """Follow the configured subreddits until `stop` is set; NOT_CONFIGURED without REDDIT_CLIENT_ID/SECRET.

    `praw_options` go to praw.Reddit as config settings (e.g. `oauth_url`/`reddit_url` for a proxy or a test
    server). Posts that arrive while Reddit is failing are fetched on reconnect (up to one listing page).
    """
    sink = Sink(r, keys, NAME)
    client_id, secret = settings.get("REDDIT_CLIENT_ID"), settings.get("REDDIT_CLIENT_SECRET")
    cfg = settings.event.sources.reddit
    if not client_id or not secret:
        sink.state(NOT_CONFIGURED, "set REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET")
        return
    if not cfg.enabled or not cfg.subreddits:
        sink.state(STOPPED, "enable sources.reddit and list subreddits in the event file")
        return
    import praw  # only imported when configured
    import prawcore

    reddit = praw.Reddit(
        client_id=client_id,
        client_secret=secret,
        user_agent=USER_AGENT,
        check_for_updates=False,
        **(praw_options or {}),
    )
    subreddit = reddit.subreddit("+".join(cfg.subreddits))
    terms = TermFilter(settings.event)
    backoff = Backoff(start=5.0, maximum=300.0, scale=backoff_scale)
    seen = {"t3": Seen(), "t1": Seen()}
    try:
        while not stop.is_set():
            try:
                submissions = _stream(subreddit.stream.submissions, seen["t3"].newest)
                comments = _stream(subreddit.stream.comments, seen["t1"].newest)
                while not stop.is_set():
                    got = _drain(submissions, normalize_submission, sink, terms, seen["t3"]) + _drain(
                        comments, normalize_comment, sink, terms, seen["t1"]
                    )
                    sink.health.rate_limit = dict(reddit.auth.limits)
                    sink.state(CONNECTED, f"r/{'+'.join(cfg.subreddits)}")
                    backoff.reset()
                    if not got and sleep(stop, idle_s):
                        break
            except (
                prawcore.exceptions.OAuthException,
                prawcore.exceptions.Forbidden,
                prawcore.exceptions.ResponseException,
                prawcore.exceptions.RequestException,
            ) as exc:
                sink.state(FAILING if _is_refused(exc, prawcore) else RECONNECTING, f"reddit: {_describe(exc)}")
                if sleep(stop, backoff.next()):
                    break
    finally:
        sink.state(STOPPED)
