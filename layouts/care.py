"""The care lane: cases by urgency with their first-response timers, one case's conversation, and the small forms
that assign, escalate, correct, resolve and answer it. Post text is always rendered as text (never markdown/HTML).
"""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from analytics.care import KINDS
from layouts.render import age, compact, row_list, safe_href, source_badge

# Component ids (the lane's own; layouts/ids.py belongs to the command center)
LANE = "care-lane"
METRICS = "care-metrics"
DETAIL = "care-detail"
SELECTED = "care-selected"
MESSAGE = "care-message"
OPEN = "care-open"  # pattern id {"type": OPEN, "case": id}
OWNER = "care-owner"
ESCALATE_TO = "care-escalate-to"
NOTE = "care-note"
KIND = "care-kind"
TEMPLATE = "care-template"
TEXT = "care-text"
DRAFT_ID = "care-draft-id"
BUTTONS = {
    "assign": "care-assign",
    "escalate": "care-escalate",
    "correct": "care-correct",
    "resolve": "care-resolve",
    "draft": "care-draft",
    "approve": "care-approve",
    "publish": "care-publish",
}

KIND_COLORS = {"safety": "danger", "complaint": "warning", "question": "info", "praise": "success", "none": "secondary"}
TIMER_COLORS = {"ok": "success", "warning": "warning", "breached": "danger", "met": "secondary", "none": "secondary"}


def make_care_panel(can_write: bool, can_approve: bool = False) -> html.Div:
    """The lane's body: metrics, cases, the selected case, and its forms: all of them for strategists, only
    Approve for an approver (the server checks every write whatever the page shows)."""
    body = [
        dcc.Store(id=SELECTED, data=None),
        dcc.Store(id=DRAFT_ID, data=None),
        html.Div(id=METRICS, className="care-metrics small mb-1"),
        *row_list(LANE, "care-lane"),
        html.Div(id=DETAIL, className="care-detail mt-2"),
    ]
    if can_write or can_approve:
        body.append(make_forms(can_write, can_approve))
    return html.Div(body)


def make_forms(can_write: bool = True, can_approve: bool = True) -> html.Div:
    def btn(action: str, label: str, color: str = "secondary") -> dbc.Button:
        return dbc.Button(label, id=BUTTONS[action], size="sm", color=color, className="me-1 mb-1")

    return html.Div(
        [
            html.Div(
                [
                    dbc.Input(id=OWNER, placeholder="Owner", maxLength=60, size="sm", className="w-auto me-1"),
                    btn("assign", "Assign"),
                    dbc.Input(
                        id=ESCALATE_TO, placeholder="Escalate to", maxLength=60, size="sm", className="w-auto me-1"
                    ),
                    btn("escalate", "Escalate", "danger"),
                ],
                className="d-flex flex-wrap align-items-center",
                hidden=not can_write,
            ),
            html.Div(
                [
                    dbc.Select(
                        id=KIND,
                        options=[{"label": k, "value": k} for k in KINDS],
                        placeholder="Really a…",
                        size="sm",
                        className="w-auto me-1",
                    ),
                    btn("correct", "Correct triage"),
                    btn("resolve", "Resolve", "success"),
                    dbc.Input(id=NOTE, placeholder="Note", maxLength=300, size="sm", className="w-auto"),
                ],
                className="d-flex flex-wrap align-items-center",
                hidden=not can_write,
            ),
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Select(
                                id=TEMPLATE, options=[], placeholder="Care template", size="sm", className="mb-1"
                            ),
                            dbc.Textarea(
                                id=TEXT, placeholder="Reply (blank: the template's text)", rows=2, maxLength=1000
                            ),
                        ],
                        hidden=not can_write,
                    ),
                    html.Div(
                        [
                            html.Span(btn("draft", "Draft & submit", "primary"), hidden=not can_write),
                            html.Span(btn("approve", "Approve"), hidden=not can_approve),
                            html.Span(btn("publish", "Publish"), hidden=not can_write),
                        ],
                        className="mt-1",
                    ),
                ],
                className="care-reply mt-1",
            ),
            html.Div(id=MESSAGE, className="small text-muted"),
        ],
        className="care-forms mt-2",
    )


def _mins(seconds: float | None) -> str:
    return "–" if seconds is None else age(seconds)


def metrics_line(m: dict) -> list:
    if not m:
        return ["care: waiting for the first snapshot"]
    parts = [
        f"backlog {m.get('backlog', 0)}",
        f"breaches {m.get('breaches', 0)}",
        f"warning {m.get('warning_now', 0)}",
        f"first response p50 {_mins(m.get('first_response_p50_s'))} · p95 {_mins(m.get('first_response_p95_s'))}",
        f"escalated {m.get('escalated', 0)}",
    ]
    out: list = [" · ".join(parts)]
    if m.get("safety_open"):
        out.insert(0, dbc.Badge(f"{m['safety_open']} SAFETY", color="danger", className="me-1"))
    return out


def timer_badge(t: dict) -> dbc.Badge:
    status = t.get("status", "none")
    if status == "met":
        label = f"answered in {_mins(t.get('elapsed_s'))}"
    elif t.get("left_s") is None:
        label = f"waiting {_mins(t.get('elapsed_s'))}"
    elif t["left_s"] < 0:
        label = f"{_mins(-t['left_s'])} over target"
    else:
        label = f"{_mins(t['left_s'])} left"
    return dbc.Badge(label, color=TIMER_COLORS.get(status, "secondary"), className="me-1 care-timer")


def lane_rows(cases: list[dict], selected: str | None = None) -> list:
    if not cases:
        return [html.Div("No open cases.", className="small text-muted")]
    rows = []
    for c in cases:
        last = c["posts"][-1] if c["posts"] else {}
        a = c["author"]
        rows.append(
            html.Div(
                [
                    html.Div(
                        [
                            dbc.Badge(c["kind"], color=KIND_COLORS.get(c["kind"], "secondary"), className="me-1"),
                            timer_badge(c.get("timer") or {}),
                            html.Span(c["state"], className="me-1 small care-state"),
                            html.Span(f"@{a['handle']}", className="me-1 fw-bold"),
                            html.Span(f"{compact(a.get('followers') or 0)} followers", className="small text-muted"),
                            html.Span(f" · {c['owner']}" if c.get("owner") else "", className="small"),
                            html.Span(f" · ×{len(c['posts'])}" if len(c["posts"]) > 1 else "", className="small"),
                            dbc.Button(
                                "open",
                                id={"type": OPEN, "case": c["id"]},
                                size="sm",
                                color="link",
                                className="p-0 ms-2",
                            ),
                        ]
                    ),
                    html.Div(last.get("text", ""), className="care-text small"),
                    html.Div("; ".join(c.get("reasons") or []), className="care-reasons small text-muted"),
                ],
                className="care-case" + (" selected" if c["id"] == selected else "") + f" kind-{c['kind']}",
            )
        )
    return rows


def _post_line(p: dict, label: str = "") -> html.Div:
    href = safe_href(p.get("url"))
    return html.Div(
        [
            html.Span(label, className="small text-muted me-1") if label else None,
            html.Span(p.get("text", ""), className="care-post-text"),
            html.A(" ↗", href=href, target="_blank", rel="noopener noreferrer") if href else None,
            html.Span(f" · {p['kind']}" if p.get("kind") else "", className="small text-muted"),
        ],
        className="care-post small",
    )


def case_detail(case: dict | None, drafts: list[dict] = (), now: float = 0.0) -> list:
    """The conversation around a case: each post (and what it replies to), the author's other posts, history."""
    if case is None:
        return [html.Div("Open a case to see its conversation.", className="small text-muted")]
    parents = case.get("parents") or {}
    posts = []
    for p in case["posts"]:
        if p.get("reply_to"):
            parent = parents.get(p["reply_to"]) or next((q for q in case["posts"] if q["id"] == p["reply_to"]), None)
            posts.append(_post_line(parent or {"text": f"(a post not in the room: {p['reply_to']})"}, "in reply to:"))
        posts.append(_post_line(p, "said:"))
    other = [_post_line(p, "also:") for p in case.get("context") or []]
    esc = case.get("escalation")
    out = [
        html.Div(
            [
                source_badge(case["source"]),
                html.Span(f"@{case['author']['handle']} · {case['kind']} · {case['state']}", className="fw-bold"),
                html.Span(f" · escalated to {esc['to']} ({esc['reason']})" if esc else "", className="text-danger"),
            ]
        ),
        html.Div(posts, className="care-conversation"),
    ]
    if other:
        out.append(html.Div([html.Div("Their other recent posts in the room", className="small text-muted"), *other]))
    for d in drafts:
        state = (d.get("approval") or {}).get("state")
        out.append(
            html.Div(
                [
                    html.Span(
                        f"reply draft {d['id']} ({d['network']}, {state})"
                        + (" · published" if d.get("published") else ""),
                        className="small me-1",
                    ),
                    html.Span(d["text"], className="small care-draft-text"),
                    html.Span(f" · {d['unthreaded']}" if d.get("unthreaded") else "", className="small text-warning"),
                ]
            )
        )
    out.append(
        html.Div(
            [
                html.Div(f"{h['who']}: {h['action']} {h.get('note') or ''}", className="small text-muted")
                for h in case.get("history", [])[-6:]
            ]
        )
    )
    return out
