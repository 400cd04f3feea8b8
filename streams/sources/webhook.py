"""Webhook ingest: posts in the normalized schema POSTed by other tools, checked and appended to the stream."""

from __future__ import annotations

import hmac
import logging

import orjson
import redis

from model.post import InvalidPost, Post, parse_post
from store import posts as post_store
from store.keys import Keys

logger = logging.getLogger(__name__)

NAME = "webhook"
MAX_ERRORS_LISTED = 100


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
    return parse_post(item)


def ingest(
    r: redis.Redis,
    keys: Keys,
    body: bytes,
    authorization: str | None,
    token: str,
    *,
    max_bytes: int = 1_000_000,
    max_posts: int = 1000,
) -> tuple[int, dict]:
    """Check and append a batch; returns (HTTP status, JSON body) for POST /api/ingest.

    503 ingest disabled (no token configured), 401 missing or wrong bearer token, 413 body too large,
    400 not JSON / not an array / too many posts, 202 when the batch was taken (accepted posts are in the
    stream before this returns; invalid ones are dead-lettered and listed by index), 422 when every post
    in the batch was invalid.
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
    errors: list[dict] = []
    for index, item in enumerate(items):
        try:
            good.append(_validate(item))
        except InvalidPost as exc:
            post_store.dead_letter(r, keys, item if isinstance(item, dict) else orjson.dumps(item), exc.reason, NAME)
            errors.append({"index": index, "reason": exc.reason})
    post_store.append(r, keys, good)
    status = 422 if errors and not good else 202
    return status, {"accepted": len(good), "rejected": len(errors), "errors": errors[:MAX_ERRORS_LISTED]}
