"""Reddit (praw): new submissions and comments in the event's subreddits, only when app credentials are set."""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime

import redis

from analytics import entities
from config.settings import Settings
from model.post import MAX_TEXT, InvalidPost, Post, source_post
from store.keys import Keys
from streams.sources.backoff import Backoff, until_stopped
from streams.sources.base import CONNECTED, FAILING, RECONNECTING, Recent, Sink
from streams.sources.terms import TermFilter

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
    return source_post(post, find_mentions=False)  # Reddit's JSON escapes & < > in titles and bodies


def normalize_comment(d: dict) -> Post:
    """A comment (a t1 listing item's `data`) as a Post replying to its parent."""
    post = _common(d, "t1", d.get("body") or "")
    post["engagement"] = {"likes": max(0, int(d.get("score") or 0))}
    if d.get("parent_id"):
        post["reply_to"] = f"{NAME}:{d['parent_id']}"
    return source_post(post, find_mentions=False)


def as_dict(thing) -> dict:
    """praw's lazy object as the listing JSON it came from (author and subreddit as names)."""
    d = {k: v for k, v in vars(thing).items() if not k.startswith("_")}
    d["author"] = str(d["author"]) if d.get("author") else "[deleted]"
    d["subreddit"] = str(d.get("subreddit", ""))
    return d


def _drain(stream, normalize, sink: Sink, terms: TermFilter, seen: Recent) -> int:
    """Everything new on one praw stream (it yields None when caught up); returns how many new items came."""
    count = 0
    for thing in stream:
        if thing is None:
            break
        d = as_dict(thing)
        if d.get("name") and not seen.first_time(d["name"]):
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
    client_id, secret = settings.get("REDDIT_CLIENT_ID"), settings.get("REDDIT_CLIENT_SECRET")
    cfg = settings.event.sources.reddit
    sink = Sink.open(
        settings,
        r,
        keys,
        NAME,
        needs=("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET"),
        enabled=cfg.enabled and bool(cfg.subreddits),
        disabled="enable sources.reddit and list subreddits in the event file",
        stop=stop,
    )
    if sink is None:
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
    # praw's memory of what it yielded dies with its generator; a stream rebuilt after an error (with
    # `continue_after_id`) would yield older items again once a poll finds nothing new: ours outlives it.
    seen = {"t3": Recent(2000), "t1": Recent(2000)}

    def connection() -> float | None:
        submissions = _stream(subreddit.stream.submissions, seen["t3"].newest)
        comments = _stream(subreddit.stream.comments, seen["t1"].newest)

        def round_() -> float:
            got = _drain(submissions, normalize_submission, sink, terms, seen["t3"])
            got += _drain(comments, normalize_comment, sink, terms, seen["t1"])
            sink.health.rate_limit = dict(reddit.auth.limits)
            sink.state(CONNECTED, f"r/{'+'.join(cfg.subreddits)}")
            backoff.reset()
            return 0.0 if got else idle_s

        try:
            until_stopped(stop, round_)
            return None
        except (
            prawcore.exceptions.OAuthException,
            prawcore.exceptions.Forbidden,
            prawcore.exceptions.ResponseException,
            prawcore.exceptions.RequestException,
        ) as exc:
            sink.state(FAILING if _is_refused(exc, prawcore) else RECONNECTING, f"reddit: {_describe(exc)}")
            return backoff.next()

    with sink.running():
        until_stopped(stop, connection)
