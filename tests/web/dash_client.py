"""Raw Dash requests, as the renderer sends them, through Flask's test client (no browser)."""

from __future__ import annotations

import json
import re

PASSWORD = "correct horse battery"


def callback_key(app, first_input: str) -> str:
    """The callback whose first input's id is `first_input` (or, for a pattern id, contains it)."""
    for key, cb in app.callback_map.items():
        spec = cb["inputs"][0]["id"]
        if spec == first_input or (spec.startswith("{") and f'"{first_input}"' in spec):
            return key
    raise LookupError(first_input)


def dispatch_body(app, first_input: str, inputs: list, state: list) -> dict:
    """The request Dash's renderer sends for the callback whose first input is `first_input`.

    `inputs`: values in order, a list of (id dict, n_clicks) for a pattern input. The changed input is
    the first plain one, or the pattern button with clicks (the first if none has)."""
    key = callback_key(app, first_input)
    cb = app.callback_map[key]
    body_inputs, changed = [], []
    for spec, value in zip(cb["inputs"], inputs, strict=True):
        prop = spec["property"]
        if isinstance(value, list):
            body_inputs.append([{"id": i, "property": prop, "value": n} for i, n in value])
            pressed = next((i for i, n in value if n), value[0][0])
            changed.append(f"{json.dumps(pressed, sort_keys=True, separators=(',', ':'))}.{prop}")
        else:
            body_inputs.append({"id": spec["id"], "property": prop, "value": value})
            changed.append(f"{spec['id']}.{prop}")
    changed = changed[:1]
    outputs = [
        {"id": part.split("@")[0].rsplit(".", 1)[0], "property": part.split("@")[0].rsplit(".", 1)[1]}
        for part in key.strip(".").split("...")
    ]
    return {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": body_inputs,
        "state": [
            {"id": st["id"], "property": st["property"], "value": v} for st, v in zip(cb["state"], state, strict=True)
        ],
        "changedPropIds": changed,
    }


def form_csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(app, name: str, password: str = PASSWORD):
    """(client, headers): a browser's session through the real sign-in form, and the CSRF header Dash's
    renderer sends from the `_csrf_token` cookie."""
    client = app.server.test_client()
    page = client.get("/login").get_data(as_text=True)
    res = client.post("/login", data={"name": name, "password": password, "csrf": form_csrf(page), "next": "/"})
    assert res.status_code == 303, res.get_data(as_text=True)
    return client, {"X-CSRFToken": client.get_cookie("_csrf_token").value}


def open_kiosk(app, secret: str):
    """(client, headers): a browser that opened a kiosk link and pressed "Make this the wall"."""
    client = app.server.test_client()
    page = client.get(f"/kiosk/{secret}").get_data(as_text=True)
    res = client.post(f"/kiosk/{secret}", data={"csrf": form_csrf(page)})
    assert res.status_code == 303 and res.headers["Location"] == "/wall", res.get_data(as_text=True)
    return client, {"X-CSRFToken": client.get_cookie("_csrf_token").value}
