"""Live panels: read the shared snapshot once per version, render, return. Never scan raw posts."""

from __future__ import annotations

import time

from dash import ClientsideFunction, Input, Output, State, no_update

from layouts import ids
from layouts.command_center import make_page, role_for
from layouts.feed import feed_items, filter_posts, trending_rows
from layouts.status import alert_rows, freshness, pipeline_line, sources_rows
from layouts.volume import sentiment_figure, volume_figure
from store import cards as card_store


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

    @app.callback(
        Output(ids.TRENDING, "children"), Output(ids.ALERTS, "children"), Output(ids.SOURCES, "children"),
        Output(ids.PIPELINE, "children"), Output(ids.SENTIMENT_CHART, "figure"), Output(ids.GAME_CLOCK, "children"),
        Output(ids.HEADER_STATUS, "children"),
        Input(ids.SNAP_VERSION, "data"), State(ids.URL, "pathname"),
    )
    def panels(version, pathname):
        _, snap = s.snapshots.get()
        if not snap:
            return (no_update,) * 7
        role = role_for(pathname)
        now = time.time()
        return s.snapshots.memo(("panels", version, role), lambda: (
            trending_rows(snap.get("trending", []), now),
            alert_rows(snap.get("alerts", []), now, can_ack=role == "strategist"),
            sources_rows(snap.get("sources", {}), now),
            pipeline_line(snap),
            sentiment_figure(snap),
            (snap.get("sources", {}).get("simulator") or {}).get("detail", ""),
            f"{len(snap.get('alerts', []))} alerts · {len(snap.get('sources', {}))} sources",
        ))

    @app.callback(
        Output(ids.FEED, "children"),
        Input(ids.SNAP_VERSION, "data"), Input(ids.FEED_SOURCE, "value"), Input(ids.FEED_MIN_SCORE, "value"),
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
        Input(ids.SNAP_VERSION, "data"), Input(ids.CARDS_VERSION, "data"),
    )
    def volume(version, cards_version):
        _, snap = s.snapshots.get()
        if not snap:
            return no_update
        return s.snapshots.memo(("volume", version, cards_version), lambda: volume_figure(
            snap, card_store.all_cards(s.r, s.keys)))
