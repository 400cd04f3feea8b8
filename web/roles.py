"""Who is looking, and the one server-side check every write goes through.

Today a screen's role comes from its path (`/` strategists, `/wall`, `/exec`). When roles come
from signed-in identities instead, `role_for` and `require` are the two places that change.
"""

from __future__ import annotations

STRATEGIST = "strategist"
ROLES = (STRATEGIST, "wall", "exec")
WRITERS = frozenset({STRATEGIST})  # roles that may frame, move and mark, and acknowledge alerts


class Forbidden(Exception):
    """A write refused by `require`; the message is what the screen shows."""


def role_for(pathname: str | None) -> str:
    """The role of a page from its path; anything unknown is the strategists' page."""
    name = (pathname or "/").strip("/").split("/")[0]
    return name if name in ROLES else STRATEGIST


def can_write(role: str) -> bool:
    """Whether a page for `role` shows write controls (the server still checks each write)."""
    return role in WRITERS


def require(role: str, action: str) -> str:
    """Allow a write by `role` or raise Forbidden ("Only strategists can <action>.").

    Returns who is acting, as recorded with the write (today the role's name)."""
    if not can_write(role):
        raise Forbidden(f"Only strategists can {action}.")
    return role
