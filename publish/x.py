"""X: post with tweepy's `Client.create_tweet` (API v2 POST /2/tweets), user context via OAuth 1.0a.

Environment: X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET (the posting account's), and
X_API_BASE_URL to send to another host (tweepy 4.17 hard-codes https://api.twitter.com: a requests adapter
mounted on its session rewrites the host; left alone for api.x.com/api.twitter.com so OAuth signatures hold).
X has no idempotency key: `find` looks for the exact text among the account's own posts since the intent began.

An image goes up first with X API v2's media upload (POST /2/media/upload, multipart, OAuth 1.0a user context),
its alt text with POST /2/media/metadata, then the post carries `media.media_ids`. tweepy 4.17 has no v2 media
upload (its `API.media_upload` is v1.1's upload.twitter.com, which X retired in 2025), so these two requests go
through the tweepy Client's own session and OAuth 1.0a handler, to the same host as the rest.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import requests
import tweepy

from publish import errors
from publish.errors import PublishError
from publish.media import Image
from publish.publisher import MEDIA_PENDING, Posted, Publisher, Request, _Redact, comparable
from streams.sources.xhost import DEFAULT_BASE, TWEEPY_HOST, redirect

FIND_SLACK_S = 120  # clocks differ: look this much before the intent's start
METRICS_BATCH = 100  # GET /2/tweets takes up to 100 ids
UPLOAD = "/2/media/upload"
METADATA = "/2/media/metadata"
MAX_ALT = 1000  # X's limit for alt text


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
        media = self.media_for(draft, self.base + UPLOAD)
        if media:
            body["media"] = {"media_ids": [MEDIA_PENDING]}
        return Request("POST", f"{self.base}/2/tweets", body, media=media)

    def upload(self, image: Image) -> str:
        """The media id of the uploaded image, its alt text set."""
        c = self.client
        auth = tweepy.OAuth1UserHandler(
            c.consumer_key, c.consumer_secret, c.access_token, c.access_token_secret
        ).apply_auth()
        category = "tweet_gif" if image.mime == "image/gif" else "tweet_image"
        try:
            resp = c.session.post(
                TWEEPY_HOST + UPLOAD,  # the Client's host: the same redirect applies (X_API_BASE_URL)
                files={"media": (image.filename, image.data, image.mime)},
                data={"media_category": category},
                auth=auth,
                timeout=self.timeout_s,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise errors.unreachable(self.network, exc) from None
        if not 200 <= resp.status_code < 300:
            raise _error(resp)
        try:
            media_id = str(resp.json()["data"]["id"])
        except (ValueError, KeyError, TypeError):
            raise errors.from_status(self.network, 502, "the media upload answered without a media id") from None
        if image.alt:
            body = {"id": media_id, "metadata": {"alt_text": {"text": image.alt[:MAX_ALT]}}}
            self._call(c.request, "POST", METADATA, json=body, user_auth=True)
        return media_id

    def attach(self, request: Request, uploaded: list) -> Request:
        body = {**request.json, "media": {"media_ids": [str(m) for m in uploaded]}}
        return Request(request.method, request.url, body, request.headers, request.encoding, request.media)

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
            media_ids=(body.get("media") or {}).get("media_ids"),
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
