"""The live volume chart: one line per watched series, shaded gaps, markers for framed moments and alerts."""

from __future__ import annotations

import html as html_lib

from dash import dcc

from layouts import ids

PALETTE = ["#ffd43b", "#ff6b6b", "#4dabf7", "#69db7c", "#da77f2", "#ffa94d", "#3bc9db", "#f783ac"]
KIND_DASH = {"brand": "solid", "competitor": "dot", "term": "solid", "all": "solid"}


def make_volume_chart(height: str = "100%") -> dcc.Graph:
    return dcc.Graph(
        id=ids.VOLUME_CHART,
        figure=empty_figure("Waiting for data…"),
        config={"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]},
        style={"height": height},
        className="volume-chart",
    )


def empty_figure(message: str) -> dict:
    return {
        "data": [],
        "layout": {
            **_layout(),
            "annotations": [{"text": message, "showarrow": False, "font": {"size": 22, "color": "#adb5bd"}}],
        },
    }


def _layout() -> dict:
    return {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": "#dee2e6", "size": 15},
        "margin": {"l": 50, "r": 10, "t": 10, "b": 30},
        "uirevision": "keep",
        "legend": {"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom", "font": {"size": 15}},
        "xaxis": {"type": "date", "gridcolor": "#2b3035", "showspikes": True},
        "yaxis": {"title": {"text": "posts / s"}, "gridcolor": "#2b3035", "rangemode": "tozero"},
        "hovermode": "x unified",
    }


def _escape(text: str) -> str:
    # Plotly renders a subset of HTML in annotations; user text must stay text.
    return html_lib.escape(text)[:40]


def volume_figure(snap: dict, cards: list[dict], show_total: bool = False, focus: float | None = None) -> dict:
    vol = snap.get("volume") or {}
    t = [s * 1000 for s in vol.get("t", [])]
    if not t:
        return empty_figure("Waiting for data…")
    skip = _quiet_lead(vol)  # just started: show the minutes we have, not 15 empty ones
    traces = []
    kinds = vol.get("kinds", {})
    for i, (name, ys) in enumerate(vol.get("series", {}).items()):
        kind = kinds.get(name, "term")
        if kind == "all" and not show_total:
            continue
        # x0/dx instead of an x array: the series is one point per second, and every screen downloads it.
        traces.append(
            {
                "type": "scattergl",
                "mode": "lines",
                "name": "All posts" if kind == "all" else name,
                "x0": t[skip],
                "dx": 1000,
                "y": ys[skip:],
                "line": {
                    "width": 3 if kind == "brand" else 2,
                    "dash": KIND_DASH.get(kind),
                    "color": PALETTE[i % len(PALETTE)],
                },
                "hovertemplate": "%{y} /s",
            }
        )
    layout = _layout()
    layout["shapes"], layout["annotations"] = _moments(snap, cards, t[skip], t[-1])
    if focus is not None:
        m = focus * 1000
        layout["xaxis"] = {**layout["xaxis"], "range": [m - 90_000, m + 90_000]}
        layout["shapes"].append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": m - 5000,
                "x1": m + 5000,
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(255,169,77,0.25)",
                "line": {"width": 0},
            }
        )
        layout["uirevision"] = f"focus-{focus}"
    return {"data": traces, "layout": layout}


def _quiet_lead(vol: dict, keep_s: int = 60) -> int:
    """Index of the first second worth showing: a minute before the first post in the window."""
    all_posts = vol.get("series", {}).get("all") or []
    first = next((i for i, n in enumerate(all_posts) if n), 0)
    return max(0, first - keep_s)


def _moments(snap: dict, cards: list[dict], x0: float, x1: float) -> tuple[list, list]:
    shapes, notes = [], []
    for start, end in snap.get("gaps", []):
        a, b = start * 1000, (end or snap.get("built_at", start)) * 1000
        if b >= x0:
            shapes.append(
                {
                    "type": "rect",
                    "xref": "x",
                    "yref": "paper",
                    "x0": max(a, x0),
                    "x1": min(b, x1),
                    "y0": 0,
                    "y1": 1,
                    "fillcolor": "rgba(134,142,150,0.35)",
                    "line": {"width": 0},
                }
            )
            notes.append(
                {
                    "x": max(a, x0),
                    "y": 0.98,
                    "xref": "x",
                    "yref": "paper",
                    "text": "source gap",
                    "showarrow": False,
                    "xanchor": "left",
                    "font": {"size": 12, "color": "#ced4da"},
                }
            )
    for card in cards:
        if (m := card.get("moment")) and x0 <= m * 1000 <= x1:
            color = "#51cf66" if card.get("type") == "opportunity" else "#ff6b6b"
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": m * 1000,
                    "x1": m * 1000,
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": color, "width": 2, "dash": "dash"},
                }
            )
            notes.append(
                {
                    "x": m * 1000,
                    "y": 0.97,
                    "xref": "x",
                    "yref": "paper",
                    "text": _escape(card["title"]),
                    "showarrow": False,
                    "yanchor": "top",
                    "xanchor": "left",
                    "font": {"size": 13, "color": color},
                    "bgcolor": "rgba(20,24,29,0.8)",
                }
            )
    for alert in snap.get("alerts", []):
        if alert.get("kind") in ("spike", "dip") and x0 <= alert["moment"] * 1000 <= x1:
            notes.append(
                {
                    "x": alert["moment"] * 1000,
                    "y": 0.9,
                    "xref": "x",
                    "yref": "paper",
                    "text": "⚠",
                    "showarrow": False,
                    "font": {"size": 18, "color": "#ffa94d"},
                    "hovertext": _escape(alert["title"]),
                }
            )
    return shapes, notes


def sentiment_figure(snap: dict) -> dict:
    sent = snap.get("sentiment") or {}
    t = [s * 1000 for s in sent.get("t", [])]
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": name,
            "x": t,
            "y": ys,
            "connectgaps": False,
            "line": {"width": 2, "color": PALETTE[i % len(PALETTE)], "shape": "spline"},
        }
        for i, (name, ys) in enumerate(sent.get("series", {}).items())
    ]
    layout = _layout()
    layout.update(margin={"l": 40, "r": 5, "t": 5, "b": 25}, showlegend=True, font={"color": "#dee2e6", "size": 12})
    layout["yaxis"] = {"range": [-1, 1], "gridcolor": "#2b3035", "zeroline": True, "zerolinecolor": "#495057"}
    layout["legend"] = {"orientation": "h", "y": 1.0, "x": 0, "yanchor": "bottom", "font": {"size": 12}}
    return {"data": traces, "layout": layout}
