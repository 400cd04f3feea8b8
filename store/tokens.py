"""Bearer secrets: API tokens (scoped, revocable), kiosk links (one wall screen each), one-time sign-in links.

Only the SHA-256 of a secret is stored (the secrets are 256-bit random, so a slow hash adds nothing); the
secret itself is shown once, when it is made. Every change is audited in the same durable transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

import orjson
import redis

from store import audit
from store.errors import NotFound
from store.keys import Keys

SCOPES = ("read", "audit")  # read: GET /api/snapshot, /api/cards, ...; audit: GET /api/audit
API_PREFIX = "wrt_"
SIGNIN_LINK_TTL_S = 24 * 3600


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(token: str, prefix: str = "") -> tuple[str, str] | None:
    if not token or not token.startswith(prefix):
        return None
    ident, dot, secret = token[len(prefix) :].partition(".")
    if not dot or not ident or not secret or len(token) > 200:
        return None
    return ident, secret


def _shown(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "hash"}


# API tokens -------------------------------------------------------------------------------------------------


def parse_scopes(values) -> list[str]:
    wanted = sorted({v.strip().lower() for v in values if v and v.strip()})
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        raise ValueError(f"token scopes are one or more of {list(SCOPES)}; got {wanted or 'none'}")
    return wanted


def create_api_token(r: redis.Redis, keys: Keys, name: str, scopes, *, actor: Any) -> tuple[str, dict]:
    """(the token, shown once; its record)."""
    scopes = parse_scopes(scopes)
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    record = {"id": token_id, "name": name.strip() or token_id, "scopes": scopes, **_issued(secret, actor)}
    _create(r, keys, keys.api_tokens, "token", record, _shown(record), actor)
    return f"{API_PREFIX}{token_id}.{secret}", _shown(record)


def _issued(secret: str, actor: Any) -> dict:
    """What every secret-bearing record keeps: the secret's digest (never the secret), who made it and when."""
    return {
        "hash": digest(secret),
        "created_at": time.time(),
        "created_by": getattr(actor, "name", actor),
        "revoked_at": None,
    }


def _create(r: redis.Redis, keys: Keys, where: str, kind: str, record: dict, shown: dict, actor: Any) -> None:
    def build(pipe):
        pipe.multi()
        pipe.hset(where, record["id"], orjson.dumps(record))
        audit.append(pipe, keys, audit.entry(actor, f"{kind}.create", kind, record["id"], after=shown))

    audit.write(r, [], build)


def verify_api_token(r: redis.Redis, keys: Keys, token: str) -> dict | None:
    """The token's record if it is genuine and not revoked, else None."""
    parts = _split(token, API_PREFIX)
    if not parts:
        return None
    raw = r.hget(keys.api_tokens, parts[0])
    if not raw:
        return None
    record = orjson.loads(raw)
    if record["revoked_at"] or not hmac.compare_digest(record["hash"], digest(parts[1])):
        return None
    return _shown(record)


def api_tokens(r: redis.Redis, keys: Keys) -> list[dict]:
    items = [_shown(orjson.loads(v)) for v in r.hvals(keys.api_tokens)]
    return sorted(items, key=lambda t: t["created_at"], reverse=True)


def revoke_api_token(r: redis.Redis, keys: Keys, token_id: str, *, actor: Any) -> dict:
    return _revoke(r, keys, keys.api_tokens, token_id, "token", actor)


def _revoke(r: redis.Redis, keys: Keys, where: str, item_id: str, kind: str, actor: Any) -> dict:
    def build(pipe):
        raw = pipe.hget(where, item_id)
        if raw is None:
            raise NotFound(f"{kind} {item_id!r} does not exist")
        before = orjson.loads(raw)
        after = {**before, "revoked_at": before["revoked_at"] or time.time()}
        pipe.multi()
        pipe.hset(where, item_id, orjson.dumps(after))
        if kind == "kiosk" and before.get("session_id"):
            pipe.delete(keys.session(before["session_id"]))
        audit.append(
            pipe, keys, audit.entry(actor, f"{kind}.revoke", kind, item_id, before=_shown(before), after=_shown(after))
        )
        return _shown(after)

    return audit.write(r, [where], build)


# Kiosk links ------------------------------------------------------------------------------------------------


def create_kiosk(r: redis.Redis, keys: Keys, screen: str, *, actor: Any) -> tuple[str, dict]:
    """(the link's secret path part "<id>.<secret>", shown once; its record). Open it at /kiosk/<that>."""
    screen = screen.strip()
    if not screen or len(screen) > 80:
        raise ValueError("a kiosk link needs a screen name of 1-80 characters, e.g. 'lobby wall'")
    link_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    record = {
        "id": link_id,
        "screen": screen,
        **_issued(secret, actor),
        "claimed_at": None,
        "claimed_from": None,
        "session_id": None,
    }
    _create(r, keys, keys.kiosk_links, "kiosk", record, _public_kiosk(record), actor)
    return f"{link_id}.{secret}", _public_kiosk(record)


def _public_kiosk(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("hash", "session_id")}


def kiosk(r: redis.Redis, keys: Keys, link_id: str) -> dict | None:
    raw = r.hget(keys.kiosk_links, link_id)
    return orjson.loads(raw) if raw else None


def kiosk_for_token(r: redis.Redis, keys: Keys, token: str) -> dict | None:
    """The link a kiosk URL names, if the secret matches (whatever its state)."""
    parts = _split(token)
    if not parts:
        return None
    record = kiosk(r, keys, parts[0])
    if not record or not hmac.compare_digest(record["hash"], digest(parts[1])):
        return None
    return record


def kiosks(r: redis.Redis, keys: Keys) -> list[dict]:
    items = [_public_kiosk(orjson.loads(v)) for v in r.hvals(keys.kiosk_links)]
    return sorted(items, key=lambda t: t["created_at"], reverse=True)


def revoke_kiosk(r: redis.Redis, keys: Keys, link_id: str, *, actor: Any) -> dict:
    """The screen's session is deleted with the link: it shows "signed out" at its next poll."""
    return _public_kiosk(_revoke(r, keys, keys.kiosk_links, link_id, "kiosk", actor))


# One-time sign-in links -------------------------------------------------------------------------------------


def create_signin_link(
    r: redis.Redis, keys: Keys, name: str, *, actor: Any, ttl_s: int = SIGNIN_LINK_TTL_S, pipe=None
) -> str:
    """A secret that signs `name` in once within `ttl_s`; queued on `pipe` (a MULTI) when given."""
    secret = secrets.token_urlsafe(32)
    record = orjson.dumps({"name": name, "created_at": time.time(), "created_by": getattr(actor, "name", actor)})
    item = audit.entry(
        actor, "signin_link.create", "user", name, detail=f"one-time sign-in link, valid {ttl_s // 3600} h"
    )
    if pipe is not None:
        pipe.set(keys.signin_link(digest(secret)), record, ex=ttl_s)
        audit.append(pipe, keys, item)
        return secret

    def build(p):
        p.multi()
        p.set(keys.signin_link(digest(secret)), record, ex=ttl_s)
        audit.append(p, keys, item)

    audit.write(r, [], build)
    return secret
