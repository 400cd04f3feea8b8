"""Alerts: acknowledge from a strategist's screen (the toast and flash come with each screen's tick)."""

from __future__ import annotations

from dash import ALL, Input, Output, State, no_update

from callbacks.clicks import clicked
from layouts import ids
from store import alerts as alert_store
from web.roles import Forbidden, require, role_for
from web.services import Services


def acknowledge(s: Services, trigger: dict | None, pathname: str | None) -> tuple:
    """(toast text, toast open) after a click on an alert's ✓; `trigger` is the clicked button's id."""
    if trigger is None:
        return no_update, no_update
    try:
        user = require(role_for(pathname), "acknowledge alerts")
    except Forbidden as exc:
        return str(exc), True
    alert = alert_store.acknowledge(s.r, s.keys, trigger["alert"], user)
    return (f"Acknowledged: {alert['title']}" if alert else "That alert is gone."), True


def register(app, s: Services) -> None:
    app.callback(
        Output(ids.ALERT_TOAST, "children", allow_duplicate=True),
        Output(ids.ALERT_TOAST, "is_open", allow_duplicate=True),
        Input({"type": ids.ACK_ALERT, "alert": ALL}, "n_clicks"),
        State(ids.URL, "pathname"),
        prevent_initial_call=True,
    )(lambda _clicks, pathname: acknowledge(s, clicked(), pathname))
