"""X: post with tweepy's `Client.create_tweet` (API v2 POST /2/tweets), user context via OAuth 1.0a.

Environment: X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET (the posting account's), and
X_API_BASE_URL to send to another host (tweepy 4.17 hard-codes https://api.twitter.com: a requests adapter
mounted on its session rewrites the host; left alone for api.x.com/api.twitter.com so OAuth signatures hold).
X has no idempotency key: `find` looks for the exact text among the account's own posts since the intent began.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import requests
import tweepy

from publish import errors
from publish.errors import PublishError
from publish.publisher import Posted, Publisher, Request, _Redact, comparable
from streams.sources.xhost import DEFAULT_BASE, redirect

FIND_SLACK_S = 120  # clocks differ: look this much before the intent's start
METRICS_BATCH = 100  # GET /2/tweets takes up to 100 ids


# tweepy logs request headers and oauthlib the signed parameters at DEBUG: one filter on each of those loggers
# (a logger's filter does not apply to its children, so the modules that log are named).
_REDACT = _Redact([])
for _name in (
    "tweepy.client",
    "requests_oauthlib.oauth1_auth",
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
):
    logging.getLogger(_name).addFilter(_REDACT)


class XPublisher(Publisher):
    network = "x"
    env = ("X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")
    secret_env = env

    def __init__(self, environ=None, **kwargs):
        super().__init__(environ, **kwargs)
        self.base = (self.environ.get("X_API_BASE_URL") or DEFAULT_BASE).rstrip("/")
        self._client: tweepy.Client | None = None
        self._me: str | None = None
        _REDACT.add(self.secrets())

    @property
    def client(self) -> tweepy.Client:
        if self._client is None:
            e = self.environ
            c = tweepy.Client(
                consumer_key=e.get("X_API_KEY"),
                consumer_secret=e.get("X_API_SECRET"),
                access_token=e.get("X_ACCESS_TOKEN"),
                access_token_secret=e.get("X_ACCESS_TOKEN_SECRET"),
                return_type=dict,
                wait_on_rate_limit=False,
            )
            redirect(c.session, self.base)
            self._client = c
        return self._client

    def render_request(self, draft: dict, *, key: str, at: float, refs: dict | None = None) -> Request:
        body: dict = {}
        if draft.get("quote_of"):
            body["quote_tweet_id"] = str(draft["quote_of"])
        if draft.get("reply_to"):
            body["reply"] = {"in_reply_to_tweet_id": str(draft["reply_to"])}
        body["text"] = draft["text"]
        return Request("POST", f"{self.base}/2/tweets", body)

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except tweepy.HTTPException as exc:
            raise _error(exc.response) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise errors.unreachable(self.network, exc) from None

    def send(self, request: Request) -> Posted:
        body = request.json
        data = self._call(
            self.client.create_tweet,
            text=body["text"],
            in_reply_to_tweet_id=(body.get("reply") or {}).get("in_reply_to_tweet_id"),
            quote_tweet_id=body.get("quote_tweet_id"),
            user_auth=True,
        )["data"]
        return Posted(self.network, str(data["id"]), f"https://x.com/i/web/status/{data['id']}", _now())

    def me(self) -> str:
        if self._me is None:
            self._me = str(self._call(self.client.get_me, user_auth=True)["data"]["id"])
        return self._me

    def find(self, intent: dict) -> Posted | None:
        self.require_configured()
        since = datetime.fromtimestamp(intent["started_at"] - FIND_SLACK_S, tz=UTC).replace(microsecond=0)
        want = comparable(intent["request"]["json"]["text"])
        page = self._call(
            self.client.get_users_tweets,
            self.me(),
            start_time=since,
            max_results=100,
            tweet_fields=["created_at"],
            user_auth=True,
        )
        for tweet in page.get("data") or []:
            if comparable(tweet.get("text", "")) == want:
                return Posted(self.network, str(tweet["id"]), f"https://x.com/i/web/status/{tweet['id']}", _now())
        return None

    def metrics(self, ids: list[str]) -> dict[str, dict]:
        self.require_configured()
        out: dict[str, dict] = {}
        for i in range(0, len(ids), METRICS_BATCH):
            page = self._call(
                self.client.get_tweets, ids[i : i + METRICS_BATCH], tweet_fields=["public_metrics"], user_auth=True
            )
            for tweet in page.get("data") or []:
                m = tweet.get("public_metrics") or {}
                out[str(tweet["id"])] = {
                    "likes": m.get("like_count", 0),
                    "reposts": m.get("retweet_count", 0),
                    "replies": m.get("reply_count", 0),
                    "quotes": m.get("quote_count", 0),
                }
        return out


def _now() -> float:
    return datetime.now(UTC).timestamp()


def _error(response: requests.Response) -> PublishError:
    try:
        j = response.json()
    except ValueError:
        j = {}
    message = j.get("detail") or "; ".join(e.get("message", "") for e in j.get("errors") or []) or j.get("title", "")
    return errors.from_status(
        "x", response.status_code, message, dict(response.headers), env_hint="X_API_KEY and X_ACCESS_TOKEN"
    )
