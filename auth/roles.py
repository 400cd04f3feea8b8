"""Roles and what each may do: the one permission table every server-side check reads.

    may(identity, "card.create")                  -> bool
    may(identity, "card.approve", group="legal")  -> bool: approvers approve only in their own groups
    require(identity, "card.approve", group="legal")  raises Forbidden

A person can hold several roles; they may do what any of them may.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

WALL = "wall"
VIEWER = "viewer"
STRATEGIST = "strategist"
APPROVER = "approver"
ADMIN = "admin"
ROLES = (WALL, VIEWER, STRATEGIST, APPROVER, ADMIN)

# Reading
VIEW_WALL = "view.wall"  # the big screen
VIEW_EXEC = "view.exec"  # the executives' summary
VIEW_ROOM = "view.room"  # the strategists' command center (read side)
VIEW_API = "api.read"  # GET /api/snapshot, /api/cards and the other read endpoints
VIEW_AUDIT = "audit.read"  # the audit page and GET /api/audit

# Strategists' work
CARD_CREATE = "card.create"
CARD_EDIT = "card.edit"
CARD_MOVE = "card.move"
CARD_DRAFT = "card.draft"
POST_MARK = "post.mark"
POST_FRAME = "post.frame"
POST_SENTIMENT = "post.sentiment"  # correct a post's sentiment (teaches the sentiment model)
ALERT_ACK = "alert.ack"
ALERT_TRIAGE = "alert.triage"
CARD_COMMENT = "card.comment"  # comment on a card, @-mentioning people (strategists, approvers, admins)

# Customer care (issue 12): the care lane's writes
CARE_ASSIGN = "care.assign"
CARE_REPLY = "care.reply"  # draft, submit and publish a reply to a case
CARE_ESCALATE = "care.escalate"
CARE_RESOLVE = "care.resolve"
CARE_CORRECT = "care.correct"  # correct a triage (teaches the care model)
CARE_ACTIONS = frozenset({CARE_ASSIGN, CARE_REPLY, CARE_ESCALATE, CARE_RESOLVE, CARE_CORRECT})

# Approvals (per group)
CARD_APPROVE = "card.approve"
CARD_REJECT = "card.reject"

# Administration
USER_MANAGE = "user.manage"
KIOSK_MANAGE = "kiosk.manage"
TOKEN_MANAGE = "token.manage"
GUARDRAILS_EDIT = "guardrails.edit"
EVENT_PAUSE = "event.pause"
SECRET_ROTATE = "secret.rotate"

_READ_ALL = {VIEW_WALL, VIEW_EXEC, VIEW_ROOM, VIEW_API}

PERMISSIONS: dict[str, frozenset[str]] = {
    WALL: frozenset({VIEW_WALL}),
    VIEWER: frozenset({VIEW_WALL, VIEW_EXEC, VIEW_API}),
    STRATEGIST: frozenset(
        _READ_ALL
        | {
            CARD_CREATE,
            CARD_EDIT,
            CARD_MOVE,
            CARD_DRAFT,
            POST_MARK,
            POST_FRAME,
            POST_SENTIMENT,
            ALERT_ACK,
            ALERT_TRIAGE,
            CARD_COMMENT,
        }
        | CARE_ACTIONS
    ),
    APPROVER: frozenset(_READ_ALL | {CARD_APPROVE, CARD_REJECT, CARD_COMMENT}),
    ADMIN: frozenset(
        _READ_ALL
        | {
            VIEW_AUDIT,
            USER_MANAGE,
            KIOSK_MANAGE,
            TOKEN_MANAGE,
            GUARDRAILS_EDIT,
            EVENT_PAUSE,
            SECRET_ROTATE,
            CARD_COMMENT,
        }
    ),
}
ACTIONS = frozenset().union(*PERMISSIONS.values())
GROUP_ACTIONS = frozenset({CARD_APPROVE, CARD_REJECT})  # need the approver to be in the card's group
WRITE_ACTIONS = ACTIONS - _READ_ALL - {VIEW_AUDIT}

# The page each role lands on, best first (a person with several lands on the first that applies).
HOME = ((STRATEGIST, "/"), (APPROVER, "/"), (ADMIN, "/"), (VIEWER, "/exec"), (WALL, "/wall"))

GROUP_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class Forbidden(Exception):
    """The signed-in identity may not do this; the message says which permission is missing."""


class HasRoles(Protocol):
    roles: frozenset[str]
    groups: frozenset[str]


def parse_roles(values: Iterable[str]) -> list[str]:
    """Validated, de-duplicated, in the table's order; ValueError names an unknown role."""
    wanted = {v.strip().lower() for v in values if v and v.strip()}
    unknown = sorted(wanted - set(ROLES))
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}; roles are {list(ROLES)}")
    return [r for r in ROLES if r in wanted]


def parse_groups(values: Iterable[str]) -> list[str]:
    out = sorted({v.strip().lower() for v in values if v and v.strip()})
    bad = [g for g in out if not GROUP_RE.match(g)]
    if bad:
        raise ValueError(f"group names are lower-case letters, digits, - and _: {bad}")
    return out


def permissions(roles: Iterable[str]) -> frozenset[str]:
    return frozenset().union(*(PERMISSIONS.get(r, frozenset()) for r in roles))


def may(identity: HasRoles | None, action: str, group: str | None = None) -> bool:
    """May this identity do `action`? Approvals also need `group` to be one of the approver's groups."""
    if identity is None:
        return False
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if action not in permissions(identity.roles):
        return False
    if action in GROUP_ACTIONS:
        return group is not None and group in identity.groups
    return True


def require(identity: HasRoles | None, action: str, group: str | None = None) -> None:
    """The one check every write goes through: raises Forbidden unless `may(...)`."""
    if not may(identity, action, group):
        who = getattr(identity, "name", None) or "nobody"
        roles = ", ".join(sorted(getattr(identity, "roles", ()))) or "no role"
        where = f" in group {group!r}" if action in GROUP_ACTIONS else ""
        raise Forbidden(f"{who} ({roles}) may not {action}{where}")


def home(roles: Iterable[str]) -> str:
    held = set(roles)
    for role, path in HOME:
        if role in held:
            return path
    return "/login"
