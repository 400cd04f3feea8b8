"""Signed-in browsers: one record per session (TTL = its lifetime), refused once the secret's epoch moves on.

The browser holds only a signed cookie naming the session; what it may do is read from the store on every
request (the user's roles, the kiosk link's state), so disabling a user or revoking a kiosk link takes
effect at the next request.
"""

from __future__ import annotations

import secrets
import time

import orjson
import redis

from store import audit
from store.keys import Keys

USER_TTL_S = 12 * 3600
KIOSK_TTL_S = 30 * 24 * 3600


def new(kind: str, subject: str, epoch: int, address: str, ttl_s: int) -> tuple[str, dict]:
    """A fresh session id and record; `subject` is the user name or the kiosk link id."""
    sid = secrets.token_urlsafe(32)
    now = time.time()
    record = {
        "kind": kind,
        "subject": subject,
        "epoch": epoch,
        "csrf": secrets.token_urlsafe(32),
        "created_at": now,
        "expires_at": now + ttl_s,
        "address": address,
    }
    return sid, record


def queue_create(pipe: redis.client.Pipeline, keys: Keys, sid: str, record: dict, ttl_s: int) -> None:
    """Queue the session on a MULTI pipeline (with the sign-in's audit entry)."""
    pipe.set(keys.session(sid), orjson.dumps(record), ex=ttl_s)
    if record["kind"] == "user":
        pipe.sadd(keys.user_sessions(record["subject"]), sid)
        pipe.expire(keys.user_sessions(record["subject"]), USER_TTL_S * 2)


def queue_delete(pipe: redis.client.Pipeline, keys: Keys, sid: str, record: dict | None) -> None:
    pipe.delete(keys.session(sid))
    if record and record.get("kind") == "user":
        pipe.srem(keys.user_sessions(record["subject"]), sid)


def get(r: redis.Redis, keys: Keys, sid: str) -> dict | None:
    raw = r.get(keys.session(sid))
    return orjson.loads(raw) if raw else None


def epoch(r: redis.Redis, keys: Keys) -> int:
    return int(r.get(keys.session_epoch) or 0)


def bump_epoch(r: redis.Redis, keys: Keys, *, actor, detail: str = "") -> int:
    """Sign everyone out (the session secret was rotated): every session of an older epoch is refused."""

    def build(pipe):
        before = int(pipe.get(keys.session_epoch) or 0)
        pipe.multi()
        pipe.incr(keys.session_epoch)
        audit.append(
            pipe,
            keys,
            audit.entry(
                actor,
                "session.rotate",
                "sessions",
                "all",
                before={"epoch": before},
                after={"epoch": before + 1},
                detail=detail,
            ),
        )
        return before + 1

    return audit.write(r, [keys.session_epoch], build)
