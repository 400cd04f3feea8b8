"""Every write endpoint, as raw requests: without a session, as a wall or a viewer, without a CSRF token —
refused, and the store is byte-for-byte unchanged."""

import orjson
import pytest

from store import tokens
from tests.auth.conftest import csrf_header, form_csrf, sign_in, store_state

WRITES = [
    ("/_dash-update-component", {"action": "card.create", "id": "c1"}),
    ("/_dash-update-component", {"action": "card.approve", "group": "legal", "id": "c1"}),
    ("/_dash-update-component", {"action": "alert.ack", "id": "a1"}),
    ("/logout", None),
]


def _as(kind, app, r, keys, admin_actor):
    c = app.test_client()
    if kind == "wall":
        secret, _ = tokens.create_kiosk(r, keys, "screen", actor=admin_actor)
        page = c.get(f"/kiosk/{secret}").get_data(as_text=True)
        assert c.post(f"/kiosk/{secret}", data={"csrf": form_csrf(page)}).status_code == 303
    elif kind in ("viewer", "no-csrf"):
        assert sign_in(c, "vic" if kind == "viewer" else "sam").status_code == 303
    return c


CASES = [
    (k, p, b) for k in ("anonymous", "wall", "viewer", "no-csrf") for p, b in WRITES if (k, p) != ("viewer", "/logout")
]


@pytest.mark.parametrize("kind,path,body", CASES)
def test_refused_and_store_unchanged(app, people, r, keys, admin_actor, kind, path, body):
    c = _as(kind, app, r, keys, admin_actor)
    headers = {} if kind in ("anonymous", "no-csrf") else csrf_header(c)
    before = store_state(r)
    data = orjson.dumps(body) if body is not None else b""
    res = c.post(path, data=data, content_type="application/json", headers=headers)
    if kind == "anonymous" and path == "/logout":
        assert res.status_code == 303 and res.headers["Location"] == "/login"  # nothing to sign out
    else:
        assert res.status_code in (401, 403), (kind, path, res.status_code)
    assert store_state(r) == before


@pytest.mark.parametrize("path", ["/", "/wall", "/exec", "/_dash-layout", "/api/snapshot", "/api/cards", "/api/audit"])
def test_reads_need_a_session_or_token(app, r, path):
    before = store_state(r)
    res = app.test_client().get(path)
    assert res.status_code in (303, 401)
    assert store_state(r) == before


def test_a_tampered_cookie_is_no_session(app, people, r):
    c = app.test_client()
    sign_in(c, "sam")
    cookie = c.get_cookie("warroom_session")
    c.set_cookie("warroom_session", cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB"))
    assert c.get("/").status_code == 303
