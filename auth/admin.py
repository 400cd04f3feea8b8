"""People, tokens and kiosk links from the command line, and the first admin on a fresh machine.

    cli.py users add NAME --role approver --group legal   prints a one-time sign-in link (the person sets a password)
    cli.py users list | disable NAME | enable NAME | reset NAME | roles NAME --role ... [--group ...]
    cli.py users rotate-secret                             signs everyone out
    cli.py tokens create NAME --scope read | list | revoke ID
    cli.py kiosk create "lobby wall" | list | revoke ID
    cli.py publishing pause --reason "injury on the field" | resume | status

cli.py wires these in with `add_parsers(sub)` and `COMMANDS`; nothing here prints a stored secret, only the
new one it just made (once).
"""

from __future__ import annotations

import argparse
import getpass
import sys

import redis

from auth.identity import cli_actor
from auth.roles import ADMIN, ROLES, STRATEGIST
from store import publishing, tokens, users
from store.keys import Keys

FIRST_ADMIN = "admin"


def signin_url(base_url: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}/auth/link/{secret}"


def kiosk_url(base_url: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}/kiosk/{secret}"


def ensure_first_admin(r: redis.Redis, keys: Keys, base_url: str) -> str | None:
    """On a store with no users: create `admin` (admin + strategist) and return a one-time sign-in link (24 h).

    Returns None when there are users already, so `up` prints the link on the first start only.
    """
    if users.count(r, keys):
        return None
    actor = cli_actor()
    try:
        users.create(r, keys, FIRST_ADMIN, [ADMIN, STRATEGIST], actor=actor, display="Admin", only_if_none=True)
    except users.UserExists:
        return None  # another process got there first
    return signin_url(base_url, tokens.create_signin_link(r, keys, FIRST_ADMIN, actor=actor))


# Commands ----------------------------------------------------------------------------------------------------


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    for row in [header, *rows]:
        _out("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=False)).rstrip())


def run_users(r: redis.Redis, keys: Keys, base_url: str, args, var_dir=None) -> None:
    actor = cli_actor()
    action = args.users_command
    if action == "add":
        password = _read_password() if args.password_stdin else None
        user = users.create(
            r, keys, args.name, args.role, args.group or [], actor=actor, password=password, display=args.display or ""
        )
        _out(
            f"added {user['name']} ({', '.join(user['roles'])}{'; groups ' + ', '.join(user['groups']) if user['groups'] else ''})"
        )
        if password is None:
            link = signin_url(base_url, tokens.create_signin_link(r, keys, user["name"], actor=actor))
            _out(f"one-time sign-in link (24 h; they choose a password): {link}")
    elif action == "list":
        rows = [
            [
                u["name"],
                ",".join(u["roles"]),
                ",".join(u["groups"]) or "-",
                "disabled" if u["disabled"] else "active",
                u["source"],
                "yes" if u["has_password"] else "no",
            ]
            for u in users.all_users(r, keys)
        ]
        _table(rows, ["name", "roles", "groups", "state", "source", "password"])
    elif action in ("disable", "enable"):
        user = users.set_disabled(r, keys, args.name, action == "disable", actor=actor)
        _out(f"{user['name']} {'disabled and signed out everywhere' if user['disabled'] else 'enabled'}")
    elif action == "reset":
        users.set_password(r, keys, args.name, None, actor=actor)
        link = signin_url(base_url, tokens.create_signin_link(r, keys, args.name, actor=actor))
        _out(f"{args.name}: password cleared, signed out everywhere; one-time sign-in link (24 h): {link}")
    elif action == "roles":
        user = users.set_roles(r, keys, args.name, actor=actor, roles=args.role, groups=args.group)
        _out(f"{user['name']}: roles {', '.join(user['roles'])}; groups {', '.join(user['groups']) or '-'}")
    elif action == "rotate-secret":
        from auth.web import rotate_secret

        epoch = rotate_secret(r, keys, var_dir, actor=actor)
        _out(f"session secret rotated (epoch {epoch}): everyone is signed out")


def run_tokens(r: redis.Redis, keys: Keys, args) -> None:
    actor = cli_actor()
    if args.tokens_command == "create":
        token, record = tokens.create_api_token(r, keys, args.name, args.scope, actor=actor)
        _out(f"token {record['id']} ({', '.join(record['scopes'])}), shown once: {token}")
    elif args.tokens_command == "list":
        rows = [
            [t["id"], t["name"], ",".join(t["scopes"]), t["created_by"], "revoked" if t["revoked_at"] else "active"]
            for t in tokens.api_tokens(r, keys)
        ]
        _table(rows, ["id", "name", "scopes", "created_by", "state"])
    elif args.tokens_command == "revoke":
        tokens.revoke_api_token(r, keys, args.id, actor=actor)
        _out(f"token {args.id} revoked")


def run_kiosk(r: redis.Redis, keys: Keys, base_url: str, args) -> None:
    actor = cli_actor()
    if args.kiosk_command == "create":
        secret, record = tokens.create_kiosk(r, keys, args.screen, actor=actor)
        _out(
            f"kiosk link {record['id']} for {record['screen']!r} (opens once, on the screen itself): {kiosk_url(base_url, secret)}"
        )
    elif args.kiosk_command == "list":
        rows = [
            [
                k["id"],
                k["screen"],
                "revoked" if k["revoked_at"] else "open on a screen" if k["claimed_at"] else "not opened yet",
                k["created_by"],
            ]
            for k in tokens.kiosks(r, keys)
        ]
        _table(rows, ["id", "screen", "state", "created_by"])
    elif args.kiosk_command == "revoke":
        tokens.revoke_kiosk(r, keys, args.id, actor=actor)
        _out(f"kiosk link {args.id} revoked: its screen shows 'signed out' within seconds")


def run_publishing(r: redis.Redis, keys: Keys, args) -> None:
    """The room-wide pause, as on the admin page (audited as cli:<login>); every screen shows it."""
    actor = cli_actor()
    if args.publishing_command == "pause":
        state = publishing.pause(r, keys, args.reason, actor)
        _out(f"publishing paused by {state['by']}: {state['reason']}")
    elif args.publishing_command == "resume":
        ended = publishing.resume(r, keys, actor)
        _out(
            f"publishing resumed (was paused by {ended['by']}: {ended['reason']})"
            if ended
            else "publishing was not paused"
        )
    elif args.publishing_command == "status":
        state = publishing.paused(r, keys)
        _out(f"paused by {state['by']}: {state['reason']}" if state else "publishing is on")


def _read_password() -> str:
    if sys.stdin.isatty():
        first, second = getpass.getpass("password: "), getpass.getpass("again: ")
        if first != second:
            raise ValueError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    u = sub.add_parser("users", help="people: add, list, disable, enable, reset, roles, rotate-secret")
    us = u.add_subparsers(dest="users_command", required=True)
    add = us.add_parser("add", help="add a person; prints a one-time sign-in link")
    add.add_argument("name")
    add.add_argument("--role", action="append", required=True, choices=ROLES, help="repeat for several roles")
    add.add_argument("--group", action="append", help="approver group, e.g. brand or legal; repeatable")
    add.add_argument("--display", help="name shown in the header")
    add.add_argument("--password-stdin", action="store_true", help="set the password from stdin instead of a link")
    us.add_parser("list", help="everyone, with roles, groups and state")
    for name, text in (
        ("disable", "disable and sign out everywhere"),
        ("enable", "enable again"),
        ("reset", "clear the password, sign out, print a new one-time link"),
    ):
        p = us.add_parser(name, help=text)
        p.add_argument("name")
    ro = us.add_parser("roles", help="set roles and/or groups")
    ro.add_argument("name")
    ro.add_argument("--role", action="append", choices=ROLES)
    ro.add_argument("--group", action="append")
    us.add_parser("rotate-secret", help="new session secret: signs everyone out")

    t = sub.add_parser("tokens", help="API tokens for tools: create, list, revoke")
    ts = t.add_subparsers(dest="tokens_command", required=True)
    tc = ts.add_parser("create", help="create a token; printed once")
    tc.add_argument("name")
    tc.add_argument("--scope", action="append", required=True, choices=tokens.SCOPES)
    ts.add_parser("list")
    tr = ts.add_parser("revoke")
    tr.add_argument("id")

    k = sub.add_parser("kiosk", help="kiosk links for wall screens: create, list, revoke")
    ks = k.add_subparsers(dest="kiosk_command", required=True)
    kc = ks.add_parser("create", help="a link for one screen; open it on that screen")
    kc.add_argument("screen")
    ks.add_parser("list")
    kr = ks.add_parser("revoke")
    kr.add_argument("id")

    pb = sub.add_parser("publishing", help="the room-wide pause: pause --reason ..., resume, status")
    ps = pb.add_subparsers(dest="publishing_command", required=True)
    pp = ps.add_parser("pause", help="stop all publishing; every screen shows the reason")
    pp.add_argument("--reason", required=True, help="why, shown on every screen and kept in the audit trail")
    ps.add_parser("resume")
    ps.add_parser("status")
