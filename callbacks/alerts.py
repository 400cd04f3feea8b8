"""Alerts: acknowledge from a strategist's screen (the toast and flash come with each screen's tick)."""

from __future__ import annotations

from dash import ALL, Input, Output, State, no_update

from callbacks.clicks import clicked
from layouts import ids
from layouts.command_center import role_for
from store import alerts as alert_store


def register(app, s) -> None:
    @app.callback(
        Output(ids.ALERT_TOAST, "children", allow_duplicate=True),
        Output(ids.ALERT_TOAST, "is_open", allow_duplicate=True),
        Input({"type": ids.ACK_ALERT, "alert": ALL}, "n_clicks"),
        State(ids.URL, "pathname"),
        prevent_initial_call=True,
    )
    def acknowledge(_clicks, pathname):
        if (trigger := clicked()) is None:
            return no_update, no_update
        if role_for(pathname) != "strategist":
            return "Only strategists can acknowledge alerts.", True
        alert = alert_store.acknowledge(s.r, s.keys, trigger["alert"], "strategist")
        return (f"Acknowledged: {alert['title']}" if alert else "That alert is gone."), True
