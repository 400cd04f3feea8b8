"""Pure render helpers shared by the panels: numbers, ages, safe links, badges."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import lru_cache

import dash_bootstrap_components as dbc
import orjson
from dash import dcc, html
from dash.development.base_component import Component

from analytics.numbers import compact  # noqa: F401 - the panels import it from here
from analytics.sentiment import label
from layouts import ids

_SAFE = re.compile(r"^https?://", re.IGNORECASE)
SOURCE_COLORS = {
    "x": "light",
    "bluesky": "info",
    "mastodon": "primary",
    "reddit": "warning",
    "rss": "secondary",
    "webhook": "dark",
    "simulator": "secondary",
    "replay": "secondary",
}
SENTIMENT_COLORS = {"positive": "success", "negative": "danger", "neutral": "secondary"}


def row_list(container: str, class_name: str = "") -> list:
    """An empty list `container` that assets/rows.js fills from the rows in its store (ids.rows): live lists
    change every snapshot, and Dash 4 is slow to mount many components (see rows.js)."""
    return [
        html.Div(id=container, className=class_name or None, **{"data-rows": ids.rows(container)}),
        dcc.Store(id=ids.rows(container)),
    ]


# Instance attributes of a Dash component that are not its props.
_NOT_PROPS = frozenset(
    {"_prop_names", "_valid_wildcard_attributes", "available_properties", "available_wildcard_properties"}
)


def _plain(node):
    if isinstance(node, Component):
        props = {k: _plain(v) for k, v in vars(node).items() if k not in _NOT_PROPS}
        return {"props": props, "type": node._type, "namespace": node._namespace}
    if isinstance(node, list | tuple):
        return [_plain(n) for n in node]
    return node


def rows_json(rows: list) -> str:
    """A browser-drawn list's rows (Dash components) as the JSON assets/rows.js draws: Dash's own encoder
    would walk every node of a hundred rows again, at about half of a strategist answer's time."""
    return orjson.dumps(_plain(rows)).decode()


ROW_CACHE = 4096  # drawn rows remembered, across views and filters: a few snapshots' worth of every list


def memo_rows(items: list[dict], draw: Callable[..., Component], *flags, empty: Component | None = None) -> str:
    """rows_json([draw(item, *flags) for item in items]) (or of [empty] when there are none), drawing each distinct
    row once: from one snapshot to the next most rows are the same items with the same numbers (ages are written
    in the browser), and drawing them was most of a strategist's answer. `draw` must be pure in (item, *flags)."""
    if not items and empty is not None:
        return rows_json([empty])
    return "[" + ",".join(_row_json(draw, flags, orjson.dumps(item)) for item in items) + "]"


@lru_cache(maxsize=ROW_CACHE)
def _row_json(draw: Callable[..., Component], flags: tuple, item: bytes) -> str:
    return orjson.dumps(_plain(draw(orjson.loads(item), *flags))).decode()


def ago(at: float, before: str = "", after: str = "", class_name: str = "") -> html.Span:
    """A moment's age ("12s"), counted on in the browser (assets/warroom.js writes the text): a row does not
    change every snapshot just because it got older, so a panel whose rows did not change is not redrawn
    (assets/unchanged.js), and ages keep moving between snapshots. The title gives the moment itself."""
    return html.Span(
        className=f"age {class_name}".rstrip(),
        title=time.strftime("%H:%M:%S UTC", time.gmtime(at)),
        **{"data-at": f"{at:.0f}", "data-before": before, "data-after": after},
    )


def age(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def safe_href(url: str | None) -> str | None:
    """Only http(s) links may be clicked; anything else (javascript:, data:) is dropped."""
    return url if url and _SAFE.match(url) else None


def source_badge(source: str) -> dbc.Badge:
    return dbc.Badge(source, color=SOURCE_COLORS.get(source, "secondary"), className="me-1 source-badge")


def sentiment_badge(compound: float) -> dbc.Badge:
    name = label(compound)
    return dbc.Badge(f"{name} {compound:+.2f}", color=SENTIMENT_COLORS[name], className="me-1")


def panel(
    title: str, body, *, extra=None, class_name: str = "", body_id: str | None = None, hold: str | None = None
) -> html.Div:
    """A titled panel. `hold` names a live panel that stops re-rendering while the pointer is over it,
    so a strategist's click never lands on a row that was just replaced."""
    note = html.Span("⏸ paused while you point here", className="hold-note") if hold else None
    header = html.Div([html.Span(title, className="panel-title"), note, extra], className="panel-header")
    kwargs = {"id": body_id} if body_id else {}
    attrs = {"data-hold": hold} if hold else {}
    return html.Div(
        [header, html.Div(body, className="panel-body", **kwargs)], className=f"panel card {class_name}", **attrs
    )
