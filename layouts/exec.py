"""The executive view: "how are we doing, and what is the team doing about it", on one screen, read in ten seconds."""

from __future__ import annotations

import time

import dash_bootstrap_components as dbc
from dash import dcc, html

from config.settings import Settings
from layouts import measures
from layouts.ids import TICK_MS
from layouts.render import age, compact

ROOT = "exec"
TICK = "exec-tick"  # dcc.Interval: this page's own clock
VERSION = "exec-version"
PUSH = "exec-push"  # dcc.Store: set by assets/push.js when a pushed answer waits
SEEN = "exec-seen"
FRESH = "exec-fresh"
LIGHT = "exec-light"
CLOCK = "exec-clock"
SOV = "exec-sov"
MOOD = "exec-mood"
VOLUME = "exec-volume"
MOMENTS = "exec-moments"
PIPELINE = "exec-pipeline"
PAUSED = "exec-paused"  # "Publishing paused: <reason> (by X)" while an admin has paused publishing
REPORT_BUTTON = "report-button"
REPORT_DOWNLOAD = "report-download"
REPORT_NOTE = "report-note"


def report_button() -> html.Span:
    """The report after the game, for strategists and executives (the server checks the role)."""
    return html.Span(
        [
            dbc.Button(
                "Download report", id=REPORT_BUTTON, n_clicks=0, color="warning", size="sm", className="report-btn"
            ),
            dcc.Download(id=REPORT_DOWNLOAD),
            html.Span(id=REPORT_NOTE, className="report-note", role="status"),
        ],
        className="report-box",
    )


def _block(title: str, body_id: str, cls: str) -> html.Section:
    return html.Section([html.H2(title, className="exec-title"), html.Div(id=body_id)], className=f"exec-block {cls}")


def make_exec_page(settings: Settings, build: str, ident=None) -> html.Div:
    ev = settings.event
    return html.Div(
        [
            dcc.Interval(id=TICK, interval=TICK_MS),
            dcc.Store(id=VERSION, data=0),
            dcc.Store(id=PUSH, data=None),
            dcc.Store(id=SEEN, data=None),
            html.Header(
                [
                    html.H1(f"{ev.brand.name} · {ev.name}", className="exec-h1"),
                    html.Span(id=CLOCK, className="exec-clock"),
                    html.Span(id=LIGHT, className="exec-light"),
                    html.Span("connecting…", id=FRESH, className="exec-fresh bad"),
                    report_button(),
                    _whoami(ident),
                    html.Div(id=PAUSED, className="exec-paused", hidden=True, role="status"),
                ],
                className="exec-top",
            ),
            html.Main(
                [
                    _block("Share of voice", SOV, "b-sov"),
                    _block("Net sentiment", MOOD, "b-mood"),
                    _block("Volume against expected", VOLUME, "b-volume"),
                    _block("Top moments and what the team did", MOMENTS, "b-moments"),
                    _block("The team's pipeline", PIPELINE, "b-pipeline"),
                ],
                className="exec-grid",
            ),
        ],
        id=ROOT,
        className="exec-view",
        **{"data-build": build},
    )


def _pct(v: float) -> str:
    return f"{v:.0f}%"


def sov_table(rows: list[dict]) -> html.Table:
    head = html.Thead(html.Tr([html.Th(x, scope="col") for x in ("", "now (5 min)", "last hour", "whole event")]))
    body = html.Tbody(
        [
            html.Tr(
                [html.Th(r["name"], scope="row")]
                + [html.Td(_pct(r[k]), className="num") for k in ("now", "hour", "event")],
                className="brand-row" if i == 0 else "",
            )
            for i, r in enumerate(rows)
        ]
    )
    return html.Table([head, body], className="exec-table")


def mood_rows(snap: dict) -> list:
    out = []
    for i, name in enumerate(measures.brands(snap)):
        now, before = measures.net_sentiment(snap, name)
        shape, word = measures.direction(now, before)
        out.append(
            html.Div(
                [
                    html.Span(name, className="mood-name"),
                    html.Span(
                        "–" if now is None else f"{now:+.0f}", className="mood-value" + (" big" if i == 0 else "")
                    ),
                    html.Span(f"{measures.tone(now)} · {shape} {word}", className="mood-word"),
                ],
                className="mood-row",
            )
        )
    out.append(
        html.P(
            "Mean tone of posts, −100 (all negative) to +100 (all positive); direction over 5 min.",
            className="exec-note",
        )
    )
    return out


def volume_block(exp: dict) -> list:
    base = exp["baseline"]
    ratio = exp["ratio"]
    slot = f"Schedule: {exp['slot']} (surge expected)" if exp["surge"] else "Schedule: no surge expected now"
    return [
        html.Div([html.Span(compact(exp["per_min"]), className="vol-big"), html.Span(" posts in the last minute")]),
        html.Div(
            f"typical minute this hour: {compact(base) if base is not None else '–'}"
            + (f" · ×{ratio:.1f}" if ratio is not None else ""),
            className="vol-line",
        ),
        html.Div(slot, className="vol-line"),
        html.Div(f"Verdict: {exp['verdict']}", className="vol-verdict"),
    ]


def moments_block(moments: list[dict], now: float) -> list:
    if not moments:
        return [html.P("No critical or high alerts yet.", className="exec-note")]
    out = []
    for m in moments:
        a = m["alert"]
        cards = m["cards"]
        did = (
            [
                html.Li(
                    f"Card “{c['title']}” · {c.get('status', 'new')}"
                    + (f" · {c['owner']}" if c.get("owner") else "")
                    + responded(c.get("responses") or [])
                )
                for c in cards[:3]
            ]
            if cards
            else [html.Li("No card framed yet")]
        )
        out.append(
            html.Article(
                [
                    html.Div(
                        [
                            html.Span(a.get("severity", "").upper(), className=f"sev sev-{a.get('severity')}"),
                            html.Span(f" {age(now - a['at'])} ago · ", className="exec-muted"),
                            html.Span(
                                "acknowledged" if a.get("acked_by") else "not acknowledged", className="exec-muted"
                            ),
                        ]
                    ),
                    html.Div(a.get("title", ""), className="moment-title"),
                    html.Ul(did, className="moment-did"),
                    html.Div("Responses and outcomes: none published yet", className="exec-note slot-responses"),
                ],
                className="moment",
            )
        )
    return out


def responded(published: list[dict]) -> str:
    """A card's published responses in words (" · 2 responses published · 1.2K engagement"), "" when none."""
    if not published:
        return ""
    n = len(published)
    engagement = sum(int(r.get("engagement") or 0) for r in published)
    return f" · {n} response{'s' * (n != 1)} published · {compact(engagement)} engagement"


def care_line(m: dict | None) -> html.Div | None:
    """Customer care in one line: backlog, breaches, first-response p50/p95, and open safety cases first."""
    if not m:
        return None

    def mins(v) -> str:
        return "–" if v is None else f"{v / 60:.0f} min"

    parts = [
        html.B(f"{m['safety_open']} safety", className="care-safety") if m.get("safety_open") else None,
        html.Span(["care backlog ", html.B(str(m.get("backlog", 0)))]),
        html.Span([" · breaches ", html.B(str(m.get("breaches", 0)))]),
        html.Span([" · first response ", html.B(mins(m.get("first_response_p50_s")))]),
        html.Span([" (p95 ", html.B(mins(m.get("first_response_p95_s"))), ")"]),
    ]
    return html.Div([p for p in parts if p is not None], className="care-figures")


def pipeline_block(p: dict, care: dict | None = None) -> list:
    chips = [
        html.Span([html.B(str(n)), f" {status}"], className=f"chip st-{status.replace(' ', '-')}")
        for status, n in p["by_status"].items()
    ]
    wait = p["median_approval_s"]
    return [
        html.Div(chips, className="chips"),
        html.Div(
            [
                html.Div(["median time to approval ", html.B("–" if wait is None else f"{wait / 60:.1f} min")]),
                html.Div(["responses published ", html.B(str(p["responses"]))]),
                html.Div(["engagement ", html.B(compact(p["engagement"]) if p["responses"] else "–")]),
            ],
            className="pipe-figures",
        ),
        *([line] if (line := care_line(care)) is not None else []),
    ]


def light(ok: bool, why: str) -> list:
    return [html.Span("●" if ok else "▲", className="light-shape"), " Data OK" if ok else f" Data degraded · {why}"]


def clock_line(snap: dict) -> str:
    return (snap.get("clock") or {}).get("label") or time.strftime("%H:%M", time.localtime(snap.get("built_at", 0)))


def _whoami(ident):
    """Who is signed in and as what, with Sign out, as on the command center (imported here: it imports us)."""
    from layouts.command_center import whoami

    return whoami(ident)
