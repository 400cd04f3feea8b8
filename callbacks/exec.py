"""The executive view's one request per tick, and the report button (strategists and executives only)."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from dash import ClientsideFunction, Input, Output, State, dcc, no_update
from dash.exceptions import PreventUpdate

from auth import roles as table
from layouts import exec as x
from layouts import ids, measures
from layouts.command_center import TICK_MS
from layouts.status import freshness, paused_line
from store import alerts as alert_store
from store import cards as card_store
from store.history import minute_counts
from web import responses
from web.build import build_version
from web.roles import Forbidden, require
from web.services import Services, publishing_paused

logger = logging.getLogger(__name__)

ALERTS_READ = 500
EVENT_S = 24 * 3600  # per-minute volume is kept this long in Redis: "whole event" reaches back at most that far

OUTPUTS = [
    (x.VERSION, "data"),
    (x.SEEN, "data"),
    (x.CLOCK, "children"),
    (x.LIGHT, "children"),
    (x.LIGHT, "className"),
    (x.SOV, "children"),
    (x.MOOD, "children"),
    (x.VOLUME, "children"),
    (x.MOMENTS, "children"),
    (x.PIPELINE, "children"),
    (x.PAUSED, "children"),
    (x.PAUSED, "hidden"),
]


def history(s: Services, now: float) -> dict[str, dict[int, int]]:
    """Per-minute counts of the last 24 h, fetched once a minute for every executive screen."""
    minute = int(now) // 60 * 60
    return s.snapshots.memo(("minutes", minute), lambda: minute_counts(s.r, s.keys, minute - EVENT_S, minute + 60))


def exec_screen(s: Services, seen) -> list:
    version, snap = s.snapshots.get()
    if not snap or version == seen:
        raise PreventUpdate
    stale_after = s.settings.event.thresholds.stale_after_s
    head = {**freshness(snap, stale_after), "tick_s": TICK_MS / 1000, "build": build_version()}
    body = s.snapshots.memo(("exec", version), lambda: render(s, snap, stale_after))
    paused = paused_line(publishing_paused(s, version))
    return [version, head, *body, paused, not paused]


def render(s: Services, snap: dict, stale_after: float) -> list:
    now = snap.get("built_at", time.time())
    minutes = history(s, now)
    hour = {n: sum(v for m, v in per.items() if m >= now - 3600) for n, per in minutes.items()}
    event = {n: sum(per.values()) for n, per in minutes.items()}
    cards = with_responses(card_store.all_cards(s.r, s.keys), responses.by_card(s, now))
    alerts = alert_store.recent(s.r, s.keys, ALERTS_READ)
    ok, why = measures.data_light(snap, stale_after)
    return [
        x.clock_line(snap),
        x.light(ok, why),
        "exec-light ok" if ok else "exec-light bad",
        x.sov_table(measures.share_of_voice(snap, hour, event)),
        x.mood_rows(snap),
        x.volume_block(measures.expected(snap, minutes.get("all"))),
        x.moments_block(measures.top_moments(alerts, cards), now),
        x.pipeline_block(measures.pipeline(cards), (snap.get("care") or {}).get("metrics")),
    ]


def with_responses(cards: list[dict], drafts_by_card: dict[str, list[dict]]) -> list[dict]:
    """Each card with its published responses and what they did (what "what the team did about it" shows)."""
    out = []
    for c in cards:
        published = [d for d in drafts_by_card.get(c["id"], []) if d.get("published")]
        out.append(
            {
                **c,
                "responses": [
                    {
                        "network": d["network"],
                        "outcome": d.get("outcome"),
                        "engagement": (d.get("outcome") or {}).get("engagement", 0),
                    }
                    for d in published
                ],
            }
        )
    return out


def download_report(s: Services, clicks: int | None, pathname: str | None):
    """The report as a zip (report.html, report.pdf, csv/, json/); refused for roles that may not have it."""
    from report.build import write_report, zip_folder

    if not clicks:
        raise PreventUpdate
    try:
        require(table.VIEW_EXEC)  # strategists and executives (the wall may not)
    except Forbidden:
        return no_update, "Only strategists and executives can download the report."
    with tempfile.TemporaryDirectory() as tmp:
        out = write_report(s.settings, Path(tmp) / "report")
        data = zip_folder(out)
    name = f"warroom-report-{s.settings.event.id}-{time.strftime('%Y%m%d-%H%M')}.zip"
    return dcc.send_bytes(data, name), "Report ready."


def register(app, s: Services) -> None:
    app.callback(
        [Output(i, p) for i, p in OUTPUTS],
        Input(x.TICK, "n_intervals"),
        Input(x.PUSH, "data"),  # assets/push.js: a pushed answer waits (web/push.py)
        State(x.VERSION, "data"),
    )(lambda _n, _push, seen: exec_screen(s, seen))
    app.clientside_callback(
        ClientsideFunction(namespace="exec", function_name="tick"),
        Output(x.FRESH, "children"),
        Output(x.FRESH, "className"),
        Input(x.TICK, "n_intervals"),
        State(x.SEEN, "data"),
    )
    app.callback(
        Output(x.REPORT_DOWNLOAD, "data"),
        Output(x.REPORT_NOTE, "children"),
        Input(x.REPORT_BUTTON, "n_clicks"),
        State(ids.URL, "pathname"),
        prevent_initial_call=True,
    )(lambda clicks, pathname: download_report(s, clicks, pathname))
