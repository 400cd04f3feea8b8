"""What fired a callback, read from Dash's `ctx` by the registered wrappers and passed to the callbacks.

The callbacks themselves take the trigger as an argument, so a test calls them without Dash.
"""

from __future__ import annotations

from dash import Input, Output, ctx

# Live panels replace their rows every tick, and Dash fires a pattern (ALL) callback whenever its set of buttons
# changes: one round trip per button type per tick, answered "nothing clicked". This gate runs in the browser
# instead and passes on only a real click (a re-rendered button comes with n_clicks 0).
_GATE = """function () {
    var cc = window.dash_clientside.callback_context || {};
    var hit = (cc.triggered || []).find(function (t) { return t.value; });
    if (!hit) { return window.dash_clientside.no_update; }
    var id = JSON.parse(hit.prop_id.slice(0, hit.prop_id.lastIndexOf(".")));
    return {id: id, n: hit.value, at: Date.now()};
}"""


def clicked() -> dict | None:
    """The id dict of the button a person clicked, or None when the callback fired because rows were
    (re)rendered: live panels replace their buttons every snapshot, and each new one fires once."""
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and ctx.triggered and ctx.triggered[0]["value"]:
        return trigger
    return None


def gate(app, pattern: dict, store: str) -> Input:
    """Pass real clicks on `pattern`'s buttons into `store` in the browser; returns the Input the server callback
    takes instead of the pattern (its value goes through `gated`)."""
    app.clientside_callback(_GATE, Output(store, "data"), Input(pattern, "n_clicks"), prevent_initial_call=True)
    return Input(store, "data")


def gated(data) -> dict | None:
    """The id dict of the button a gate passed on, or None. Nothing it says grants anything: the callbacks check
    the signed-in person as for any click."""
    return data["id"] if isinstance(data, dict) and isinstance(data.get("id"), dict) else None
