"""Signing in and out, and who a session is on each request. No HTTP here: auth/web.py is the Flask side.

Every sign-in, failure, sign-out and kiosk opening is audited in the same durable transaction as the session
change it records. A session is checked against the store on every request (`resolve`): one round trip reads
the secret's epoch, the session and the user (or kiosk link), so a disabled user, a role change, a revoked
kiosk link or a rotated secret takes effect at the next request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson
import redis

from auth import passwords
from auth.identity import KIOSK, USER, Identity
from auth.limits import SigninLimiter
from auth.roles import WALL
from store import audit, sessions, tokens, users
from store.keys import Keys

GENERIC_FAILURE = "That name and password do not match an active account."


@dataclass(frozen=True)
class Result:
    ok: bool
    identity: Identity | None = None
    session_id: str | None = None
    csrf: str | None = None
    error: str = ""
    retry_after_s: int = 0
    needs_password: bool = False


def _user_identity(user: dict, address: str, sid: str | None) -> Identity:
    return Identity(
        name=user["name"],
        roles=frozenset(user["roles"]),
        groups=frozenset(user.get("groups") or ()),
        kind=USER,
        address=address,
        session_id=sid,
        display=user.get("display") or user["name"],
    )


def _kiosk_identity(link: dict, address: str, sid: str | None) -> Identity:
    return Identity(
        name=f"kiosk:{link['id']}",
        roles=frozenset({WALL}),
        kind=KIOSK,
        address=address,
        session_id=sid,
        display=link["screen"],
    )


class Signin:
    def __init__(
        self, r: redis.Redis, keys: Keys, limiter: SigninLimiter | None = None, user_ttl_s: int = sessions.USER_TTL_S
    ):
        self.r, self.keys = r, keys
        self.limiter = limiter or SigninLimiter(r, keys)
        self.user_ttl_s = user_ttl_s

    # Per request ----------------------------------------------------------------------------------------------

    def resolve(self, sid: str, kind: str, subject: str, address: str = "") -> Identity | None:
        """The identity of a session cookie's (sid, kind, subject), or None if it no longer holds."""
        return self.lookup(sid, kind, subject, address)[1]

    def lookup(self, sid: str, kind: str, subject: str, address: str = "") -> tuple[int, Identity | None, str | None]:
        """(the secret's epoch, the identity or None, the session's CSRF token) in one round trip."""
        if not sid or kind not in (USER, KIOSK) or not subject:
            return self.epoch(), None, None
        pipe = self.r.pipeline(transaction=False)
        pipe.get(self.keys.session_epoch)
        pipe.get(self.keys.session(sid))
        pipe.hget(self.keys.users if kind == USER else self.keys.kiosk_links, subject)
        raw_epoch, raw_session, raw_subject = pipe.execute()
        epoch = int(raw_epoch or 0)
        if not raw_session or not raw_subject:
            return epoch, None, None
        record = orjson.loads(raw_session)
        if record["epoch"] != epoch or record["kind"] != kind or record["subject"] != subject:
            return epoch, None, None
        if record["expires_at"] < time.time():
            return epoch, None, None
        item = orjson.loads(raw_subject)
        if kind == USER:
            if item.get("disabled"):
                return epoch, None, None
            return epoch, _user_identity(item, address, sid), record["csrf"]
        if item.get("revoked_at") or item.get("session_id") != sid:
            return epoch, None, None
        return epoch, _kiosk_identity(item, address, sid), record["csrf"]

    def epoch(self) -> int:
        return sessions.epoch(self.r, self.keys)

    # Sign-in --------------------------------------------------------------------------------------------------

    def _start(self, pipe, kind: str, subject: str, address: str, ttl_s: int) -> tuple[str, dict]:
        """Read the epoch (pipe in immediate mode, watched), then MULTI and queue the session."""
        epoch = int(pipe.get(self.keys.session_epoch) or 0)
        sid, record = sessions.new(kind, subject, epoch, address, ttl_s)
        pipe.multi()
        sessions.queue_create(pipe, self.keys, sid, record, ttl_s)
        return sid, record

    def _fail(self, account: str, address: str, reason: str, method: str) -> None:
        item = audit.entry(account, "signin.failure", "user", account, address=address, detail=f"{method}: {reason}")

        def build(pipe):
            pipe.multi()
            self.limiter.queue_failure(pipe, account, address)
            audit.append(pipe, self.keys, item)

        audit.write(self.r, [], build)

    def password(self, name: str, password: str, address: str) -> Result:
        account = (name or "").strip().lower()[:64]
        decision = self.limiter.check(account, address)
        if not decision.allowed:
            return Result(
                False,
                error=f"{decision.reason}; try again in {decision.retry_after_s} s",
                retry_after_s=decision.retry_after_s,
            )
        user = users.get(self.r, self.keys, account) if users.NAME_RE.match(account) else None
        matched = passwords.verify(user.get("password_hash") if user else None, password or "")
        if not matched or user is None or user.get("disabled"):
            reason = (
                "unknown account"
                if user is None
                else "account disabled"
                if user.get("disabled") and matched
                else "no password set"
                if not user.get("password_hash")
                else "wrong password"
            )
            self._fail(account, address, reason, "password")
            return Result(False, error=GENERIC_FAILURE)
        result = self._open_user(account, address, "password")
        if result.ok and passwords.needs_rehash(user["password_hash"]):
            users.rehash(self.r, self.keys, account, password, actor=result.identity)
        return result

    def _open_user(self, name: str, address: str, method: str, *, before_multi=None) -> Result:
        keys = self.keys

        def build(pipe):
            raw = pipe.hget(keys.users, name)
            user = orjson.loads(raw) if raw else None
            if user is None or user.get("disabled"):
                return None
            sid, record = self._start(pipe, USER, name, address, self.user_ttl_s)
            self.limiter.queue_success(pipe, name)
            ident = _user_identity(user, address, sid)
            audit.append(pipe, keys, audit.entry(ident, "signin", "user", name, detail=method))
            return ident, record

        out = audit.write(self.r, [keys.users, keys.session_epoch], build)
        if out is None:
            return Result(False, error=GENERIC_FAILURE)
        ident, record = out
        return Result(True, ident, ident.session_id, record["csrf"])

    def oidc(self, subject: str, name: str, roles: list[str], groups: list[str], display: str, address: str) -> Result:
        """Sign in a person the identity provider vouched for, with the roles their claims map to."""
        if not roles:
            self._fail(name[:64], address, "no War Room role in the identity provider's claims", "oidc")
            return Result(
                False, error="Your account has no War Room role. Ask an admin to add you to a War Room group."
            )
        actor = Identity(name=f"oidc:{name}", roles=frozenset(), address=address)
        try:
            user = users.sync_oidc(self.r, self.keys, subject, name, roles, groups, display=display, actor=actor)
        except (users.UserExists, ValueError) as exc:
            self._fail(name[:64], address, str(exc), "oidc")
            return Result(False, error="This identity cannot be used here; ask an admin.")
        if user.get("disabled"):
            self._fail(user["name"], address, "account disabled", "oidc")
            return Result(False, error=GENERIC_FAILURE)
        return self._open_user(user["name"], address, "oidc")

    def link(self, secret: str, address: str, new_password: str | None = None) -> Result:
        """Redeem a one-time sign-in link; a user without a password must choose one with it."""
        keys = self.keys
        link_key = keys.signin_link(tokens.digest(secret or ""))
        if new_password:
            try:
                passwords.check_policy(new_password)
            except ValueError as exc:
                return Result(False, error=str(exc), needs_password=True)
        hashed = passwords.hash_password(new_password) if new_password else None

        def build(pipe):
            raw = pipe.get(link_key)
            if not raw:
                return "gone"
            link = orjson.loads(raw)
            name = link["name"]
            raw_user = pipe.hget(keys.users, name)
            user = orjson.loads(raw_user) if raw_user else None
            if user is None or user.get("disabled") or link["created_at"] < user.get("links_valid_from", 0):
                return "gone"
            if not user.get("password_hash") and not hashed:
                return "password"
            sid, record = self._start(pipe, USER, name, address, self.user_ttl_s)
            pipe.delete(link_key)
            ident = _user_identity(user, address, sid)
            if hashed:
                after = {**user, "password_hash": hashed, "password_set_at": time.time(), "updated_at": time.time()}
                pipe.hset(keys.users, name, orjson.dumps(after))
                audit.append(
                    pipe,
                    keys,
                    audit.entry(
                        ident, "user.password", "user", name, before=users.public(user), after=users.public(after)
                    ),
                )
            audit.append(pipe, keys, audit.entry(ident, "signin", "user", name, detail="one-time link"))
            return ident, record

        out = audit.write(self.r, [link_key, keys.users, keys.session_epoch], build)
        if out == "gone":
            return Result(False, error="This sign-in link was used already, has expired or its account is disabled.")
        if out == "password":
            return Result(False, error="Choose a password to finish signing in.", needs_password=True)
        ident, record = out
        return Result(True, ident, ident.session_id, record["csrf"])

    def kiosk(self, token: str, address: str) -> Result:
        """Open a kiosk link once: this browser becomes that wall screen until the link is revoked."""
        keys = self.keys

        def build(pipe):
            link = tokens.kiosk_for_token(pipe, keys, token)
            if link is None:
                return "unknown"
            if link["revoked_at"]:
                return "revoked"
            if link["claimed_at"]:
                return "used"
            sid, record = self._start(pipe, KIOSK, link["id"], address, sessions.KIOSK_TTL_S)
            after = {**link, "claimed_at": time.time(), "claimed_from": address, "session_id": sid}
            pipe.hset(keys.kiosk_links, link["id"], orjson.dumps(after))
            ident = _kiosk_identity(after, address, sid)
            audit.append(
                pipe,
                keys,
                audit.entry(
                    ident,
                    "kiosk.open",
                    "kiosk",
                    link["id"],
                    before=tokens._public_kiosk(link),
                    after=tokens._public_kiosk(after),
                ),
            )
            return ident, record

        out = audit.write(self.r, [keys.kiosk_links, keys.session_epoch], build)
        messages = {
            "unknown": "This kiosk link is not valid.",
            "revoked": "This kiosk link was revoked.",
            "used": "This kiosk link was opened on a screen already; ask an admin for a new link for this screen.",
        }
        if isinstance(out, str):
            return Result(False, error=messages[out])
        ident, record = out
        return Result(True, ident, ident.session_id, record["csrf"])

    # Sign-out -------------------------------------------------------------------------------------------------

    def sign_out(self, identity: Identity) -> None:
        keys, sid = self.keys, identity.session_id

        def build(pipe):
            raw = pipe.get(keys.session(sid))
            record = orjson.loads(raw) if raw else None
            pipe.multi()
            sessions.queue_delete(pipe, keys, sid, record)
            audit.append(pipe, keys, audit.entry(identity, "signout", identity.kind, identity.name))

        audit.write(self.r, [keys.session(sid)], build)
