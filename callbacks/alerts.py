"""Alerts: acknowledge from a strategist's screen (the toast and flash come with each screen's tick)."""

from __future__ import annotations

from dash import Output, no_update

from auth import roles as table
from callbacks.clicks import gate, gated
from layouts import ids
from store import alerts as alert_store
from store import audit
from web.roles import Forbidden, by, require
from web.services import Services


def acknowledge(s: Services, trigger: dict | None) -> tuple:
    """(toast text, toast open) after a click on an alert's ✓; `trigger` is the clicked button's id."""
    if trigger is None:
        return no_update, no_update
    try:
        ident = require(table.ALERT_ACK)
    except Forbidden as exc:
        return f"Not acknowledged: {exc}", True
    item = audit.entry(ident, table.ALERT_ACK, "alert", trigger["alert"])
    alert = alert_store.acknowledge(s.r, s.keys, trigger["alert"], by(ident), item)
    return (f"Acknowledged: {alert['title']}" if alert else "That alert is gone."), True


def register(app, s: Services) -> None:
    app.callback(
        Output(ids.ALERT_TOAST, "children", allow_duplicate=True),
        Output(ids.ALERT_TOAST, "is_open", allow_duplicate=True),
        gate(ids.ACK_ALERT),
        prevent_initial_call=True,
    )(lambda data: acknowledge(s, gated(data)))
