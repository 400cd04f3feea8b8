"""The Respond drawer: a card's responses (drafts, their approval chain, publishing) and the form that writes one.

Rendering only. Post and draft text is untrusted: it is only ever a text child (never markdown or HTML), and the
dry-run request is shown as preformatted text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import dcc, html

from analytics import outcomes
from auth import roles as table
from config.settings import NETWORKS
from layouts import ids

NETWORK_NAMES = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon"}
STATE_COLORS = {"drafting": "secondary", "rejected": "danger", "pending": "warning", "approved": "success"}
AS_OPTIONS = [("new", "New post"), ("reply", "Reply"), ("quote", "Quote")]


def may_respond(view) -> bool:
    return view is not None and (view.can(table.CARD_DRAFT) or view.can(table.CARD_APPROVE))


def make_respond_drawer(view) -> html.Div:
    """The drawer (off-canvas, so it takes no room in the grid); the form only for those who may draft."""
    body = [html.Div(id=ids.RESPOND_HEAD, className="respond-head small mb-2")]
    # Every id exists on every page that has the drawer (hidden where the roles may not; the server refuses them).
    body.append(
        html.Div(
            [
                html.Div(
                    [
                        dbc.Select(
                            id=ids.RESPOND_NETWORK,
                            options=[{"label": NETWORK_NAMES[n], "value": n} for n in NETWORKS],
                            value="x",
                            className="me-1 w-auto",
                        ),
                        dbc.RadioItems(
                            id=ids.RESPOND_AS,
                            options=[{"label": lab, "value": v} for v, lab in AS_OPTIONS],
                            value="new",
                            inline=True,
                            className="small",
                        ),
                    ],
                    className="d-flex align-items-center mb-1",
                ),
                dbc.Select(
                    id=ids.RESPOND_TEMPLATE,
                    options=[],
                    placeholder="Start from a template (fills the text)",
                    className="respond-template mb-1",
                ),
                html.Div(id=ids.RESPOND_HINT, className="small text-muted mb-1"),
                dbc.Textarea(
                    id=ids.RESPOND_TEXT,
                    placeholder="The response, as it will be posted",
                    rows=4,
                    maxLength=5000,
                    className="mb-1",
                ),
                image_fields(),
                html.Div(
                    [
                        html.Span(id=ids.RESPOND_COUNT, className="respond-count small me-2"),
                        dbc.Button(
                            "Submit for approval", id=ids.RESPOND_SUBMIT, color="warning", size="sm", n_clicks=0
                        ),
                    ],
                    className="d-flex align-items-center justify-content-between mb-1",
                ),
                html.Ul(id=ids.RESPOND_FINDINGS, className="respond-findings small mb-1"),
            ],
            className="respond-form mb-2",
            hidden=not view.can(table.CARD_DRAFT),
        )
    )
    body += [
        html.Div(id=ids.RESPOND_MESSAGE, className="respond-message small mb-2", role="status"),
        dbc.Input(
            id=ids.RESPOND_NOTE,
            placeholder="Note for a rejection (what to change)",
            maxLength=500,
            size="sm",
            className="mb-2",
            style=None if view.can(table.CARD_APPROVE) else {"display": "none"},
        ),
        html.Div(id=ids.RESPOND_DRAFTS, className="respond-drafts"),
    ]
    return html.Div(
        [
            dcc.Store(id=ids.RESPOND_CARD, data=None),
            dcc.Store(id=ids.RESPOND_REQUEST, data=None),
            dcc.Store(id=ids.RESPOND_EDITING, data=None),
            dcc.Store(id=ids.RESPOND_VERSION, data=0),
            dcc.Store(id=ids.RESPOND_SEEN, data=None),
            dcc.Interval(id=ids.RESPOND_TICK, interval=2000, disabled=True),
            dbc.Offcanvas(
                body, id=ids.RESPOND_DRAWER, title="Respond", is_open=False, placement="end", scrollable=True
            ),
        ]
    )


def image_fields() -> html.Div:
    """An optional image: its address and its alt text (required with an image; the server says so)."""
    return html.Div(
        [
            dbc.Label("Image (optional)", html_for=ids.RESPOND_IMAGE_URL, className="small mb-0"),
            dbc.Input(
                id=ids.RESPOND_IMAGE_URL,
                type="url",
                placeholder="https://… (PNG, JPEG, GIF or WebP; fetched when published)",
                maxLength=2000,
                size="sm",
                className="mb-1",
            ),
            dbc.Label("Alt text (required with an image)", html_for=ids.RESPOND_IMAGE_ALT, className="small mb-0"),
            dbc.Textarea(
                id=ids.RESPOND_IMAGE_ALT,
                placeholder="What the image shows, for people who cannot see it",
                rows=2,
                maxLength=1000,
                className="mb-1",
            ),
        ],
        className="respond-image",
    )


def respond_button(card_id: str) -> dbc.Button:
    return dbc.Button(
        "Respond",
        id={"type": ids.RESPOND_OPEN, "card": card_id},
        size="sm",
        color="outline-warning",
        className="me-1 mt-1",
        n_clicks=0,
    )


def card_head(card: dict) -> list:
    parts = [html.Div(card.get("title", ""), className="fw-bold")]
    if card.get("post_text"):
        who = f"@{card['post_handle']}: " if card.get("post_handle") else ""
        source = (card.get("post_id") or "").partition(":")[0]
        parts.append(html.Div(f"{who}{card['post_text']}", className="respond-post text-muted"))
        if source:
            parts.append(html.Div(f"framed post from {NETWORK_NAMES.get(source, source)}", className="text-muted"))
    return parts


def count_line(p: dict) -> str:
    over = p["over"]
    return f"{p['length']} / {p['limit']}" + (f" · {over} over" if over else "")


def findings_list(findings: list) -> list:
    return [
        html.Li(message, className="text-danger" if severity == "block" else "text-warning", **{"data-rule": rule})
        for severity, rule, message in findings
    ]


def _at(t: float | None) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S UTC") if t else "–"


def outcome_line(o: dict | None) -> html.Div:
    """What a published response did, in words: counts and where they come from."""
    said = outcomes.words(o)
    if not said:
        return html.Div("Outcome: nothing yet (replies, quotes and reposts count as the room sees them)",
                        className="small text-muted respond-outcome")  # fmt: skip
    polled = f" · network counts as of {_at(o['polled_at'])}" if o.get("polled_at") else " · as the room's sources saw"
    return html.Div(f"Outcome: {said}{polled}", className="small respond-outcome")


def card_clock(card: dict, summaries: list[dict]) -> html.Div | None:
    """The card's clock: from the first post to framed, drafted, approved and published."""
    said = outcomes.clock_words(outcomes.milestones(card, summaries))
    return html.Div(said, className="small text-muted card-clock") if said else None


def card_status_lines(summaries: list[dict]) -> list:
    """On a card in the list: one line per response (network, state, and once published what it did)."""
    return [
        html.Div(
            [
                dbc.Badge(d["state"], color=STATE_COLORS.get(d["state"], "info"), className="me-1"),
                html.Span(f"{NETWORK_NAMES.get(d['network'], d['network'])} response · {d['message']}"),
                html.Span(f" · {outcomes.words(d.get('outcome'))}", className="card-response-outcome")
                if outcomes.words(d.get("outcome"))
                else None,
            ],
            className="small card-response",
            **{"data-draft-id": d["id"]},
        )
        for d in summaries
    ]


def draft_item(d: dict, *, can_approve: bool, can_draft: bool) -> html.Div:
    """One response: text, count, status, chain (who did what when), and the actions this person may take."""
    m = d["measure"]
    how = "reply" if d.get("reply_to") else "quote" if d.get("quote_of") else "new post"
    head = html.Div(
        [
            dbc.Badge(d["state"], color=STATE_COLORS.get(d["state"], "info"), className="me-1 respond-state"),
            html.Span(f"{NETWORK_NAMES.get(d['network'], d['network'])} · {how} · {m['length']}/{m['limit']}"),
            html.Span(" · fast lane", className="text-info") if d["fast_lane"] else None,
        ],
        className="small",
    )
    parts = [
        head,
        html.Div(d["text"], className="respond-draft-text"),
    ]
    if d.get("image"):
        parts.append(
            html.Div(
                f"Image: {d['image']['url']} · alt text: {d['image']['alt']}", className="small respond-image-line"
            )
        )
    parts.append(html.Div(d["message"], className="small respond-status"))
    if d["steps"]:
        parts.append(html.Div("Chain: " + " → ".join(d["steps"]), className="small text-muted"))
    if d["history"]:
        parts.append(
            html.Ol(
                [
                    html.Li(
                        f"{_at(h['at'])} · {h['user']} · {h['action']}" + (f": {h['note']}" if h.get("note") else "")
                    )
                    for h in d["history"]
                ],
                className="small respond-chain",
            )
        )
    if d.get("publish_error"):
        parts.append(html.Div(str(d["publish_error"].get("words", "")), className="small text-danger"))
    if d.get("published"):
        p = d["published"]
        parts.append(html.Div(f"Published {_at(p.get('at'))} by {p.get('by')}: {p.get('url')}", className="small"))
        parts.append(outcome_line(d.get("outcome")))
    if d.get("dry_run"):
        dr = d["dry_run"]
        parts.append(html.Div(f"Dry run {_at(dr['at'])} by {dr['by']}: nothing sent. The request:", className="small"))
        parts.append(
            html.Pre(json.dumps(dr["request"], indent=1, ensure_ascii=False), className="respond-request small")
        )
    buttons = []
    if can_approve:
        buttons += [
            dbc.Button("Approve", id={"type": ids.RESPOND_APPROVE, "draft": d["id"]}, size="sm", color="success",
                       className="me-1", n_clicks=0),
            dbc.Button("Reject", id={"type": ids.RESPOND_REJECT, "draft": d["id"]}, size="sm", color="danger",
                       className="me-1", n_clicks=0),
        ]  # fmt: skip
    if can_draft and d["state"] == "approved":
        buttons.append(
            dbc.Button("Publish", id={"type": ids.RESPOND_PUBLISH, "draft": d["id"]}, size="sm", color="primary",
                       className="me-1", n_clicks=0)
        )  # fmt: skip
    if can_draft and d["state"] != "published":
        buttons.append(
            dbc.Button("Edit", id={"type": ids.RESPOND_EDIT, "draft": d["id"]}, size="sm", color="outline-light",
                       className="me-1", n_clicks=0)
        )  # fmt: skip
    if buttons:
        parts.append(html.Div(buttons, className="mt-1"))
    return html.Div(parts, className=f"respond-draft state-{d['state']}", **{"data-draft-id": d["id"]})
