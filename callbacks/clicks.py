"""What fired a callback, read from Dash's `ctx` by the registered wrappers and passed to the callbacks.

The callbacks themselves take the trigger as an argument, so a test calls them without Dash.
"""

from __future__ import annotations

from dash import ctx


def clicked() -> dict | None:
    """The id dict of the button a person clicked, or None when the callback fired because rows were
    (re)rendered: live panels replace their buttons every snapshot, and each new one fires once."""
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and ctx.triggered and ctx.triggered[0]["value"]:
        return trigger
    return None


def triggered() -> str | dict | None:
    """A plain component's id when one fired the callback; otherwise as `clicked()`."""
    return ctx.triggered_id if isinstance(ctx.triggered_id, str) else clicked()
