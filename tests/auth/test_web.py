"""The guard on a real Flask app with install(): sessions, CSRF, roles, tokens, kiosk links, secret rotation."""

import stat

import orjson
import pytest

from auth.web import SECRET_FILE, rotate_secret
from store import audit, tokens
from tests.auth.conftest import PASSWORD, build_app, csrf_header, form_csrf, sign_in, store_state

WRITE = {"action": "card.create", "id": "c1", "title": "Dunk in the dark"}


def post_dash(client, body, headers=None):
    return client.post(
        "/_dash-update-component", data=orjson.dumps(body), content_type="application/json", headers=headers or {}
    )


def test_no_session_is_refused_everywhere_but_health_and_ingest(app, r):
    c = app.test_client()
    before = store_state(r)
    for path in ("/", "/wall", "/exec", "/anything"):
        res = c.get(path)
        assert res.status_code == 303 and res.headers["Location"].startswith("/login?next=")
    for path in ("/_dash-layout", "/api/snapshot", "/api/cards", "/api/audit", "/api/me", "/assets/warroom.js"):
        res = c.get(path)
        assert res.status_code == 401, path
    res = post_dash(c, WRITE)
    assert res.status_code == 401 and res.get_json()["signed_out"] is True
    assert c.get("/api/health").status_code == 200
    assert c.post("/api/ingest", data=b"[]").status_code == 401  # its own bearer check answered, not the guard's
    assert c.get("/login").status_code == 200
    assert store_state(r) == before


def test_sign_in_page_is_plain_escaped_and_self_contained(app):
    c = app.test_client()
    html = c.get('/login?next="><script>alert(1)</script>').get_data(as_text=True)
    assert "<script>" not in html and "http" not in html.replace('content="width', "")  # no external assets
    assert 'name="csrf"' in html and "color-scheme:dark" in html


def test_sign_in_sets_httponly_lax_cookie_and_lands_on_the_roles_page(app, people):
    c = app.test_client()
    res = sign_in(c, "sam", next_path="/exec")
    assert res.status_code == 303 and res.headers["Location"] == "/exec"
    cookies = res.headers.getlist("Set-Cookie")
    session = next(h for h in cookies if h.startswith("warroom_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" not in session  # plain HTTP here
    csrf = next(h for h in cookies if h.startswith("_csrf_token="))
    assert "HttpOnly" not in csrf  # Dash's renderer reads it and sends it as X-CSRFToken
    assert c.get("/").status_code == 200
    me = c.get("/api/me").get_json()
    assert me["name"] == "sam" and me["roles"] == ["strategist"] and me["kind"] == "user"
    vic = app.test_client()
    assert sign_in(vic, "vic").headers["Location"] == "/exec"  # a viewer asking for / lands on /exec
    assert vic.get("/").headers["Location"] == "/exec"


def test_off_site_next_is_ignored(app, people):
    for bad in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert sign_in(app.test_client(), "sam", next_path=bad).headers["Location"] == "/"


def test_wrong_password_and_missing_form_token(app, people, r, keys):
    c = app.test_client()
    res = sign_in(c, "sam", "wrong password!")
    assert res.status_code == 401 and "do not match" in res.get_data(as_text=True)
    assert c.get("/").status_code == 303
    res = c.post("/login", data={"name": "sam", "password": PASSWORD})
    assert res.status_code == 403  # a sign-in form without its token (login CSRF)
    assert [e["detail"] for e in audit.query(r, keys, action="signin.failure")] == ["password: wrong password"]


def test_rate_limited_sign_in_answers_429(r, keys, people, settings):
    app = build_app(r, keys, settings)
    c = app.test_client()
    for _ in range(settings.event.auth.signin_failures_per_account):
        assert sign_in(c, "ann", "wrong password!").status_code == 401
    res = sign_in(c, "ann")
    assert res.status_code == 429 and int(res.headers["Retry-After"]) > 0


def test_writes_need_the_csrf_token(app, people, r, keys):
    c = app.test_client()
    sign_in(c, "sam")
    before = store_state(r)
    assert post_dash(c, WRITE).status_code == 403
    assert post_dash(c, WRITE, {"X-CSRFToken": "forged"}).status_code == 403
    assert post_dash(c, WRITE, {**csrf_header(c), "Origin": "http://evil.example"}).status_code == 403
    assert store_state(r) == before
    res = post_dash(c, WRITE, csrf_header(c))
    assert res.status_code == 200 and r.hexists(keys.cards, "c1")
    [entry] = audit.query(r, keys, action="card.create")
    assert entry["who"] == "sam" and entry["roles"] == ["strategist"] and entry["address"] == "127.0.0.1"


@pytest.mark.parametrize(
    "name,body",
    [
        ("vic", WRITE),
        ("vic", {"action": "post.mark", "id": "p1"}),
        ("sam", {"action": "card.approve", "group": "legal", "id": "c1"}),
        ("ann", {"action": "card.approve", "group": "brand", "id": "c1"}),
        ("ann", WRITE),
        ("ada", WRITE),
    ],
)
def test_roles_that_may_not_write_are_refused_and_change_nothing(app, people, r, name, body):
    c = app.test_client()
    sign_in(c, name)
    before = store_state(r)
    res = post_dash(c, body, csrf_header(c))
    assert res.status_code == 403 and "may not" in res.get_json()["error"]
    assert store_state(r) == before


def test_approver_approves_in_own_group(app, people, r, keys):
    c = app.test_client()
    sign_in(c, "ann")
    assert post_dash(c, {"action": "card.approve", "group": "legal", "id": "c9"}, csrf_header(c)).status_code == 200


def test_polls_of_read_only_screens_pass(app, people):
    c = app.test_client()
    sign_in(c, "vic")
    assert post_dash(c, {"poll": 1}, csrf_header(c)).get_json() == {"ok": True, "who": "vic"}


def test_sign_out_needs_csrf_and_ends_the_session(app, people, r, keys):
    c = app.test_client()
    sign_in(c, "sam")
    assert c.post("/logout").status_code == 403
    assert c.get("/").status_code == 200
    page = c.get("/logout").get_data(as_text=True)
    res = c.post("/logout", data={"csrf": form_csrf(page)})
    assert res.status_code == 303 and res.headers["Location"] == "/login"
    assert c.get("/").status_code == 303
    assert audit.query(r, keys, action="signout")[0]["who"] == "sam"


def test_api_tokens_read_per_scope_and_never_write(app, r, keys, admin_actor):
    c = app.test_client()
    read, record = tokens.create_api_token(r, keys, "grafana", ["read"], actor=admin_actor)
    legal, _ = tokens.create_api_token(r, keys, "legal export", ["audit"], actor=admin_actor)
    auth = {"Authorization": f"Bearer {read}"}
    assert c.get("/api/snapshot", headers=auth).status_code == 200
    assert c.get("/api/cards", headers=auth).status_code == 200
    assert c.get("/api/audit", headers=auth).status_code == 403
    assert c.get("/api/audit", headers={"Authorization": f"Bearer {legal}"}).status_code == 200
    assert c.get("/api/snapshot", headers={"Authorization": f"Bearer {legal}"}).status_code == 403
    assert c.get("/", headers=auth).status_code == 303  # tokens are for the API only
    before = store_state(r)
    assert post_dash(c, WRITE, auth).status_code == 401
    assert store_state(r) == before
    tokens.revoke_api_token(r, keys, record["id"], actor=admin_actor)
    assert c.get("/api/snapshot", headers=auth).status_code == 401


def test_audit_api_for_admins_only_as_jsonl_or_csv(app, people, r, keys):
    sam = app.test_client()
    sign_in(sam, "sam")
    assert sam.get("/api/audit").status_code == 403
    ada = app.test_client()
    sign_in(ada, "ada")
    lines = ada.get("/api/audit?action=signin").get_data().splitlines()
    assert {orjson.loads(x)["who"] for x in lines} == {"sam", "ada"}
    res = ada.get("/api/audit?format=csv&who=sam")
    assert res.mimetype == "text/csv" and res.get_data(as_text=True).splitlines()[0].startswith("id,at,who")
    assert ada.get("/api/audit?since=yesterday").status_code == 400
    assert ada.get("/api/audit/size").get_json()["entries"] >= 2


def test_kiosk_link_makes_a_wall_until_revoked(app, r, keys, admin_actor):
    secret, link = tokens.create_kiosk(r, keys, "lobby wall", actor=admin_actor)
    wall = app.test_client()
    page = wall.get(f"/kiosk/{secret}")
    assert page.status_code == 200 and "lobby wall" in page.get_data(as_text=True)
    assert tokens.kiosk(r, keys, link["id"])["claimed_at"] is None  # a GET (a chat app's preview) claims nothing
    res = wall.post(f"/kiosk/{secret}", data={"csrf": form_csrf(page.get_data(as_text=True))})
    assert res.status_code == 303 and res.headers["Location"] == "/wall"
    assert wall.get("/wall").status_code == 200
    assert wall.get("/").headers["Location"] == "/wall"
    assert wall.get("/api/snapshot").status_code == 403
    assert post_dash(wall, {"poll": 1}, csrf_header(wall)).status_code == 200
    before = store_state(r)
    assert post_dash(wall, WRITE, csrf_header(wall)).status_code == 403
    assert store_state(r) == before
    other = app.test_client()
    assert other.get(f"/kiosk/{secret}").status_code == 404  # opened once: useless to anyone else
    tokens.revoke_kiosk(r, keys, link["id"], actor=admin_actor)
    res = post_dash(wall, {"poll": 1}, csrf_header(wall))  # the screen's next poll
    assert res.status_code == 401 and res.get_json()["signed_out"] is True
    assert wall.get("/wall").status_code == 303
    assert app.test_client().get("/signed-out").status_code == 200


def test_rotating_the_secret_signs_everyone_out(app, people, r, keys, settings):
    secret_file = settings.var_dir / SECRET_FILE
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    old_secret = secret_file.read_bytes()
    sam, vic = app.test_client(), app.test_client()
    sign_in(sam, "sam")
    sign_in(vic, "vic")
    assert sam.get("/").status_code == 200 and vic.get("/exec").status_code == 200
    rotate_secret(r, keys, settings.var_dir, actor="tester")
    assert secret_file.read_bytes() != old_secret and stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert sam.get("/").status_code == 303 and vic.get("/exec").status_code == 303
    assert post_dash(sam, WRITE, csrf_header(sam)).status_code == 401
    assert app.secret_key == secret_file.read_bytes().strip()  # this process signs with the new secret now
    assert sign_in(sam, "sam").status_code == 303 and sam.get("/").status_code == 200
    second = build_app(r, keys, settings)  # another web process reads the same var/session_secret
    assert second.secret_key == app.secret_key
    assert audit.query(r, keys, action="session.rotate")[0]["after"] == {"epoch": 1}


def test_cookies_are_secure_behind_tls(r, keys, people, tmp_path):
    from config.settings import load_settings

    env = {"WARROOM_VAR": str(tmp_path / "v"), "WARROOM_PROXY_HOPS": "1"}
    app = build_app(r, keys, load_settings(env))
    c = app.test_client()
    page = c.get("/login", headers={"X-Forwarded-Proto": "https"})
    res = c.post(
        "/login",
        data={"name": "sam", "password": PASSWORD, "csrf": form_csrf(page.get_data(as_text=True))},
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4"},
    )
    assert all("Secure" in h for h in res.headers.getlist("Set-Cookie"))
    forced = build_app(r, keys, load_settings({**env, "WARROOM_PROXY_HOPS": "0", "WARROOM_COOKIE_SECURE": "1"}))
    page = forced.test_client().get("/login")
    assert "Secure" in page.headers["Set-Cookie"]
    assert audit.query(r, keys, action="signin")[0]["address"] == "198.51.100.4"
