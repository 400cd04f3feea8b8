"""Status panels: freshness, pipeline counters, per-source health and alerts."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from layouts import ids
from layouts.render import age, ago, compact, memo_rows

STATE_COLORS = {
    "connected": "success",
    "reconnecting": "warning",
    "failing": "danger",
    "not configured": "secondary",
    "stopped": "secondary",
}
SEVERITY_COLORS = {"critical": "danger", "high": "warning", "medium": "info", "low": "secondary"}


def freshness(snap: dict, stale_after: float) -> dict:
    """What the browser needs to draw freshness: data age when the snapshot was built, and whether the
    pipeline behind it had already gone quiet. The browser adds the time since (assets/warroom.js)."""
    data_age = (snap.get("pipeline") or {}).get("data_age_s")
    stale = data_age is None or data_age > stale_after
    banner = (
        ""
        if not stale
        else (
            "STALE: no posts processed yet — are the sources and workers running?"
            if data_age is None
            else f"STALE: no new posts processed for {age(data_age)} — check sources and workers"
        )
    )
    return {"v": snap.get("version"), "age": data_age, "stale": stale, "banner": banner, "stale_after": stale_after}


def paused_line(pause: dict | None) -> str:
    """ "Publishing paused: <reason> (by X)" while an admin has paused publishing; "" otherwise."""
    return f"Publishing paused: {pause.get('reason', '')} (by {pause.get('by', '?')})" if pause else ""


def pipeline_line(snap: dict) -> str:
    p = snap.get("pipeline") or {}
    by_source = p.get("dropped_by_source") or {}
    dropped = (
        f" · ⚠ {compact(p['dropped'])} DROPPED ({', '.join(f'{s} {compact(n)}' for s, n in sorted(by_source.items()))})"
        if p.get("dropped")
        else ""
    )
    return (
        f"{compact(p.get('rate_per_s', 0))} posts/s · {compact(p.get('processed', 0))} processed · "
        f"{compact(p.get('dead', 0))} dead-lettered · lag {compact(p.get('lag', 0))}{dropped}"
    )


def sources_rows(sources: dict, now: float) -> list:
    if not sources:
        return [html.Div("No sources have reported.", className="text-muted")]
    rows = []
    for name, h in sorted(sources.items()):
        last = h.get("last_post_at")
        gaps = h.get("gaps", [])
        rl = h.get("rate_limit") or {}
        rows.append(
            html.Div(
                [
                    dbc.Badge(
                        h.get("state", "?"), color=STATE_COLORS.get(h.get("state"), "secondary"), className="me-2 state"
                    ),
                    html.Span(name, className="fw-bold me-2"),
                    html.Span(
                        [f"{compact(h.get('rate_per_s', 0))}/s · last ", ago(last) if last else "–"],
                        className="small text-muted me-2",
                    ),
                    html.Span(
                        f"{len(gaps)} gap{'s' if len(gaps) != 1 else ''}" if gaps else "",
                        className="small text-warning me-2",
                    ),
                    html.Span(f"rate limit {rl.get('remaining')} left" if rl else "", className="small text-info"),
                    html.Div(h.get("detail", ""), className="small text-muted source-detail"),
                ],
                className="source-row",
                **{"data-source": name},
            )
        )
    return rows


def alert_post(a: dict) -> dict | None:
    """The post an alert is about (a watch-word's or an influencer's), as the alert carries it."""
    posts = (a.get("why") or {}).get("posts") or []
    if a.get("post_id"):
        return next((p for p in posts if p.get("id") == a["post_id"]), None) or {"id": a["post_id"]}
    return posts[0] if posts else None


NO_ALERTS = html.Div("No alerts.", className="text-muted")
SHOWN_ALERTS = 12


def alert_rows(alerts: list[dict], can_ack: bool, can_frame: bool = False) -> list:
    return [alert_row(a, can_ack, can_frame) for a in alerts[:SHOWN_ALERTS]] or [NO_ALERTS]


def alert_list(alerts: list[dict], can_ack: bool, can_frame: bool = False) -> str:
    """alert_rows as assets/rows.js draws them, each distinct alert drawn once (layouts.render.memo_rows)."""
    return memo_rows(alerts[:SHOWN_ALERTS], alert_row, can_ack, can_frame, empty=NO_ALERTS)


def alert_row(a: dict, can_ack: bool, can_frame: bool = False) -> html.Div:
    acked = a.get("acked_by")
    return html.Div(
        [
            dbc.Badge(
                a.get("severity", "medium"),
                color=SEVERITY_COLORS.get(a.get("severity"), "info"),
                className="me-2",
            ),
            html.Span(a.get("title", ""), className="alert-title"),
            ago(a["at"], before=" · ", after=" ago", class_name="small text-muted"),
            html.Div(a.get("detail", ""), className="small text-muted alert-detail"),
            dbc.Button(
                "chart",
                id={"type": ids.FOCUS_ALERT, "alert": a["id"]},
                size="sm",
                color="link",
                className="py-0 px-1 focus-btn",
                n_clicks=0,
                title="Show this moment on the volume chart",
            ),
            dbc.Button(
                "Frame",
                id={"type": ids.FRAME_ALERT, "alert": a["id"]},
                size="sm",
                color="outline-info",
                className="ms-1 py-0 frame-alert-btn",
                n_clicks=0,
                title="Frame the post behind this alert as a card",
            )
            if can_frame and alert_post(a)
            else None,
            html.Span(f"✓ {acked}", className="small text-success")
            if acked
            else (
                dbc.Button(
                    "Ack",
                    id={"type": ids.ACK_ALERT, "alert": a["id"]},
                    size="sm",
                    color="outline-secondary",
                    className="ms-1 py-0",
                    n_clicks=0,
                )
                if can_ack
                else None
            ),
        ],
        className="alert-row" + (" acked" if acked else "") + f" sev-{a.get('severity', 'medium')}",
        **{"data-alert-id": a["id"]},
    )


def learning_line(learning: dict, sentiment: dict | None = None) -> str:
    marks = learning.get("marks", 0)
    if not marks:
        line = "ranking: rules · mark posts ✓/✗ to teach it"
    else:
        line = f"ranking learns from {marks} marks" + ("" if learning.get("ready") else " (needs a ✓ and a ✗)")
    corrections = (sentiment or {}).get("corrections", 0)
    if corrections:
        return f"{line} · sentiment learns from {corrections} correction" + ("" if corrections == 1 else "s")
    return line
