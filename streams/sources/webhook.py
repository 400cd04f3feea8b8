"""Webhook ingest: posts in the normalized schema POSTed by other tools, checked and appended to the stream.

The answer is the truth about the batch: 202 only for posts that are in the stream, every invalid post
dead-lettered with its reason and listed by index, and nothing after the write can turn an accepted
batch into an error (a sender that retries would re-send posts we already have).
"""

from __future__ import annotations

import hmac
import logging
import time
from typing import NamedTuple

import orjson
import redis

from model.post import InvalidPost, Post, source_post
from store import posts as post_store
from store.keys import Keys
from streams.sources.base import CONNECTED, Pressure, Sink

logger = logging.getLogger(__name__)

NAME = "webhook"
MAX_ERRORS_LISTED = 100
RETRY_AFTER_S = 2  # what a sender is told to wait while the store is unavailable (`up` restarts it at once)
BACKLOG_RETRY_AFTER_S = 1  # ... and while the backlog is over its budget (the budget is checked 4 times a second)
DEAD_DEPTH = 32  # a payload nested deeper is dead-lettered cut at this depth (orjson writes at most 254 levels)
CUT = "…(cut: nested too deep to store)"


class Reply(NamedTuple):
    """What POST /api/ingest answers. A (body, status, headers) tuple, which a Flask view can return as it is."""

    content: bytes
    status: int
    headers: dict[str, str]

    @property
    def body(self) -> dict:
        return orjson.loads(self.content)


def _error(status: int, message: str) -> tuple[int, dict]:
    return status, {"error": message}


def authorized(authorization: str | None, token: str) -> bool:
    """True when the header is `Bearer <token>`; constant-time compare."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def _payloads(body: bytes, max_posts: int) -> list | tuple[int, dict]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _error(400, f"body is not JSON ({exc.msg} at char {exc.pos}); send a JSON array of posts")
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return _error(400, f"body is a JSON {type(data).__name__}; send an array of posts (or one post object)")
    if len(data) > max_posts:
        return _error(400, f"too many posts: {len(data)} in one request, at most {max_posts}; split the batch")
    return data


def _validate(item) -> Post:
    if not isinstance(item, dict):
        raise InvalidPost(f"post is a JSON {type(item).__name__}, not an object")
    item = {"source": NAME, **item}
    item.pop("received_at", None)  # freshness is measured from our clock, not the sender's
    post = source_post(item)  # entities decoded, hashtags and mentions found in the text
    try:
        post.to_json()  # what the stream will hold: a value the model takes but JSON cannot carry is refused here
    except orjson.JSONEncodeError as exc:
        raise InvalidPost(f"post cannot be stored as JSON: {exc}") from None
    return post


def _check(item) -> Post | str:
    """The post, or why it is not one. Hostile input of any shape is the sender's error, never ours."""
    try:
        return _validate(item)
    except InvalidPost as exc:
        return exc.reason
    except Exception as exc:  # noqa: BLE001 - e.g. RecursionError; whatever it is, the post is refused with a reason
        logger.warning("ingest: a post could not be read", exc_info=True)
        return f"post could not be read ({type(exc).__name__})"


def _cut(value, depth: int):
    """A JSON value that can always be written: containers deeper than `depth` replaced by a marker."""
    if isinstance(value, dict | list) and depth <= 0:
        return CUT
    if isinstance(value, dict):
        return {str(k): _cut(v, depth - 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut(v, depth - 1) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def storable(item) -> bytes:
    """The payload as JSON for the dead letters, whole when possible, else cut down (never raises)."""
    try:
        return orjson.dumps(item)
    except orjson.JSONEncodeError:
        pass
    try:
        return orjson.dumps(_cut(item, DEAD_DEPTH))
    except orjson.JSONEncodeError:  # cannot happen for parsed JSON; the reason is still kept
        return orjson.dumps(f"unserialisable {type(item).__name__}")


def _unavailable(exc: redis.RedisError) -> tuple[int, dict]:
    return 503, {
        "error": f"the store is unavailable ({type(exc).__name__}): the batch was not accepted; "
        f"send it again in {RETRY_AFTER_S} s",
        "retry_after_s": RETRY_AFTER_S,
    }


def _held_back(reason: str) -> tuple[int, dict]:
    return 503, {
        "error": f"{reason}: the batch was not accepted (nothing is dropped here); "
        f"send it again in {BACKLOG_RETRY_AFTER_S} s",
        "reason": "backlog over budget",
        "retry_after_s": BACKLOG_RETRY_AFTER_S,
    }


def ingest(
    r: redis.Redis,
    keys: Keys,
    body: bytes,
    authorization: str | None,
    token: str,
    *,
    max_bytes: int = 1_000_000,
    max_posts: int = 1000,
    pressure: Pressure | None = None,
) -> tuple[int, dict]:
    """Check and append a batch; returns (HTTP status, JSON body) for POST /api/ingest. Never raises for input.

    503 ingest disabled (no token configured), 401 missing or wrong bearer token, 413 body too large,
    400 not JSON / not an array / too many posts, 202 when the batch was taken (accepted posts are in the
    stream before this returns; invalid ones are dead-lettered and listed by index), 422 when every post
    in the batch was invalid, 503 with `retry_after_s` when the store cannot be written or the backlog is over
    its budget (`pressure`; nothing accepted, nothing dropped: the sender keeps the batch and sends it again).
    """
    if not token:
        return _error(503, "ingest is disabled: set WARROOM_INGEST_TOKEN to enable it")
    if not authorized(authorization, token):
        return _error(401, "missing or wrong bearer token: send 'Authorization: Bearer <WARROOM_INGEST_TOKEN>'")
    if len(body) > max_bytes:
        return _error(413, f"body is {len(body)} bytes; at most {max_bytes} per request, split the batch")
    items = _payloads(body, max_posts)
    if isinstance(items, tuple):
        return items
    good: list[Post] = []
    dead: list[tuple[int, object, str]] = []
    for index, item in enumerate(items):
        checked = _check(item)
        if isinstance(checked, str):
            dead.append((index, item, checked))
        else:
            good.append(checked)
    try:
        if pressure is not None and (why := pressure.over()):
            return _held_back(why)
        # Dead letters first: if the store goes away in between, nothing was accepted and a 503 is the truth.
        for _, item, reason in dead:
            post_store.dead_letter(r, keys, storable(item), reason, NAME)
        post_store.append(r, keys, good)
    except redis.RedisError as exc:
        logger.warning("ingest: store unavailable (%s); %d posts refused with 503", type(exc).__name__, len(items))
        return _unavailable(exc)
    # From here on the posts are in the stream: only building the answer is left.
    errors = [{"index": index, "reason": reason} for index, _, reason in dead[:MAX_ERRORS_LISTED]]
    status = 422 if dead and not good else 202
    return status, {"accepted": len(good), "rejected": len(dead), "errors": errors}


def receive(sink: Sink, body: bytes, authorization: str | None, token: str, **limits: int) -> Reply:
    """POST /api/ingest as a whole: `ingest` (`limits`: its max_bytes, max_posts), the webhook's health row, the answer.

    A 503 for an unavailable store carries `Retry-After`. Once posts are accepted nothing may fail the
    request: a health write that fails is logged, not raised.
    """
    status, reply = ingest(sink.r, sink.keys, body, authorization, token, pressure=sink.pressure, **limits)
    if reply.get("accepted"):
        _account(sink, reply["accepted"])
    headers = {"Content-Type": "application/json"}
    if "retry_after_s" in reply:
        headers["Retry-After"] = str(reply["retry_after_s"])
    return Reply(orjson.dumps(reply), status, headers)


def _account(sink: Sink, accepted: int) -> None:
    try:
        sink.health.count(accepted, time.time())
        sink.state(CONNECTED, "POST /api/ingest")
    except Exception:  # noqa: BLE001 - the posts are in the stream; the health row is not worth a 5xx
        logger.warning("ingest: %d posts accepted, but the webhook's health was not written", accepted, exc_info=True)
