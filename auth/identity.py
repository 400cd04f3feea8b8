"""Who is asking: a signed-in person, a kiosk (wall screen), an API token, or the command line."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field

from auth import roles as role_table

USER = "user"
KIOSK = "kiosk"
TOKEN = "token"
CLI = "cli"


@dataclass(frozen=True)
class Identity:
    name: str
    roles: frozenset[str]
    groups: frozenset[str] = frozenset()
    kind: str = USER
    address: str = ""
    session_id: str | None = field(default=None, repr=False)
    scopes: frozenset[str] = frozenset()  # API tokens only
    display: str = ""

    def may(self, action: str, group: str | None = None) -> bool:
        return role_table.may(self, action, group)

    def public(self) -> dict:
        """What the header and GET /api/me show: never a session id or a secret."""
        return {
            "name": self.name,
            "display": self.display or self.name,
            "kind": self.kind,
            "roles": sorted(self.roles, key=role_table.ROLES.index),
            "groups": sorted(self.groups),
            "home": role_table.home(self.roles),
        }


def cli_actor() -> Identity:
    """Changes made from `cli.py` on the server itself: recorded as cli:<login name>, with admin rights."""
    try:
        login = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        login = "unknown"
    return Identity(name=f"cli:{login}", roles=frozenset({role_table.ADMIN}), kind=CLI, address="local")
