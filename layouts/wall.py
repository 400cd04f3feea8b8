"""The wall: a TV across the room. Big type (1 rem = 28 px at 1080p, scaled with the screen), at most four panels,
no controls; it rotates through views and a critical alert takes the whole screen for a while.

What is on screen is decided from the snapshot alone (`wall_state`), so every wall in the room shows the same view.
"""

from __future__ import annotations

from dash import dcc, html

from analytics.outcomes import words as outcome_words
from config.settings import Settings
from layouts import measures
from layouts.ids import TICK_MS
from layouts.render import compact
from layouts.volume import PALETTE

# Component ids (the wall's own: nothing here is shared with the strategists' page).
ROOT = "wall"
TICK = "wall-tick"  # dcc.Interval: this page's own clock
VERSION = "wall-version"  # dcc.Store: the snapshot version this wall shows
SEEN = "wall-seen"  # dcc.Store: freshness and build of the last answer (assets/wall.js)
PUSH = "wall-push"  # dcc.Store: set by assets/push.js when a pushed answer waits
REM = "wall-rem"  # dcc.Store: the page's rem in px, so chart text scales like the rest
CLOCK = "wall-clock"
VIEW_LABEL = "wall-view-label"
LIVE = "wall-live"
STALE = "wall-stale"
PAUSED = "wall-paused"  # "Publishing paused: <reason> (by X)" while an admin has paused publishing
TAKEOVER = "wall-takeover"
TAKEOVER_BODY = "wall-takeover-body"
TAKEOVER_CHART = "wall-takeover-chart"
VIEWS = ("overview", "spotlight", "storylines", "brands")
TITLES = {
    "overview": "Overview",
    "spotlight": "Top posts",
    "storylines": "Storylines",
    "brands": "Brand vs competitors",
}
OVERVIEW_CHART = "wall-overview-chart"
OVERVIEW_TRENDING = "wall-overview-trending"
OVERVIEW_MOOD = "wall-overview-mood"
SPOTLIGHT = "wall-spotlight"
STORIES = "wall-stories"
BRANDS = "wall-brands"
CHART_WINDOW_S = 600
BIN_S = 5
POST_CHARS = 180


def view_id(name: str) -> str:
    return f"wall-view-{name}"


def _graph(gid: str) -> dcc.Graph:
    return dcc.Graph(
        id=gid,
        figure={"data": [], "layout": {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}},
        config={"staticPlot": True, "displayModeBar": False, "responsive": True},
        className="wall-graph",
        style={"height": "100%", "width": "100%"},
    )


def _panel(title: str, body, cls: str = "") -> html.Section:
    return html.Section([html.H2(title, className="wall-panel-title"), body], className=f"wall-panel {cls}")


def make_wall_page(settings: Settings, build: str) -> html.Div:
    wall = settings.event.wall
    views = {
        "overview": [
            _panel("Live volume · posts per second, last 10 min", _graph(OVERVIEW_CHART), "wall-chart-panel"),
            _panel("Trending now", html.Div(id=OVERVIEW_TRENDING), "wall-trending"),
            _panel("Mood", html.Div(id=OVERVIEW_MOOD), "wall-mood"),
        ],
        "spotlight": [_panel("Top posts right now", html.Div(id=SPOTLIGHT), "wall-spot")],
        "storylines": [_panel("Storylines · what people are talking about", html.Div(id=STORIES), "wall-stories")],
        "brands": [_panel("Brand vs competitors · last 5 min", html.Div(id=BRANDS), "wall-brands")],
    }
    return html.Div(
        [
            dcc.Interval(id=TICK, interval=TICK_MS),
            dcc.Store(id=VERSION, data=0),
            dcc.Store(id=PUSH, data=None),
            dcc.Store(id=SEEN, data=None),
            dcc.Store(id=REM, data=None),
            html.Header(
                [
                    html.Span("WAR ROOM", className="wall-brand"),
                    html.Span(f"{settings.event.name} · {settings.event.brand.name}", className="wall-event"),
                    html.Span(id=CLOCK, className="wall-clock"),
                    html.Span(id=VIEW_LABEL, className="wall-view-label"),
                    html.Span("connecting", id=LIVE, className="wall-live bad"),
                    html.Div(id=PAUSED, className="wall-paused", hidden=True, role="status"),
                ],
                className="wall-top",
            ),
            html.Main(
                [
                    html.Div(views[name], id=view_id(name), className=f"wall-view wall-view-{name}")
                    for name in VIEWS
                    if name in wall.views
                ],
                className="wall-stage",
            ),
            html.Div(
                [
                    html.Div(id=TAKEOVER_BODY, className="wall-takeover-body"),
                    html.Div(_graph(TAKEOVER_CHART), className="wall-takeover-chart"),
                ],
                id=TAKEOVER,
                className="wall-takeover",
                role="alert",
            ),
            html.Div(id=STALE, className="wall-stale", hidden=True, role="status"),
        ],
        id=ROOT,
        className="wall",
        **{"data-build": build, "data-rotate": str(wall.rotate_s)},
    )


# What is on the wall now -----------------------------------------------------------------------------------------


def wall_state(snap: dict, views: list[str], rotate_s: float, takeover_s: float) -> tuple[str, dict | None]:
    """(view shown, critical alert holding the wall or None): both from the snapshot's time, so walls agree."""
    built = snap.get("built_at", 0)
    hold = next(
        (
            a
            for a in snap.get("alerts", [])
            if a.get("severity") == "critical" and 0 <= built - a.get("raised_at", a["at"]) < takeover_s
        ),
        None,
    )
    return views[int(built // rotate_s) % len(views)], hold


def _layout(rem: float) -> dict:
    return {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": "#f1f3f5", "size": rem, "family": "DejaVu Sans, Arial, sans-serif"},
        "margin": {"l": rem * 3, "r": rem * 7, "t": rem * 0.5, "b": rem * 1.8},
        "showlegend": False,
        "xaxis": {
            "type": "date",
            "gridcolor": "#343a40",
            "nticks": 5,
            "tickformat": "%H:%M",
            "tickfont": {"size": rem},
        },
        "yaxis": {"gridcolor": "#343a40", "rangemode": "tozero", "nticks": 4, "tickfont": {"size": rem}},
    }


def volume_figure(snap: dict, rem: float, moment: float | None = None) -> dict:
    """Posts per second (5 s bins) of the brand and its competitors over the last 10 minutes, each line named at
    its end (and dashed differently), so colour is never the only way to tell them apart."""
    vol = snap.get("volume") or {}
    t = vol.get("t", [])
    if not t:
        return {"data": [], "layout": _layout(rem)}
    names = measures.brands(snap) or ["all"]
    keep = CHART_WINDOW_S if moment is None else max(CHART_WINDOW_S, int(t[-1] - moment) + 120)
    lo = max(0, len(t) - keep)
    traces, notes = [], []
    dashes = ["solid", "dash", "dot", "dashdot"]
    for i, name in enumerate(names):
        ys = vol.get("series", {}).get(name, [])[lo:]
        xs = t[lo:]
        binned = [sum(ys[k : k + BIN_S]) / BIN_S for k in range(0, len(ys), BIN_S)]
        bx = [xs[k] * 1000 for k in range(0, len(xs), BIN_S)]
        color = PALETTE[i % len(PALETTE)]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": bx,
                "y": binned,
                "name": name,
                "line": {"width": rem / 6 if i == 0 else rem / 10, "color": color, "dash": dashes[i % 4]},
            }
        )
        if binned:  # a brand with no series yet (named in the config, not heard) gets a line but no label
            notes.append(
                {
                    "x": bx[-1],
                    "y": binned[-1],
                    "text": name,
                    "xanchor": "left",
                    "showarrow": False,
                    "font": {"size": rem, "color": color},
                    "xshift": rem * 0.3,
                }
            )
    top = max((max(tr["y"], default=0) for tr in traces), default=0) or 1
    for note, y in zip(notes, spread([n["y"] for n in notes], top * LABEL_GAP), strict=True):
        note["y"] = y
    layout = _layout(rem)
    layout["annotations"] = notes
    if moment is not None:
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": moment * 1000,
                "x1": moment * 1000,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#ff8787", "width": rem / 7, "dash": "dash"},
            }
        ]
        layout["annotations"] = notes + [
            {
                "x": moment * 1000,
                "y": 1,
                "yref": "paper",
                "text": "⚠ this moment",
                "showarrow": False,
                "xanchor": "right",
                "yanchor": "top",
                "font": {"size": rem, "color": "#ffc9c9"},
            }
        ]
    return {"data": traces, "layout": layout}


def trending(snap: dict) -> list:
    rows = snap.get("trending", [])[:5]
    if not rows:
        return [html.P("Nothing unusual right now.", className="wall-quiet")]
    return [
        html.Div(
            [
                html.Span(f"{i + 1}", className="wall-rank"),
                html.Span(f"#{t['term']}", className="wall-term"),
                html.Span(f"{compact(t.get('rate_per_min', 0))}/min", className="wall-rate"),
            ],
            className="wall-trend",
        )
        for i, t in enumerate(rows)
    ]


def mood(snap: dict) -> list:
    names = measures.brands(snap)
    if not names:
        return [html.P("Waiting for data.", className="wall-quiet")]
    now, before = measures.net_sentiment(snap, names[0])
    shape, word = measures.direction(now, before)
    return [
        html.Div(names[0], className="wall-mood-name"),
        html.Div("–" if now is None else f"{now:+.0f}", className="wall-mood-value"),
        html.Div(f"{measures.tone(now)} · {shape} {word}", className="wall-mood-word"),
    ]


LABEL_GAP = 0.07  # of the chart's height: end-of-line names closer than this are pushed apart


def spread(ys: list[float], gap: float) -> list[float]:
    """The lines' end labels moved apart, in order, so no two are closer than `gap` (same order, least moved up)."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    out = list(ys)
    for prev, i in zip(order, order[1:], strict=False):
        out[i] = max(out[i], out[prev] + gap)
    return out


def spotlight(snap: dict) -> list:
    posts = snap.get("feed", [])[:3]
    if not posts:
        return [html.P("Posts appear here as they arrive.", className="wall-quiet")]
    out = []
    for p in posts:
        author = p.get("author", {})
        text = p.get("text", "")
        text = text if len(text) <= POST_CHARS else text[: POST_CHARS - 1].rstrip() + "…"
        s = p.get("sentiment", 0.0)
        feel = "positive" if s >= 0.05 else ("negative" if s <= -0.05 else "neutral")
        ours = p.get("ours")
        said = f" · our response · {outcome_words(ours.get('outcome')) or 'just published'}" if ours else ""
        out.append(
            html.Article(
                [
                    html.Div(
                        f"@{author.get('handle', '?')} · {compact(author.get('followers', 0))} followers · {p.get('source', '')}"
                        f" · {feel}{said}",
                        className="wall-post-meta",
                    ),
                    html.P(text, className="wall-post-text"),  # untrusted: always text
                ],
                className=f"wall-post tone-{feel}",
            )
        )
    return out


def storylines(snap: dict) -> list:
    lines = snap.get("storylines", [])[:3]
    if not lines:
        return [html.P("Storylines form as the conversation builds.", className="wall-quiet")]
    out = []
    for line in lines:
        g = line.get("growth", 1.0)
        shape, word = ("▲", "growing") if g > 1.3 else (("▼", "fading") if g < 0.7 else ("●", "steady"))
        example = ((line.get("posts") or [{}])[0].get("text") or "")[:110]
        out.append(
            html.Article(
                [
                    html.Div(" · ".join(line.get("label", [])[:3]), className="wall-story-label"),
                    html.Div(f"{line.get('size', 0)} posts · {shape} {word} ×{g:.1f}", className="wall-story-meta"),
                    html.P(example, className="wall-story-example"),
                ],
                className="wall-story",
            )
        )
    return out


def brands_view(snap: dict) -> list:
    names = measures.brands(snap)
    counts = {n: measures.recent_posts(snap, n) for n in names}
    share = measures.shares(counts)
    rows = []
    for i, n in enumerate(names):
        now, before = measures.net_sentiment(snap, n)
        shape, word = measures.direction(now, before)
        rows.append(
            html.Div(
                [
                    html.Div(n, className="wall-sov-name"),
                    html.Div(
                        html.Div(
                            className="wall-sov-fill", style={"width": f"{share[n]:.1f}%", "background": PALETTE[i % 8]}
                        ),
                        className="wall-sov-bar",
                    ),
                    html.Div(f"{share[n]:.0f}%", className="wall-sov-pct"),
                    html.Div(
                        f"mood {'–' if now is None else f'{now:+.0f}'} {measures.tone(now)} · {shape} {word}",
                        className="wall-sov-mood",
                    ),
                ],
                className="wall-sov-row",
            )
        )
    return rows or [html.P("Waiting for data.", className="wall-quiet")]


def takeover(alert: dict) -> list:
    return [
        html.Div("⚠ CRITICAL ALERT", className="wall-takeover-tag"),
        html.H2(alert.get("title", ""), className="wall-takeover-title"),
        html.P((alert.get("detail") or "")[:200], className="wall-takeover-detail"),
    ]
