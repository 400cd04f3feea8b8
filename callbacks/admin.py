"""The admin pages' callbacks: publishing (pause / resume), guardrails, people, kiosk links, API tokens, the audit trail.

Each checks the signed-in identity on the server (web/roles.py `require`), reads included: the lists and the
audit trail are for admins only, whatever page asked. Every change goes through the store functions the CLI
uses, which write it with its audit entry in one durable transaction; the actor is the signed-in admin.
A new sign-in link, kiosk link or token is shown once, in the answer to the admin who made it.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import flask
from dash import ALL, Input, Output, State, no_update

from auth import roles as table
from auth.admin import kiosk_url, signin_url
from auth.web import base_url
from callbacks.clicks import clicked
from layouts import admin as view
from layouts import ids
from store import audit, publishing, tokens, users
from store import guardrails as guard_store
from store.errors import NotFound, StoreError
from web.roles import Forbidden, require
from web.services import Services


def _base(s: Services) -> str:
    explicit = s.settings.get("WARROOM_BASE_URL")
    if not explicit and flask.has_request_context():
        return flask.request.host_url.rstrip("/")  # the address this admin reached us on
    return base_url(s.settings)


def lists(s: Services, _version) -> tuple:
    """(publishing state, guardrails' source, people, kiosk links, API tokens), for admins only."""
    try:
        ident = require(table.USER_MANAGE)
        for action in (table.KIOSK_MANAGE, table.TOKEN_MANAGE, table.EVENT_PAUSE, table.GUARDRAILS_EDIT):
            require(action)
    except Forbidden as exc:
        return str(exc), "", "", "", ""
    return (
        view.publishing_state(publishing.paused(s.r, s.keys)),
        view.guardrails_state(guard_store.override(s.r, s.keys), guard_store.LABELS),
        view.people_table(users.all_users(s.r, s.keys), ident.name),
        view.kiosks_table(tokens.kiosks(s.r, s.keys)),
        view.tokens_table(tokens.api_tokens(s.r, s.keys)),
    )


# --- publishing: the room-wide pause
def pause_publishing(s: Services, n, reason, version) -> tuple:
    if not n:
        return no_update, no_update
    try:
        ident = require(table.EVENT_PAUSE)
        state = publishing.pause(s.r, s.keys, reason or "", ident)
    except Forbidden as exc:
        return f"Not paused: {exc}", no_update
    except ValueError as exc:
        return f"Not paused: {exc} (type the reason first).", no_update
    return _done(
        f"Publishing paused: {state['reason']}. Every screen shows it; nothing is sent until you resume.", version
    )


def resume_publishing(s: Services, n, version) -> tuple:
    if not n:
        return no_update, no_update
    try:
        ident = require(table.EVENT_PAUSE)
        ended = publishing.resume(s.r, s.keys, ident)
    except Forbidden as exc:
        return f"Not resumed: {exc}", no_update
    if ended is None:
        return "Publishing was not paused.", no_update
    return _done(f"Publishing resumed (it was paused by {ended['by']}: {ended['reason']}).", version)


# --- guardrails: the event file's, with an override
GUARD_OUT = ("banned_phrases", "topics_to_avoid", "allowed_domains", "competitors")  # the form's order


def _form(rules) -> list:
    text = guard_store.as_text(rules)
    return [text[f] for f in GUARD_OUT]


def guardrails_form(s: Services, _load) -> list:
    """(note, the four fields) filled with the guardrails in force, for admins only."""
    try:
        require(table.GUARDRAILS_EDIT)
    except Forbidden as exc:
        return [str(exc), "", "", "", ""]
    return ["", *_form(guard_store.effective(s.r, s.keys, s.settings.event))]


def save_guardrails(s: Services, n, banned, topics, domains, competitors, version) -> list:
    """(message, version, the four fields as stored): validated, audited with before and after."""
    if not n:
        return [no_update] * 6
    values = dict(zip(GUARD_OUT, (banned, topics, domains, competitors), strict=True))
    try:
        ident = require(table.GUARDRAILS_EDIT)
        guard_store.set_override(s.r, s.keys, {k: v or "" for k, v in values.items()}, s.settings.event, actor=ident)
    except Forbidden as exc:
        return [f"Not saved: {exc}", *[no_update] * 5]
    except ValueError as exc:
        return [f"Not saved: {exc}", *[no_update] * 5]
    rules = guard_store.effective(s.r, s.keys, s.settings.event)
    return [*_done("Guardrails saved: drafts are checked against them from now on.", version), *_form(rules)]


def reset_guardrails(s: Services, n, version) -> list:
    if not n:
        return [no_update] * 6
    try:
        ident = require(table.GUARDRAILS_EDIT)
        cleared = guard_store.clear_override(s.r, s.keys, s.settings.event, actor=ident)
    except Forbidden as exc:
        return [f"Not changed: {exc}", *[no_update] * 5]
    rules = guard_store.effective(s.r, s.keys, s.settings.event)
    if not cleared:
        return ["The event file's guardrails are already in force.", no_update, *_form(rules)]
    return [*_done("Back to the event file's guardrails.", version), *_form(rules)]


def _done(message: str, version) -> tuple:
    return message, (version or 0) + 1


def add_user(s: Services, n, name, roles, groups, version) -> tuple:
    """(message, new version): the person is created and a one-time sign-in link shown once."""
    if not n:
        return no_update, no_update
    try:
        ident = require(table.USER_MANAGE)
        group_list = [g for g in (groups or "").replace(";", ",").split(",") if g.strip()]
        user = users.create(s.r, s.keys, name or "", roles or [], group_list, actor=ident)
        link = signin_url(_base(s), tokens.create_signin_link(s.r, s.keys, user["name"], actor=ident))
    except Forbidden as exc:
        return f"Not added: {exc}", no_update
    except (ValueError, StoreError) as exc:
        return f"Not added: {exc}", no_update
    return _done(f"Added {user['name']} ({', '.join(user['roles'])}). One-time sign-in link (24 h): {link}", version)


def toggle_user(s: Services, trigger: dict | None, version) -> tuple:
    if trigger is None:
        return no_update, no_update
    try:
        ident = require(table.USER_MANAGE)
        name = trigger["user"]
        if name == ident.name:
            return "You cannot disable yourself.", no_update
        user = users.get(s.r, s.keys, name)
        if user is None:
            raise NotFound(f"user {name!r} does not exist")
        after = users.set_disabled(s.r, s.keys, name, not user["disabled"], actor=ident)
    except Forbidden as exc:
        return f"Not changed: {exc}", no_update
    except StoreError as exc:
        return str(exc), no_update
    state = "disabled and signed out everywhere" if after["disabled"] else "enabled"
    return _done(f"{after['name']} {state}.", version)


def add_kiosk(s: Services, n, screen, version) -> tuple:
    if not n:
        return no_update, no_update
    try:
        ident = require(table.KIOSK_MANAGE)
        secret, record = tokens.create_kiosk(s.r, s.keys, screen or "", actor=ident)
    except Forbidden as exc:
        return f"Not created: {exc}", no_update
    except ValueError as exc:
        return f"Not created: {exc}", no_update
    link = kiosk_url(_base(s), secret)
    return _done(f"Kiosk link for “{record['screen']}” (opens once, on that screen): {link}", version)


def revoke_kiosk(s: Services, trigger: dict | None, version) -> tuple:
    if trigger is None:
        return no_update, no_update
    try:
        ident = require(table.KIOSK_MANAGE)
        record = tokens.revoke_kiosk(s.r, s.keys, trigger["kiosk"], actor=ident)
    except Forbidden as exc:
        return f"Not revoked: {exc}", no_update
    except StoreError as exc:
        return str(exc), no_update
    return _done(
        f"Kiosk link for “{record['screen']}” revoked: that screen shows “signed out” within seconds.", version
    )


def add_token(s: Services, n, name, scopes, version) -> tuple:
    if not n:
        return no_update, no_update
    try:
        ident = require(table.TOKEN_MANAGE)
        token, record = tokens.create_api_token(s.r, s.keys, name or "", scopes or [], actor=ident)
    except Forbidden as exc:
        return f"Not created: {exc}", no_update
    except ValueError as exc:
        return f"Not created: {exc}", no_update
    return _done(f"API token {record['id']} ({', '.join(record['scopes'])}), shown once: {token}", version)


def revoke_token(s: Services, trigger: dict | None, version) -> tuple:
    if trigger is None:
        return no_update, no_update
    try:
        ident = require(table.TOKEN_MANAGE)
        tokens.revoke_api_token(s.r, s.keys, trigger["token"], actor=ident)
    except Forbidden as exc:
        return f"Not revoked: {exc}", no_update
    except StoreError as exc:
        return str(exc), no_update
    return _done(f"API token {trigger['token']} revoked.", version)


def search_audit(s: Services, _n, who, action, obj, since_min) -> tuple:
    """(rows, CSV export link) for the audit page's filters; admins only."""
    try:
        require(table.VIEW_AUDIT)
    except Forbidden as exc:
        return str(exc), no_update
    since = time.time() - float(since_min) * 60 if since_min else None
    who, action, obj = (who or "").strip() or None, (action or "").strip() or None, (obj or "").strip() or None
    items = audit.query(s.r, s.keys, who=who, action=action, obj=obj, since=since, limit=view.AUDIT_ROWS_SHOWN + 1)
    params = {"who": who, "action": action, "object": obj, "since": f"{since:.0f}" if since else None}
    query = urlencode({k: v for k, v in params.items() if v} | {"format": "csv"})
    return view.audit_table(items), f"/api/audit?{query}"


def register(app, s: Services) -> None:
    app.callback(
        Output(ids.ADMIN_PUBLISHING, "children"),
        Output(ids.ADMIN_GUARDRAILS, "children"),
        Output(ids.ADMIN_PEOPLE, "children"),
        Output(ids.ADMIN_KIOSKS, "children"),
        Output(ids.ADMIN_TOKENS, "children"),
        Input(ids.ADMIN_VERSION, "data"),
    )(lambda version: lists(s, version))

    changed = [
        Output(ids.ADMIN_MESSAGE, "children", allow_duplicate=True),
        Output(ids.ADMIN_VERSION, "data", allow_duplicate=True),
    ]
    guard_fields = [ids.GUARD_BANNED, ids.GUARD_TOPICS, ids.GUARD_DOMAINS, ids.GUARD_COMPETITORS]
    app.callback(
        Output(ids.GUARD_NOTE, "children"),
        *[Output(f, "value") for f in guard_fields],
        Input(ids.GUARD_LOAD, "data"),
    )(lambda load: guardrails_form(s, load))
    app.callback(
        *changed,
        Input(ids.PUBLISH_PAUSE, "n_clicks"),
        State(ids.PUBLISH_REASON, "value"),
        State(ids.ADMIN_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda *args: pause_publishing(s, *args))
    app.callback(
        *changed,
        Input(ids.PUBLISH_RESUME, "n_clicks"),
        State(ids.ADMIN_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda *args: resume_publishing(s, *args))
    refill = [Output(f, "value", allow_duplicate=True) for f in guard_fields]
    app.callback(
        *changed,
        *refill,
        Input(ids.GUARD_SAVE, "n_clicks"),
        *[State(f, "value") for f in guard_fields],
        State(ids.ADMIN_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda *args: save_guardrails(s, *args))
    app.callback(
        *changed,
        *refill,
        Input(ids.GUARD_RESET, "n_clicks"),
        State(ids.ADMIN_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda *args: reset_guardrails(s, *args))
    app.callback(
        *changed,
        Input(ids.NEW_USER_ADD, "n_clicks"),
        State(ids.NEW_USER_NAME, "value"),
        State(ids.NEW_USER_ROLES, "value"),
        State(ids.NEW_USER_GROUPS, "value"),
        State(ids.ADMIN_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda *args: add_user(s, *args))
    app.callback(
        *changed,
        Input({"type": ids.USER_TOGGLE, "user": ALL}, "n_clicks"),
        State(ids.ADMIN_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda _clicks, version: toggle_user(s, clicked(), version))
    app.callback(
        *changed,
        Input(ids.NEW_KIOSK_ADD, "n_clicks"),
        State(ids.NEW_KIOSK_SCREEN, "value"),
        State(ids.ADMIN_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda *args: add_kiosk(s, *args))
    app.callback(
        *changed,
        Input({"type": ids.KIOSK_REVOKE, "kiosk": ALL}, "n_clicks"),
        State(ids.ADMIN_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda _clicks, version: revoke_kiosk(s, clicked(), version))
    app.callback(
        *changed,
        Input(ids.NEW_TOKEN_ADD, "n_clicks"),
        State(ids.NEW_TOKEN_NAME, "value"),
        State(ids.NEW_TOKEN_SCOPES, "value"),
        State(ids.ADMIN_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda *args: add_token(s, *args))
    app.callback(
        *changed,
        Input({"type": ids.TOKEN_REVOKE, "token": ALL}, "n_clicks"),
        State(ids.ADMIN_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda _clicks, version: revoke_token(s, clicked(), version))

    app.callback(
        Output(ids.AUDIT_ROWS, "children"),
        Output(ids.AUDIT_EXPORT, "href"),
        Input(ids.AUDIT_SEARCH, "n_clicks"),
        State(ids.AUDIT_WHO, "value"),
        State(ids.AUDIT_ACTION, "value"),
        State(ids.AUDIT_OBJECT, "value"),
        State(ids.AUDIT_SINCE, "value"),
    )(lambda *args: search_audit(s, *args))
