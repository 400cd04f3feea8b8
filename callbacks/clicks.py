"""Which pattern-matching button was really clicked (not just re-rendered with n_clicks unset)."""

from __future__ import annotations

from dash import ctx


def clicked() -> dict | None:
    """The id dict of the button a person clicked, or None when the callback fired because rows were
    (re)rendered: live panels replace their buttons every snapshot, and each new one fires once."""
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and ctx.triggered and ctx.triggered[0]["value"]:
        return trigger
    return None
