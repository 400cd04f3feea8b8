"""Live screen: one request per tick per screen returns everything that changed. Never scans raw posts.

Each tick a screen sends what it has (snapshot version, cards version, filters, page, the panel its
pointer holds still) and gets back the freshness line and, when there is a newer snapshot, every
panel. The answer depends only on those values, the asker's role set (the view web/roles.py gives
them; never the path alone) and the clock, so the response cache serves one computed answer to every
screen of a role set that asks the same thing (see callbacks/response_cache.py).
"""

from __future__ import annotations

import time

from dash import ClientsideFunction, Input, Output, State, html, no_update
from dash.exceptions import PreventUpdate

from analytics.alerts import LOUD
from auth import roles as table
from auth.identity import Identity
from auth.web import current_identity
from callbacks.clicks import gate, gated
from callbacks.framing import room_cards
from layouts import admin as admin_layout
from layouts import care as care_ui
from layouts import ids
from layouts.command_center import TICK_MS, forbidden_page, make_page
from layouts.feed import feed_rows, filter_posts, trending_rows
from layouts.pages import page_for
from layouts.render import rows_json
from layouts.status import alert_list, freshness, learning_line, paused_line, pipeline_line, sources_rows
from layouts.storylines import storyline_list
from layouts.volume import sentiment_figure, volume_figure
from store import cards as card_store
from web.roles import View, view_for
from web.services import Services, publishing_paused

FOCUS_S = 60  # how long an alert's "chart" link keeps the chart zoomed on its moment
ANNOUNCE_S = 2.0  # an alert raised this recently (by snapshot time) has not been toasted yet

HEAD = [(ids.SNAP_VERSION, "data"), (ids.LAST_SEEN, "data")]
PANELS = [
    (ids.rows(ids.TRENDING), "data"),
    (ids.SOURCES, "children"),
    (ids.PIPELINE, "children"),
    (ids.SENTIMENT_CHART, "figure"),
    (ids.GAME_CLOCK, "children"),
    (ids.HEADER_STATUS, "children"),
    (ids.LEARNING, "children"),
    (ids.rows(ids.ALERTS), "data"),
    (ids.rows(ids.STORYLINES), "data"),
    (ids.rows(ids.FEED), "data"),
    (ids.VOLUME_CHART, "figure"),
    (ids.ALERT_TOAST, "children"),
    (ids.ALERT_TOAST, "is_open"),
    (ids.ALERT_TOAST, "header"),
    (ids.ALERT_FLASH, "className"),
]
CARDS = [(ids.CARDS_VERSION, "data"), (ids.CARDS, "children")]
HELD = {
    "alerts": PANELS.index((ids.rows(ids.ALERTS), "data")),
    "stories": PANELS.index((ids.rows(ids.STORYLINES), "data")),
    "feed": PANELS.index((ids.rows(ids.FEED), "data")),
}


LISTS = (ids.TRENDING, ids.ALERTS, ids.STORYLINES, ids.FEED, care_ui.LANE)  # drawn by assets/rows.js
SCREENS = ("strategist", "wall", "exec")  # layouts that poll the snapshot (the screen callback answers them)


def route(s: Services, pathname: str | None):
    """The page for the signed-in identity: the one asked for if their roles may see it, else their home page."""
    ident = current_identity()
    return page(s, ident, view_for(ident, pathname))


def page(s: Services, ident: Identity | None, view: View | None):
    """Which layout draws a view: extend here for new pages (add the path to web/roles.py LAYOUTS first)."""
    if view is None:
        return forbidden_page(s.settings, ident)
    if view.layout == "admin":
        return admin_layout.make_admin_page(s.settings, view, ident)
    if view.layout == "audit":
        return admin_layout.make_audit_page(s.settings, view, ident)
    if view.layout in ("wall", "exec"):
        return page_for(s.settings, view.layout, ident)  # the room's screens have layouts of their own (issue 13)
    return make_page(s.settings, view, ident)


def screen_view(pathname: str | None) -> View:
    """The view a screen request is answered for; PreventUpdate for anything that is not a live screen."""
    view = view_for(current_identity(), pathname)
    if view is None or view.layout not in SCREENS:
        raise PreventUpdate
    return view


def screen(s: Services, seen, seen_cards, hold, source, min_score, pathname, focus) -> list:
    """Everything a screen needs this tick, in the order of HEAD + PANELS + CARDS.

    Raises PreventUpdate when the screen already has the current snapshot."""
    version, snap = s.snapshots.get()
    if not snap or version == seen:
        raise PreventUpdate  # nothing new: the browser keeps counting how long that has been
    view = screen_view(pathname)
    now = time.time()
    fresh = freshness(snap, s.settings.event.thresholds.stale_after_s)
    head = [version, {**fresh, "tick_s": TICK_MS / 1000, "now": round(now, 2)}]  # now: for the ages (warroom.js)
    moment = focused(focus, now)
    panels = list(
        s.snapshots.memo(
            ("screen", version, view.key, source, min_score, moment),
            lambda: render(s, snap, view, source, min_score, moment),
        )
    )
    if hold in HELD:
        panels[HELD[hold]] = no_update  # the strategist is pointing there: do not move rows under them
    return head + panels + cards(s, snap, seen_cards, view)


def refilter(s: Services, source, min_score, pathname: str | None):
    """A new filter shows at once, not at the next snapshot."""
    _, snap = s.snapshots.get()
    if not snap:
        return no_update
    return feed_list(snap, screen_view(pathname), source, min_score)


def feed_list(snap: dict, view: View, source: str, min_score: float) -> str:
    """The feed's rows for a view and filter (drawn by assets/rows.js)."""
    posts = filter_posts(snap, source, min_score)
    return feed_rows(posts, view.can(table.POST_FRAME), view.can(table.POST_SENTIMENT))


def focus_alert(s: Services, trigger: dict | None) -> tuple:
    """An alert's "chart" link: zoom the volume chart to its moment for a minute."""
    if trigger is None:
        return no_update, no_update
    _, snap = s.snapshots.get()
    alert = next((a for a in (snap or {}).get("alerts", []) if a["id"] == trigger["alert"]), None)
    if alert is None:
        return no_update, no_update
    return (
        {"moment": alert["moment"], "set_at": time.time()},
        volume_figure(snap, card_store.all_cards(s.r, s.keys), focus=alert["moment"]),
    )


def register(app, s: Services) -> None:
    app.callback(Output("page", "children"), Input(ids.URL, "pathname"))(lambda pathname: route(s, pathname))

    app.callback(
        [Output(i, p) for i, p in HEAD + PANELS + CARDS],
        Input(ids.TICK, "n_intervals"),
        Input(ids.PUSH, "data"),  # assets/push.js: a pushed answer waits (web/push.py)
        State(ids.SNAP_VERSION, "data"),
        State(ids.CARDS_VERSION, "data"),
        State(ids.HOLD, "data"),
        State(ids.FEED_SOURCE, "value"),
        State(ids.FEED_MIN_SCORE, "value"),
        State(ids.URL, "pathname"),
        State(ids.FOCUS, "data"),
    )(lambda _n, _push, *states: screen(s, *states))

    # Freshness is drawn in the browser: it must go red when the server, the aggregator or the
    # network stops, which is exactly when no answer comes back.
    app.clientside_callback(
        ClientsideFunction(namespace="warroom", function_name="freshness"),
        Output(ids.FRESHNESS, "children"),
        Output(f"{ids.FRESHNESS}-box", "className"),
        Output(ids.STALE_BANNER, "children"),
        Output(ids.STALE_BANNER, "hidden"),
        Input(ids.TICK, "n_intervals"),
        State(ids.LAST_SEEN, "data"),
    )

    app.callback(
        Output(ids.rows(ids.FEED), "data", allow_duplicate=True),
        Input(ids.FEED_SOURCE, "value"),
        Input(ids.FEED_MIN_SCORE, "value"),
        State(ids.URL, "pathname"),
        prevent_initial_call=True,
    )(lambda source, min_score, pathname: refilter(s, source, min_score, pathname))

    # The live lists are drawn in the browser from their stores (assets/rows.js).
    for container in LISTS:
        app.clientside_callback(
            ClientsideFunction(namespace="rows", function_name="draw"),
            Output(ids.ROWS_DRAWN, "data", allow_duplicate=True),
            Input(ids.rows(container), "data"),
            prevent_initial_call=True,
        )

    app.callback(
        Output(ids.FOCUS, "data"),
        Output(ids.VOLUME_CHART, "figure", allow_duplicate=True),
        gate(ids.FOCUS_ALERT),
        prevent_initial_call=True,
    )(lambda data: focus_alert(s, gated(data)))


def focused(focus: dict | None, now: float) -> float | None:
    return focus["moment"] if focus and now - focus.get("set_at", 0) < FOCUS_S else None


def render(s: Services, snap: dict, view: View, source: str, min_score: float, moment: float | None) -> tuple:
    """Every panel for one snapshot, view and filter: pure rendering of the snapshot (and the cards)."""
    now = time.time()
    return (
        rows_json(trending_rows(snap.get("trending", []), now)),
        sources_rows(snap.get("sources", {}), now),
        pipeline_line(snap),
        sentiment_figure(snap),
        (snap.get("clock") or {}).get("label", ""),
        header_status(s, snap, publishing_paused(s, snap.get("version", 0))),
        learning_line(snap.get("learning") or {}, snap.get("sentiment_learning") or {}),
        alert_list(snap.get("alerts", []), can_ack=view.can(table.ALERT_ACK), can_frame=view.can(table.POST_FRAME)),
        storyline_list(snap.get("storylines", []), can_frame=view.can(table.POST_FRAME)),
        feed_list(snap, view, source, min_score),
        volume_figure(snap, card_store.all_cards(s.r, s.keys), focus=moment),
        *announce(snap),
    )


def announce(snap: dict) -> tuple:
    """Toast and flash loud alerts raised since the last snapshots (pure in the snapshot)."""
    built = snap.get("built_at", 0)
    fresh = [
        a
        for a in snap.get("alerts", [])
        if a.get("severity") in LOUD and not a.get("acked_by") and built - a.get("raised_at", a["at"]) < ANNOUNCE_S
    ]
    if not fresh:
        return no_update, no_update, no_update, "alert-flash"
    top = fresh[0]
    return top.get("detail", "")[:200], True, f"{top['severity'].upper()} · {top['title']}", "alert-flash on"


def header_status(s: Services, snap: dict, pause: dict | None = None) -> list | str:
    """Publishing paused (who and why) first, then alerts and sources, and the audit trail's size once it passes
    80 % of its budget (it is never trimmed)."""
    line = f"{len(snap.get('alerts', []))} alerts · {len(snap.get('sources', {}))} sources"
    out: list = [line]
    if pause:
        out.insert(0, html.Span(paused_line(pause), id=ids.PAUSED_BANNER, className="paused-note", role="status"))
    size = s.audit_gauge.status()
    if size and size.get("warning"):
        pct = round(size["fraction"] * 100)
        out.append(html.Span(f" · audit trail {pct}% of its budget", className="text-warning audit-warning"))
    return out if len(out) > 1 else line


def cards(s: Services, snap: dict, seen: int | None, view: View) -> list:
    """The room's cards, fetched once per cards version (the snapshot says which is current)."""
    version = snap.get("cards_version", 0)
    if version == seen:
        return [no_update, no_update]
    return [version, s.snapshots.memo(("cards", version, view.key), lambda: room_cards(s, view))]
