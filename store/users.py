"""People: accounts with roles, approver groups, a disabled flag and an argon2 password hash.

Every change is one durable transaction with its audit entry (store/audit.py). The hash never leaves this
module except for verification, and never reaches the audit trail: `public(user)` is what is shown.
"""

from __future__ import annotations

import re
import time
from typing import Any

import orjson
import redis

from auth import passwords
from auth.roles import parse_groups, parse_roles
from store import audit
from store.errors import NotFound, StoreError
from store.keys import Keys

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
LOCAL = "local"
OIDC = "oidc"


class UserExists(StoreError):
    """A user of that name already exists."""


def check_name(name: str) -> str:
    name = (name or "").strip().lower()
    if not NAME_RE.match(name):
        raise ValueError(
            "a user name is 1-64 lower-case letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        )
    return name


def public(user: dict | None) -> dict | None:
    """The user as shown and audited: no password hash."""
    if user is None:
        return None
    out = {k: v for k, v in user.items() if k != "password_hash"}
    out["has_password"] = bool(user.get("password_hash"))
    return out


def get(r: redis.Redis, keys: Keys, name: str) -> dict | None:
    raw = r.hget(keys.users, name)
    return orjson.loads(raw) if raw else None


def all_users(r: redis.Redis, keys: Keys) -> list[dict]:
    users = [public(orjson.loads(v)) for v in r.hvals(keys.users)]
    return sorted(users, key=lambda u: u["name"])


def count(r: redis.Redis, keys: Keys) -> int:
    return r.hlen(keys.users)


def by_subject(r: redis.Redis, keys: Keys, subject: str) -> str | None:
    raw = r.hget(keys.users_by_subject, subject)
    return raw.decode() if raw else None


def create(
    r: redis.Redis,
    keys: Keys,
    name: str,
    roles: list[str],
    groups: list[str] = (),
    *,
    actor: Any,
    password: str | None = None,
    display: str = "",
    source: str = LOCAL,
    subject: str | None = None,
    only_if_none: bool = False,
) -> dict:
    """Create a user (UserExists if the name is taken; with `only_if_none`, also if any user exists)."""
    name = check_name(name)
    roles = parse_roles(roles)
    if not roles:
        raise ValueError("give the user at least one role")
    groups = parse_groups(groups)
    if password is not None:
        passwords.check_policy(password)
    hashed = passwords.hash_password(password) if password else None
    now = time.time()
    user = {
        "name": name,
        "display": display or name,
        "roles": roles,
        "groups": groups,
        "disabled": False,
        "source": source,
        "subject": subject,
        "password_hash": hashed,
        "password_set_at": now if hashed else None,
        "created_at": now,
        "updated_at": now,
        "created_by": getattr(actor, "name", actor),
    }

    def build(pipe):
        if pipe.hexists(keys.users, name):
            raise UserExists(f"user {name!r} already exists")
        if only_if_none and pipe.hlen(keys.users):
            raise UserExists("there are users already")
        pipe.multi()
        pipe.hset(keys.users, name, orjson.dumps(user))
        if subject:
            pipe.hset(keys.users_by_subject, subject, name)
        audit.append(pipe, keys, audit.entry(actor, "user.create", "user", name, after=public(user)))
        return public(user)

    return audit.write(r, [keys.users], build)


def _change(
    r: redis.Redis,
    keys: Keys,
    name: str,
    actor: Any,
    action: str,
    change,
    *,
    sign_out: bool = False,
    detail: str = "",
) -> dict:
    """Read the user, apply `change(user) -> user`, write it with its audit entry (and sign them out)."""

    def build(pipe):
        raw = pipe.hget(keys.users, name)
        if raw is None:
            raise NotFound(f"user {name!r} does not exist")
        before = orjson.loads(raw)
        after = change(dict(before))
        after["updated_at"] = time.time()
        sessions = pipe.smembers(keys.user_sessions(name)) if sign_out else set()
        pipe.multi()
        pipe.hset(keys.users, name, orjson.dumps(after))
        if sign_out:
            for sid in sessions:
                pipe.delete(keys.session(sid.decode()))
            pipe.delete(keys.user_sessions(name))
        audit.append(
            pipe,
            keys,
            audit.entry(actor, action, "user", name, before=public(before), after=public(after), detail=detail),
        )
        return public(after)

    return audit.write(r, [keys.users, keys.user_sessions(name)], build)


def set_roles(
    r: redis.Redis,
    keys: Keys,
    name: str,
    *,
    actor: Any,
    roles: list[str] | None = None,
    groups: list[str] | None = None,
) -> dict:
    new_roles = parse_roles(roles) if roles is not None else None
    if new_roles is not None and not new_roles:
        raise ValueError("a user keeps at least one role; disable the user instead")
    new_groups = parse_groups(groups) if groups is not None else None

    def change(u):
        if new_roles is not None:
            u["roles"] = new_roles
        if new_groups is not None:
            u["groups"] = new_groups
        return u

    return _change(r, keys, name, actor, "user.roles", change)


def set_disabled(r: redis.Redis, keys: Keys, name: str, disabled: bool, *, actor: Any) -> dict:
    """Disabling signs the user out everywhere at once."""

    def change(u):
        u["disabled"] = disabled
        return u

    return _change(r, keys, name, actor, "user.disable" if disabled else "user.enable", change, sign_out=disabled)


def set_password(r: redis.Redis, keys: Keys, name: str, password: str | None, *, actor: Any) -> dict:
    """Set (or with None, clear: `users reset`) the password; signs the user out everywhere."""
    if password is not None:
        passwords.check_policy(password)
    hashed = passwords.hash_password(password) if password else None

    def change(u):
        u["password_hash"] = hashed
        u["password_set_at"] = time.time() if hashed else None
        u["links_valid_from"] = time.time()  # one-time links made before this no longer work
        return u

    action = "user.password" if password else "user.reset"
    return _change(r, keys, name, actor, action, change, sign_out=True)


def rehash(r: redis.Redis, keys: Keys, name: str, password: str, *, actor: Any) -> None:
    """Upgrade a hash made with older parameters (at sign-in, when the password was just verified)."""
    hashed = passwords.hash_password(password)

    def change(u):
        u["password_hash"] = hashed
        return u

    _change(r, keys, name, actor, "user.rehash", change, detail="password hash upgraded to current parameters")


def sync_oidc(
    r: redis.Redis,
    keys: Keys,
    subject: str,
    name: str,
    roles: list[str],
    groups: list[str],
    *,
    display: str,
    actor: Any,
) -> dict:
    """A person signed in through OpenID Connect: create them, or bring their roles and groups up to date."""
    existing = by_subject(r, keys, subject)
    if existing is None:
        if get(r, keys, check_name(name)) is not None:
            raise UserExists(f"user {name!r} exists and is not linked to this identity provider account")
        return create(r, keys, name, roles, groups, actor=actor, display=display, source=OIDC, subject=subject)
    user = get(r, keys, existing)
    if user and user["roles"] == parse_roles(roles) and user["groups"] == parse_groups(groups):
        return public(user)
    return set_roles(r, keys, existing, actor=actor, roles=roles, groups=groups)
