"""Single sign-on against a local OpenID Connect provider (real HTTP, real signed id_token, authlib's client)."""

import pytest
import requests
import yaml

from auth import oidc
from config.settings import ROOT, Oidc, load_settings
from store import audit, users
from tests.auth.conftest import build_app
from tests.auth.oidc_provider import OidcProvider

CLIENT_ID, CLIENT_SECRET = "warroom", "s3cret-for-tests"


@pytest.fixture
def provider():
    with OidcProvider(CLIENT_ID, CLIENT_SECRET) as p:
        yield p


@pytest.fixture
def sso_app(r, keys, provider, tmp_path):
    event = yaml.safe_load((ROOT / "config" / "superbowl.yaml").read_text())
    event["auth"] = {
        "oidc": {
            "issuer": provider.issuer,
            "client_id": CLIENT_ID,
            "role_claim": "groups",
            "roles": {"wr-strategists": ["strategist"], "wr-legal": ["approver"], "wr-execs": ["viewer"]},
            "groups": {"wr-legal": ["legal"]},
        }
    }
    path = tmp_path / "event.yaml"
    path.write_text(yaml.safe_dump(event))
    env = {
        "WARROOM_EVENT": str(path),
        "WARROOM_VAR": str(tmp_path / "var"),
        "WARROOM_BASE_URL": "http://localhost",
        "WARROOM_OIDC_CLIENT_SECRET": CLIENT_SECRET,
    }
    return build_app(r, keys, load_settings(env))


def sso_sign_in(client, provider):
    """Browser steps: our app -> the provider (auto-approves) -> back to our callback."""
    start = client.get("/auth/oidc/login?next=/exec")
    assert start.status_code == 302 and start.headers["Location"].startswith(provider.issuer + "/authorize")
    at_provider = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert at_provider.status_code == 302
    back = at_provider.headers["Location"]
    assert back.startswith("http://localhost/auth/oidc/callback?")
    return client.get(back.removeprefix("http://localhost"))


def test_claims_map_to_roles_and_groups(sso_app, provider, r, keys):
    provider.person = {
        "sub": "u-123",
        "preferred_username": "Lee.Legal",
        "name": "Lee",
        "groups": ["wr-legal", "wr-execs", "other"],
    }
    c = sso_app.test_client()
    assert "Sign in with single sign-on" in c.get("/login").get_data(as_text=True)
    res = sso_sign_in(c, provider)
    assert res.status_code == 303 and res.headers["Location"] == "/exec"
    me = c.get("/api/me").get_json()
    assert me["name"] == "lee.legal" and me["roles"] == ["viewer", "approver"] and me["groups"] == ["legal"]
    user = users.get(r, keys, "lee.legal")
    assert user["source"] == "oidc" and user["subject"] == f"{provider.issuer}|u-123" and not user["password_hash"]
    assert audit.query(r, keys, action="signin")[0]["detail"] == "oidc"
    assert provider.token_requests == 1


def test_changed_claims_change_roles_at_next_sign_in(sso_app, provider, r, keys):
    provider.person = {"sub": "u-9", "preferred_username": "pat", "groups": ["wr-strategists"]}
    sso_sign_in(sso_app.test_client(), provider)
    provider.person = {"sub": "u-9", "preferred_username": "pat", "groups": ["wr-execs"]}
    c = sso_app.test_client()
    sso_sign_in(c, provider)
    assert c.get("/api/me").get_json()["roles"] == ["viewer"]
    [change] = audit.query(r, keys, action="user.roles")
    assert change["before"]["roles"] == ["strategist"] and change["after"]["roles"] == ["viewer"]


def test_no_mapped_role_is_refused_and_recorded(sso_app, provider, r, keys):
    provider.person = {"sub": "u-5", "preferred_username": "mallory", "groups": ["everyone"]}
    c = sso_app.test_client()
    res = sso_sign_in(c, provider)
    assert res.status_code == 403 and "no War Room role" in res.get_data(as_text=True)
    assert c.get("/api/me").status_code == 401
    assert users.get(r, keys, "mallory") is None
    assert "no War Room role" in audit.query(r, keys, action="signin.failure")[0]["detail"]


def test_a_forged_callback_is_refused(sso_app, provider, r, keys):
    provider.person = {"sub": "u-1", "preferred_username": "sam", "groups": ["wr-strategists"]}
    c = sso_app.test_client()
    c.get("/auth/oidc/login")
    res = c.get("/auth/oidc/callback?code=made-up&state=made-up")
    assert res.status_code == 403 and c.get("/api/me").status_code == 401
    assert audit.query(r, keys, action="signin.failure")


def test_a_local_account_is_not_taken_over_by_a_provider_account(sso_app, provider, r, keys):
    users.create(r, keys, "ada", ["admin"], actor="tester", password="a long password!")
    provider.person = {"sub": "other", "preferred_username": "ada", "groups": ["wr-strategists"]}
    c = sso_app.test_client()
    assert sso_sign_in(c, provider).status_code == 403
    assert users.get(r, keys, "ada")["roles"] == ["admin"]


def test_claim_paths_and_names():
    cfg = Oidc(
        role_claim="realm_access.roles", roles={"a": ["viewer"], "b": ["admin", "wall"]}, groups={"b": ["brand"]}
    )
    assert oidc.map_claims(cfg, {"realm_access": {"roles": ["a", "b"]}}) == (["wall", "viewer", "admin"], ["brand"])
    assert oidc.map_claims(cfg, {}) == ([], [])
    assert oidc.map_claims(Oidc(role_claim="g", roles={"x": ["viewer"]}), {"g": "y x"}) == (["viewer"], [])
    assert oidc.user_name(Oidc(), {"sub": "s", "preferred_username": "Jo Smith!"}) == "jo-smith"
    assert oidc.user_name(Oidc(name_claim="email"), {"sub": "s", "email": "Jo@Example.com"}) == "jo@example.com"
