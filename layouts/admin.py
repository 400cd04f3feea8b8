"""The admin pages: publishing, guardrails, people, kiosk links and API tokens (`/admin`), and the audit trail (`/audit`). Text only."""

from __future__ import annotations

from datetime import UTC, datetime

import dash_bootstrap_components as dbc
import orjson
from dash import dcc, html

from auth import roles as table
from auth.identity import Identity
from config.settings import Settings
from layouts import ids
from layouts.command_center import make_header
from store.tokens import SCOPES

SINCE_CHOICES = [("15", "last 15 min"), ("60", "last hour"), ("360", "last 6 h"), ("1440", "last 24 h"), ("", "all")]
AUDIT_ROWS_SHOWN = 200


def _section(title: str, form, body_id: str) -> html.Div:
    return html.Div(
        [html.H2(title, className="h5 mt-3"), form, html.Div(id=body_id, className="admin-list mt-2")],
        className="admin-section",
    )


def make_admin_page(settings: Settings, view, ident: Identity | None) -> html.Div:
    people_form = html.Div(
        [
            dbc.Input(id=ids.NEW_USER_NAME, placeholder="name, e.g. lee", maxLength=64, className="me-1 w-auto"),
            dbc.Checklist(
                id=ids.NEW_USER_ROLES,
                options=[{"label": r, "value": r} for r in table.ROLES if r != table.WALL],
                value=[table.VIEWER],
                inline=True,
                className="me-2",
            ),
            dbc.Input(
                id=ids.NEW_USER_GROUPS, placeholder="approver groups, e.g. legal, brand", className="me-1 w-auto"
            ),
            dbc.Button("Add person", id=ids.NEW_USER_ADD, color="warning", n_clicks=0),
        ],
        className="d-flex flex-wrap align-items-center gap-1",
    )
    kiosk_form = html.Div(
        [
            dbc.Input(
                id=ids.NEW_KIOSK_SCREEN, placeholder="screen, e.g. lobby wall", maxLength=80, className="me-1 w-auto"
            ),
            dbc.Button("Create kiosk link", id=ids.NEW_KIOSK_ADD, color="warning", n_clicks=0),
        ],
        className="d-flex flex-wrap align-items-center gap-1",
    )
    token_form = html.Div(
        [
            dbc.Input(id=ids.NEW_TOKEN_NAME, placeholder="tool, e.g. grafana", maxLength=60, className="me-1 w-auto"),
            dbc.Checklist(
                id=ids.NEW_TOKEN_SCOPES,
                options=[{"label": s, "value": s} for s in SCOPES],
                value=["read"],
                inline=True,
                className="me-2",
            ),
            dbc.Button("Create API token", id=ids.NEW_TOKEN_ADD, color="warning", n_clicks=0),
        ],
        className="d-flex flex-wrap align-items-center gap-1",
    )
    publishing_form = html.Div(
        [
            dbc.Input(
                id=ids.PUBLISH_REASON,
                placeholder="why, e.g. injury on the field: hold everything",
                maxLength=300,
                className="me-1 admin-reason",
            ),
            dbc.Button("Pause publishing", id=ids.PUBLISH_PAUSE, color="danger", n_clicks=0),
            dbc.Button("Resume publishing", id=ids.PUBLISH_RESUME, color="outline-light", n_clicks=0),
        ],
        className="d-flex flex-wrap align-items-center gap-1",
    )
    return html.Div(
        [
            dcc.Store(id=ids.ADMIN_VERSION, data=0),
            dcc.Store(id=ids.GUARD_LOAD, data=0),
            make_header(settings, view, ident, live=False),
            html.Div(
                [
                    html.Div(id=ids.ADMIN_MESSAGE, className="admin-message", role="status"),
                    _section("Publishing", publishing_form, ids.ADMIN_PUBLISHING),
                    _section("Guardrails", guardrails_form(), ids.ADMIN_GUARDRAILS),
                    _section("People", people_form, ids.ADMIN_PEOPLE),
                    _section("Kiosk links (wall screens)", kiosk_form, ids.ADMIN_KIOSKS),
                    _section("API tokens", token_form, ids.ADMIN_TOKENS),
                ],
                className="admin-body p-3",
            ),
        ],
        className="cc admin-page",
    )


GUARD_FIELDS = (
    (ids.GUARD_BANNED, "Banned phrases", "one per line; a draft with one cannot be approved"),
    (ids.GUARD_TOPICS, "Topics to avoid", "one per line"),
    (ids.GUARD_DOMAINS, "Allowed link domains", "one host per line, e.g. oreo.com (subdomains too); empty: any"),
    (ids.GUARD_COMPETITORS, "Competitors", "one per line: Name, or Name: phrase, phrase"),
)


def guardrails_form() -> html.Div:
    fields = [
        html.Div(
            [
                dbc.Label(label, html_for=fid, className="small mb-0"),
                dbc.Textarea(id=fid, rows=5, className="admin-guard-text", title=hint, placeholder=hint),
            ],
            className="admin-guard-field",
        )
        for fid, label, hint in GUARD_FIELDS
    ]
    return html.Div(
        [
            html.Div(fields, className="d-flex flex-wrap gap-2"),
            html.Div(
                [
                    dbc.Button("Save guardrails", id=ids.GUARD_SAVE, color="warning", n_clicks=0),
                    dbc.Button("Use the event file's", id=ids.GUARD_RESET, color="outline-light", n_clicks=0),
                    html.Span(id=ids.GUARD_NOTE, className="small text-muted"),
                ],
                className="d-flex flex-wrap align-items-center gap-1 mt-1",
            ),
        ]
    )


def publishing_state(pause: dict | None) -> html.Div:
    if not pause:
        return html.Div("Publishing is on.", className="text-success")
    return html.Div(
        f"Publishing paused by {pause['by']} at {_when(pause['at'])}: {pause['reason']}",
        className="text-danger fw-bold",
    )


def guardrails_state(override: dict | None, labels: dict[str, str]) -> html.Div:
    if not override:
        return html.Div("In force: the event file's guardrails.", className="small")
    fields = ", ".join(labels[f] for f in labels if f in override)
    return html.Div(
        f"In force: the event file's, with {fields} set by {override['by']} at {_when(override['at'])}.",
        className="small text-warning",
    )


def _when(t: float | None) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if t else "-"


def _table(header: list[str], rows: list[list]) -> html.Table:
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in header])),
            html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows]),
        ],
        className="table table-sm table-dark admin-table",
    )


def people_table(users: list[dict], me: str | None) -> html.Table:
    rows = []
    for u in users:
        state = "disabled" if u["disabled"] else "active"
        toggle = dbc.Button(
            "Enable" if u["disabled"] else "Disable",
            id={"type": ids.USER_TOGGLE, "user": u["name"]},
            size="sm",
            color="outline-light",
            n_clicks=0,
            disabled=u["name"] == me,
            title="you cannot disable yourself" if u["name"] == me else "",
        )
        rows.append(
            [
                u["name"],
                ", ".join(u["roles"]),
                ", ".join(u["groups"]) or "-",
                state,
                u["source"],
                "yes" if u["has_password"] else "no",
                toggle,
            ]
        )
    return _table(["name", "roles", "groups", "state", "source", "password", ""], rows)


def kiosks_table(links: list[dict]) -> html.Table:
    rows = []
    for k in links:
        state = "revoked" if k["revoked_at"] else "open on a screen" if k["claimed_at"] else "not opened yet"
        revoke = (
            None
            if k["revoked_at"]
            else dbc.Button(
                "Revoke", id={"type": ids.KIOSK_REVOKE, "kiosk": k["id"]}, size="sm", color="outline-danger", n_clicks=0
            )
        )
        rows.append([k["id"], k["screen"], state, k["created_by"], _when(k["created_at"]), revoke])
    return _table(["id", "screen", "state", "created by", "created", ""], rows)


def tokens_table(items: list[dict]) -> html.Table:
    rows = []
    for t in items:
        revoke = (
            None
            if t["revoked_at"]
            else dbc.Button(
                "Revoke", id={"type": ids.TOKEN_REVOKE, "token": t["id"]}, size="sm", color="outline-danger", n_clicks=0
            )
        )
        state = "revoked" if t["revoked_at"] else "active"
        rows.append([t["id"], t["name"], ", ".join(t["scopes"]), state, t["created_by"], revoke])
    return _table(["id", "name", "scopes", "state", "created by", ""], rows)


def make_audit_page(settings: Settings, view, ident: Identity | None) -> html.Div:
    filters = html.Div(
        [
            dbc.Input(id=ids.AUDIT_WHO, placeholder="who", className="w-auto"),
            dbc.Input(id=ids.AUDIT_ACTION, placeholder="action, e.g. card. or signin", className="w-auto"),
            dbc.Input(id=ids.AUDIT_OBJECT, placeholder="object, e.g. card or card:ID", className="w-auto"),
            dbc.Select(
                id=ids.AUDIT_SINCE,
                options=[{"label": label, "value": v} for v, label in SINCE_CHOICES],
                value="",
                className="w-auto",
            ),
            dbc.Button("Search", id=ids.AUDIT_SEARCH, color="warning", n_clicks=0),
            html.A("Export CSV", id=ids.AUDIT_EXPORT, href="/api/audit?format=csv", className="btn btn-outline-light"),
        ],
        className="d-flex flex-wrap align-items-center gap-1",
    )
    return html.Div(
        [
            make_header(settings, view, ident, live=False),
            html.Div(
                [
                    html.H2("Audit trail", className="h5"),
                    filters,
                    html.Div(id=ids.AUDIT_ROWS, className="admin-list mt-2"),
                ],
                className="admin-body p-3",
            ),
        ],
        className="cc admin-page",
    )


def _brief(value) -> str:
    if value is None:
        return ""
    text = orjson.dumps(value).decode()
    return text if len(text) <= 240 else text[:239] + "…"


def audit_table(items: list[dict]) -> html.Div:
    if not items:
        return html.Div("Nothing matches.", className="text-muted")
    rows = [
        [
            _when(e["at"]),
            e["who"],
            ", ".join(e.get("roles") or []),
            e["action"],
            f"{e['object_type']}:{e['object_id']}",
            _brief(e.get("before")),
            _brief(e.get("after")),
            e.get("detail") or "",
            e.get("address") or "",
        ]
        for e in items[:AUDIT_ROWS_SHOWN]
    ]
    shown = f"newest {len(rows)} of {len(items)}+" if len(items) > AUDIT_ROWS_SHOWN else f"{len(rows)} entries"
    return html.Div(
        [
            html.Div(shown, className="small text-muted"),
            _table(["when", "who", "roles", "action", "object", "before", "after", "detail", "address"], rows),
        ]
    )
