import orjson
import pytest

from auth.signin import Signin
from store import audit, tokens
from store.errors import NotFound

pytestmark = pytest.mark.cluster  # on the single server and on a three-primary cluster


def test_api_token_is_shown_once_stored_hashed_and_revocable(r, keys, admin_actor):
    token, record = tokens.create_api_token(r, keys, "grafana", ["read"], actor=admin_actor)
    assert token.startswith("wrt_") and "hash" not in record
    secret = token.split(".", 1)[1]
    stored = r.hget(keys.api_tokens, record["id"])
    assert secret.encode() not in stored and orjson.loads(stored)["hash"] == tokens.digest(secret)
    assert tokens.verify_api_token(r, keys, token)["scopes"] == ["read"]
    for forged in (
        token + "x",
        token[:-1],
        "wrt_" + record["id"] + ".",
        "",
        "Bearer " + token,
        token.replace("wrt_", ""),
    ):
        assert tokens.verify_api_token(r, keys, forged) is None
    tokens.revoke_api_token(r, keys, record["id"], actor=admin_actor)
    assert tokens.verify_api_token(r, keys, token) is None
    assert [t["revoked_at"] is not None for t in tokens.api_tokens(r, keys)] == [True]
    actions = [e["action"] for e in audit.query(r, keys, obj=("token", record["id"]))]
    assert actions == ["token.revoke", "token.create"]
    assert secret not in orjson.dumps(audit.query(r, keys)).decode()


def test_scopes_are_validated(r, keys, admin_actor):
    with pytest.raises(ValueError):
        tokens.create_api_token(r, keys, "x", ["write"], actor=admin_actor)
    with pytest.raises(ValueError):
        tokens.create_api_token(r, keys, "x", [], actor=admin_actor)
    with pytest.raises(NotFound):
        tokens.revoke_api_token(r, keys, "nope", actor=admin_actor)


def test_kiosk_link_opens_once_and_revocation_ends_its_session(r, keys, admin_actor):
    secret, link = tokens.create_kiosk(r, keys, "lobby wall", actor=admin_actor)
    signin = Signin(r, keys)
    assert not signin.kiosk(secret + "x", "10.1.1.1").ok
    opened = signin.kiosk(secret, "10.1.1.1")
    assert opened.ok and opened.identity.roles == {"wall"} and opened.identity.display == "lobby wall"
    again = signin.kiosk(secret, "10.6.6.6")
    assert not again.ok and "already" in again.error
    ident = signin.resolve(opened.session_id, "kiosk", link["id"])
    assert ident is not None and ident.kind == "kiosk" and not ident.may("card.create")
    tokens.revoke_kiosk(r, keys, link["id"], actor=admin_actor)
    assert signin.resolve(opened.session_id, "kiosk", link["id"]) is None
    assert not signin.kiosk(secret, "10.1.1.1").ok
    listed = tokens.kiosks(r, keys)[0]
    assert listed["claimed_from"] == "10.1.1.1" and listed["revoked_at"] and "session_id" not in listed
    actions = [e["action"] for e in audit.query(r, keys, obj=("kiosk", link["id"]))]
    assert actions == ["kiosk.revoke", "kiosk.open", "kiosk.create"]


def test_one_time_link_signs_in_once_and_sets_the_password(r, keys, admin_actor):
    from store import users

    users.create(r, keys, "newbie", ["strategist"], actor=admin_actor)
    secret = tokens.create_signin_link(r, keys, "newbie", actor=admin_actor)
    signin = Signin(r, keys)
    need = signin.link(secret, "a")
    assert not need.ok and need.needs_password  # no password yet: the link is not used up
    assert not signin.link(secret, "a", "short").ok
    done = signin.link(secret, "a", "a long new password")
    assert done.ok and done.identity.name == "newbie"
    assert not signin.link(secret, "a", "a long new password").ok  # once
    assert signin.password("newbie", "a long new password", "a").ok
    assert [e["action"] for e in audit.query(r, keys, who="newbie")][-2:] == ["signin", "user.password"]
