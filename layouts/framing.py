"""The framing panel: turn a post or a moment into an opportunity or threat card, and the room's cards."""

from __future__ import annotations

from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import dcc, html

from layouts import comments as comment_ui
from layouts import ids
from layouts import responses as respond_ui
from layouts.render import age
from web.workflow import PRIORITIES, STATUSES, TYPES, move_actions, next_statuses


def make_framing_form() -> html.Div:
    return html.Div(
        [
            dcc.Store(id=ids.CARD_CONTEXT, data=None),
            html.Div(
                "Pick a post (Frame) or click the chart to anchor a moment.",
                id=ids.CARD_CONTEXT_VIEW,
                className="card-context small text-muted",
            ),
            dbc.Input(
                id=ids.CARD_TITLE,
                placeholder="Title, e.g. Lights out: dunk in the dark",
                maxLength=120,
                className="mb-1",
            ),
            dbc.Textarea(
                id=ids.CARD_SUMMARY,
                placeholder="Framing: what is happening, why it matters, what we say",
                maxLength=1000,
                rows=2,
                className="mb-1",
            ),
            html.Div(
                [
                    dbc.RadioItems(
                        id=ids.CARD_TYPE,
                        options=[{"label": t, "value": t} for t in TYPES],
                        value="opportunity",
                        inline=True,
                        className="me-2",
                    ),
                    dbc.Select(
                        id=ids.CARD_PRIORITY,
                        options=[{"label": lab, "value": v} for v, lab in PRIORITIES],
                        value="P1",
                        className="me-1 w-auto",
                    ),
                    dbc.Select(
                        id=ids.CARD_STATUS,
                        options=[{"label": s, "value": s} for s in STATUSES],
                        value="new",
                        className="me-1 w-auto",
                    ),
                ],
                className="d-flex align-items-center mb-1",
            ),
            html.Div(
                [
                    dbc.Input(id=ids.CARD_OWNER, placeholder="Owner", maxLength=60, className="me-1"),
                    dbc.Button("Save card", id=ids.CARD_SAVE, color="warning", n_clicks=0),
                ],
                className="d-flex",
            ),
        ],
        className="framing-form",
    )


def cards_list(
    cards: list[dict],
    now: float,
    view,
    timelines: dict[str, list[dict]] | None = None,
    limit: int = 30,
    responses: dict[str, list[dict]] | None = None,
    comments: dict[str, int] | None = None,
):
    """The room's cards for a view (its controls decide which moves are drawn; the server checks each).
    `responses`: each card's drafts as web.responses.summary gives them (their status is drawn on the card);
    `comments`: card id -> comments on it (the card's "comments · N", for views that may comment)."""
    if not cards:
        return [html.Div("No cards yet.", className="text-muted p-2")]
    timelines, responses, comments = timelines or {}, responses or {}, comments or {}
    return [
        card_item(c, now, view, timelines.get(c["id"], []), responses.get(c["id"], []), comments.get(c["id"], 0))
        for c in cards[:limit]
    ]


def card_moves(c: dict, view) -> list[str]:
    """The moves this view draws for a card: those one of its controls allows (approval: approvers only)."""
    if view is None:
        return []
    return [s for s in next_statuses(c) if any(view.can(action) for action, _ in move_actions(c, s))]


def card_item(
    c: dict, now: float, view, timeline: list[dict] = (), responses: list[dict] = (), comments: int = 0
) -> html.Div:
    kind = c.get("type", "opportunity")
    head = html.Div(
        [
            dbc.Badge(kind, color="success" if kind == "opportunity" else "danger", className="me-1"),
            dbc.Badge(c.get("priority", "P2"), color="warning", text_color="dark", className="me-1"),
            html.Span(c.get("title", ""), className="fw-bold card-title-text"),
        ]
    )
    meta = html.Div(
        f"{c.get('status', 'new')} · {c.get('owner') or 'unassigned'} · {age(now - c.get('created_at', now))} ago",
        className="small text-muted",
    )
    parts = [head, html.Div(c.get("summary", ""), className="card-summary-text"), meta]
    if c.get("note"):
        parts.append(html.Div(c["note"], className="small text-warning"))
    responder = respond_ui.may_respond(view)
    if responder:  # the room's responses are the drafters' and approvers' business, not the wall's
        parts += respond_ui.card_status_lines(list(responses))
        parts.append(respond_ui.card_clock(c, list(responses)))
    moves = card_moves(c, view)
    respond = [respond_ui.respond_button(c["id"])] if responder else []
    if comment_ui.may_comment(view):  # the card's discussion (those who may comment read it too)
        respond.append(comment_ui.comments_button(c["id"], comments))
    if moves or respond:
        parts.append(
            html.Div(
                respond
                + [
                    dbc.Button(
                        f"→ {s}",
                        id={"type": ids.CARD_STATUS_SET, "card": c["id"], "status": s},
                        size="sm",
                        color="outline-light",
                        className="me-1 mt-1",
                        n_clicks=0,
                    )
                    for s in moves
                ]
            )
        )
    if timeline:
        parts.append(
            html.Details(
                [
                    html.Summary(f"history · {len(timeline)}", className="small text-muted"),
                    html.Ol([html.Li(timeline_line(e)) for e in timeline], className="card-timeline small"),
                ],
                className="card-history",
            )
        )
    return html.Div(parts, className=f"room-card room-card-{kind}", **{"data-card-id": c["id"]})


def timeline_line(e: dict) -> str:
    """One audit entry of a card as a line of text: when, who as what, what changed."""
    at = datetime.fromtimestamp(e["at"], UTC).strftime("%H:%M:%S")
    roles = ", ".join(e.get("roles") or []) or "-"
    before, after = e.get("before") or {}, e.get("after") or {}
    if e["action"] == "card.create":
        what = f"created ({after.get('status', 'new')})"
    elif before.get("status") != after.get("status"):
        what = f"{before.get('status')} → {after.get('status')}"
    else:
        what = e.get("detail") or e["action"]
    return f"{at} UTC · {e['who']} ({roles}) · {what}"
