"""The wall's one request per tick: the view the snapshot says is on, a critical alert's takeover, freshness.

Freshness, reconnecting and reloading are drawn in the browser (assets/wall.js): they must work exactly when the
server does not answer.
"""

from __future__ import annotations

from pathlib import Path

import flask
from dash import ClientsideFunction, Input, Output, State, no_update
from dash.exceptions import PreventUpdate

from layouts import wall as w
from layouts.command_center import TICK_MS
from layouts.status import freshness, paused_line
from web.build import build_version
from web.services import Services, publishing_paused

# A colour emoji font for screens whose system has none (a TV's browser, a bare kiosk): the server's own copy,
# fetched by a browser only when a post holds an emoji and no local colour emoji font has it (assets/wall.css).
EMOJI_FONTS = (
    Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
    Path("/usr/share/fonts/noto/NotoColorEmoji.ttf"),
    Path("/usr/share/fonts/google-noto-color-emoji/NotoColorEmoji.ttf"),
)
OUTPUTS = [
    (w.VERSION, "data"),
    (w.SEEN, "data"),
    (w.CLOCK, "children"),
    (w.VIEW_LABEL, "children"),
    *[(w.view_id(v), "className") for v in w.VIEWS],
    (w.OVERVIEW_CHART, "figure"),
    (w.OVERVIEW_TRENDING, "children"),
    (w.OVERVIEW_MOOD, "children"),
    (w.SPOTLIGHT, "children"),
    (w.STORIES, "children"),
    (w.BRANDS, "children"),
    (w.TAKEOVER, "className"),
    (w.TAKEOVER_BODY, "children"),
    (w.TAKEOVER_CHART, "figure"),
    (w.PAUSED, "children"),
    (w.PAUSED, "hidden"),
]


def wall_screen(s: Services, seen, rem) -> list:
    """Everything the wall shows for the current snapshot, in the order of OUTPUTS (PreventUpdate: nothing new).

    Nothing is drawn before the browser has said its rem: a chart drawn at a guessed text size would stay small
    on a 4K wall until the next answer."""
    version, snap = s.snapshots.get()
    if not snap or version == seen or not rem:
        raise PreventUpdate  # no rem yet: assets/wall.js sends the page's text size on its first tick
    rem = round(float(rem), 1)
    cfg = s.settings.event.wall
    views = [v for v in w.VIEWS if v in cfg.views]
    head = {
        **freshness(snap, s.settings.event.thresholds.stale_after_s),
        "tick_s": TICK_MS / 1000,
        "build": build_version(),
    }
    body = s.snapshots.memo(("wall", version, rem), lambda: render(snap, views, cfg.rotate_s, cfg.takeover_s, rem))
    paused = paused_line(publishing_paused(s, version))
    return [version, head, *body, paused, not paused]


def render(snap: dict, views: list[str], rotate_s: float, takeover_s: float, rem: float) -> list:
    view, hold = w.wall_state(snap, views, rotate_s, takeover_s)
    on = {v: f"wall-view wall-view-{v}" + (" on" if v == view else "") for v in w.VIEWS}
    content = {
        "overview": [w.volume_figure(snap, rem), w.trending(snap), w.mood(snap)],
        "spotlight": [w.spotlight(snap)],
        "storylines": [w.storylines(snap)],
        "brands": [w.brands_view(snap)],
    }
    panels = [x if v == view else no_update for v in w.VIEWS for x in content[v]]
    label = f"{w.TITLES[view]} · {views.index(view) + 1} of {len(views)}"
    take = (
        ["wall-takeover on", w.takeover(hold), w.volume_figure(snap, rem, moment=hold.get("moment") or hold["at"])]
        if hold
        else ["wall-takeover", no_update, no_update]
    )
    return [(snap.get("clock") or {}).get("label", ""), label, *[on[v] for v in w.VIEWS], *panels, *take]


def emoji_font():
    font = next((p for p in EMOJI_FONTS if p.exists()), None)
    if font is None:
        flask.abort(404)
    resp = flask.send_file(font, mimetype="font/ttf", max_age=7 * 86400)
    return resp


def register(app, s: Services) -> None:
    app.callback(
        [Output(i, p) for i, p in OUTPUTS],
        Input(w.TICK, "n_intervals"),
        Input(w.PUSH, "data"),  # assets/push.js: a pushed answer waits (web/push.py)
        State(w.VERSION, "data"),
        State(w.REM, "data"),
    )(lambda _n, _push, seen, rem: wall_screen(s, seen, rem))
    app.clientside_callback(
        ClientsideFunction(namespace="wall", function_name="tick"),
        Output(w.LIVE, "children"),
        Output(w.LIVE, "className"),
        Output(w.STALE, "children"),
        Output(w.STALE, "hidden"),
        Input(w.TICK, "n_intervals"),
        State(w.SEEN, "data"),
    )
    if "emoji_font" not in app.server.view_functions:
        app.server.add_url_rule("/fonts/emoji.ttf", "emoji_font", emoji_font)
