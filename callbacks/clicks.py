"""What fired a callback, read from Dash's `ctx` by the registered wrappers and passed to the callbacks.

The callbacks themselves take the trigger as an argument, so a test calls them without Dash.
"""

from __future__ import annotations

from dash import Input, ctx

from layouts import ids


def clicked() -> dict | None:
    """The id dict of the button a person clicked, or None when the callback fired because rows were
    (re)rendered: live panels replace their buttons every snapshot, and each new one fires once."""
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and ctx.triggered and ctx.triggered[0]["value"]:
        return trigger
    return None


def gate(kind: str) -> Input:
    """The Input a row button's server callback takes: assets/rows.js draws the live lists and puts a click on a
    row's button (its pattern id, {"type": kind, ...}) into the kind's gate store (its value goes through `gated`).
    A pattern (ALL) callback would fire whenever the rows change, answered "nothing clicked"."""
    return Input(ids.gate(kind), "data")


def gated(data) -> dict | None:
    """The id dict of the button a gate passed on, or None. Nothing it says grants anything: the callbacks check
    the signed-in person as for any click."""
    return data["id"] if isinstance(data, dict) and isinstance(data.get("id"), dict) else None
