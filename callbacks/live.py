"""Live panels: read the shared snapshot once per version, render, return. Never scan raw posts."""

from __future__ import annotations

import time

from dash import ALL, ClientsideFunction, Input, Output, State, ctx, no_update

from layouts import ids
from layouts.command_center import make_page, role_for
from layouts.feed import feed_items, filter_posts, trending_rows
from layouts.status import alert_rows, freshness, learning_line, pipeline_line, sources_rows
from layouts.storylines import storyline_rows
from layouts.volume import sentiment_figure, volume_figure
from store import cards as card_store

FOCUS_S = 60  # how long an alert's "chart" link keeps the chart zoomed on its moment


def register(app, s) -> None:
    stale_after = s.settings.event.thresholds.stale_after_s

    @app.callback(Output("page", "children"), Input(ids.URL, "pathname"))
    def route(pathname):
        return make_page(s.settings, role_for(pathname))

    @app.callback(
        Output(ids.SNAP_VERSION, "data"), Output(ids.LAST_SEEN, "data"), Output(ids.FRESHNESS, "children"),
        Output(f"{ids.FRESHNESS}-box", "className"), Output(ids.STALE_BANNER, "children"),
        Output(ids.STALE_BANNER, "hidden"),
        Input(ids.TICK, "n_intervals"), State(ids.SNAP_VERSION, "data"),
    )
    def heartbeat(n, seen_version):
        """Every second: how fresh is what we show, and is there a newer snapshot to render?"""
        version, snap = s.snapshots.get()
        label, css, stale, banner = freshness(snap, time.time(), stale_after)
        return (version if version != seen_version else no_update, {"n": n or 0}, label,
                f"freshness {css}", banner, not stale)

    # If the server stops answering, the page itself says so: no clock needed, just missed ticks.
    app.clientside_callback(
        ClientsideFunction(namespace="warroom", function_name="connection"),
        Output(ids.CONN_BANNER, "hidden"), Input(ids.TICK, "n_intervals"), State(ids.LAST_SEEN, "data"),
    )

    for name in ids.HELD_PANELS:
        app.clientside_callback(ClientsideFunction(namespace="warroom", function_name=f"gate_{name}"),
                                Output(f"{ids.SNAP_VERSION}-{name}", "data"), Input(ids.SNAP_VERSION, "data"))

    @app.callback(
        Output(ids.TRENDING, "children"), Output(ids.SOURCES, "children"), Output(ids.PIPELINE, "children"),
        Output(ids.SENTIMENT_CHART, "figure"), Output(ids.GAME_CLOCK, "children"), Output(ids.HEADER_STATUS, "children"),
        Output(ids.LEARNING, "children"),
        Input(ids.SNAP_VERSION, "data"),
    )
    def panels(version):
        _, snap = s.snapshots.get()
        if not snap:
            return (no_update,) * 7
        now = time.time()
        return s.snapshots.memo(("panels", version), lambda: (
            trending_rows(snap.get("trending", []), now),
            sources_rows(snap.get("sources", {}), now),
            pipeline_line(snap),
            sentiment_figure(snap),
            (snap.get("sources", {}).get("simulator") or {}).get("detail", ""),
            f"{len(snap.get('alerts', []))} alerts · {len(snap.get('sources', {}))} sources",
            learning_line(snap.get("learning") or {}),
        ))

    @app.callback(Output(ids.ALERTS, "children"), Input(f"{ids.SNAP_VERSION}-alerts", "data"),
                  State(ids.URL, "pathname"))
    def alerts(version, pathname):
        _, snap = s.snapshots.get()
        if not snap:
            return no_update
        can_ack = role_for(pathname) == "strategist"
        return s.snapshots.memo(("alerts", version, can_ack), lambda: alert_rows(
            snap.get("alerts", []), time.time(), can_ack))

    @app.callback(Output(ids.STORYLINES, "children"), Input(f"{ids.SNAP_VERSION}-stories", "data"),
                  State(ids.URL, "pathname"))
    def stories(version, pathname):
        _, snap = s.snapshots.get()
        if not snap:
            return no_update
        can_frame = role_for(pathname) == "strategist"
        return s.snapshots.memo(("stories", version, can_frame), lambda: storyline_rows(
            snap.get("storylines", []), can_frame))

    @app.callback(
        Output(ids.FEED, "children"),
        Input(f"{ids.SNAP_VERSION}-feed", "data"), Input(ids.FEED_SOURCE, "value"), Input(ids.FEED_MIN_SCORE, "value"),
        State(ids.URL, "pathname"),
    )
    def feed(version, source, min_score, pathname):
        _, snap = s.snapshots.get()
        if not snap:
            return no_update
        controls = role_for(pathname) == "strategist"
        return s.snapshots.memo(("feed", version, source, min_score, controls), lambda: feed_items(
            filter_posts(snap, source, min_score), time.time(), controls))

    @app.callback(
        Output(ids.VOLUME_CHART, "figure"),
        Input(ids.SNAP_VERSION, "data"), Input(ids.CARDS_VERSION, "data"), Input(ids.FOCUS, "data"),
    )
    def volume(version, cards_version, focus):
        _, snap = s.snapshots.get()
        if not snap:
            return no_update
        moment = focus["moment"] if focus and time.time() - focus["set_at"] < FOCUS_S else None
        return s.snapshots.memo(("volume", version, cards_version, moment), lambda: volume_figure(
            snap, card_store.all_cards(s.r, s.keys), focus=moment))

    @app.callback(
        Output(ids.FOCUS, "data"), Input({"type": ids.FOCUS_ALERT, "alert": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def focus_alert(_clicks):
        """An alert's "chart" link: zoom the volume chart to its moment for a minute."""
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
            return no_update
        alert = next((a for a in (s.snapshots.get()[1] or {}).get("alerts", []) if a["id"] == trigger["alert"]), None)
        return {"moment": alert["moment"], "set_at": time.time()} if alert else no_update
