"""Who is looking, which page they get, and the one server-side check every write goes through.

Roles come from the signed-in identity (auth/web.py sets it for every request after checking the session);
the page path grants nothing. The permission table is auth/roles.py.

    ident = require(roles.CARD_CREATE)         # raises Forbidden unless the signed-in identity may
    view = view_for(current_identity(), path)  # the page to draw for them, or None (a 403 page)
"""

from __future__ import annotations

from dataclasses import dataclass

from auth import roles as table
from auth.identity import Identity
from auth.roles import Forbidden  # noqa: F401 - the one Forbidden type; callbacks import it from here
from auth.web import PAGES, current_identity

# The page each path shows, its layout (the CSS role class and what make_page draws) and the write
# controls it may draw for someone whose roles allow them. Screens add their pages here.
LAYOUTS = {"/": "strategist", "/wall": "wall", "/exec": "exec", "/admin": "admin", "/audit": "audit"}
CONTROLS = {
    "/": frozenset(
        {
            table.CARD_CREATE,
            table.CARD_EDIT,
            table.CARD_MOVE,
            table.CARD_DRAFT,
            table.POST_MARK,
            table.POST_FRAME,
            table.POST_SENTIMENT,
            table.ALERT_ACK,
            table.ALERT_TRIAGE,
            table.CARD_APPROVE,
            table.CARD_REJECT,
            table.CARD_COMMENT,
        }
    ),
}


@dataclass(frozen=True)
class View:
    """What one screen shows: the page, its layout and the write controls drawn on it (the server still
    checks each write). Equal for every identity with the same roles on the same page, so screens of one
    role set share the cached answer."""

    path: str
    layout: str
    controls: frozenset[str] = frozenset()

    def can(self, action: str) -> bool:
        return action in self.controls

    @property
    def key(self) -> tuple:
        return (self.path, tuple(sorted(self.controls)))


def page_path(pathname: str | None) -> str:
    """The page a path names ("/wall/big" is the wall); unknown paths are the command center."""
    first = (pathname or "/").strip("/").split("/")[0]
    path = f"/{first}" if first else "/"
    return path if path in LAYOUTS else "/"


def view_for(ident: Identity | None, pathname: str | None) -> View | None:
    """The page to show `ident` for `pathname`: that page if their roles may see it, else their home page
    (a viewer asking for / gets /exec, a wall always /wall), else None (nothing for them: a 403 page)."""
    if ident is None:
        return None
    path = page_path(pathname)
    if not table.may(ident, PAGES.get(path, table.VIEW_ROOM)):
        path = table.home(ident.roles)
        if path not in LAYOUTS or not table.may(ident, PAGES.get(path, table.VIEW_ROOM)):
            return None
    held = table.permissions(ident.roles)
    return View(path, LAYOUTS[path], frozenset(CONTROLS.get(path, frozenset()) & held))


def pages_for(ident: Identity | None) -> list[str]:
    """The pages an identity may open (the header's links), in LAYOUTS order."""
    return [p for p in LAYOUTS if ident is not None and table.may(ident, PAGES.get(p, table.VIEW_ROOM))]


def require(action: str, group: str | None = None) -> Identity:
    """The one check every write goes through: the signed-in identity of this request, if it may do `action`
    (in `group`, for approvals); otherwise Forbidden ("sam (viewer) may not card.create")."""
    ident = current_identity()
    table.require(ident, action, group)
    return ident


def audience() -> tuple:
    """What a cached screen answer may depend on besides the request: the identity's roles (never the name,
    never the path), so every screen of one role set shares one answer and no two role sets do."""
    return audience_of(current_identity())


def audience_of(ident: Identity | None) -> tuple:
    """`audience` for an identity known outside a request (the push server's sockets)."""
    return ("anonymous",) if ident is None else tuple(sorted(ident.roles))


def require_any(options: list[tuple[str, str | None]]) -> Identity:
    """As `require`, for a write that any one of several (action, group) permissions allows."""
    ident = current_identity()
    for action, group in options:
        if table.may(ident, action, group):
            return ident
    table.require(ident, *options[0])  # raises Forbidden naming the first
    return ident  # pragma: no cover - require raised


def by(ident: Identity) -> str:
    """The name a write records as its author (`by`, `acked_by`, a mark's `by`)."""
    return ident.name
