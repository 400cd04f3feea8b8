import orjson
import pytest

from auth.signin import Signin
from store import audit, users
from store.errors import NotFound
from tests.auth.conftest import PASSWORD

pytestmark = pytest.mark.cluster  # on the single server and on a three-primary cluster


def test_create_stores_hash_but_shows_and_audits_none(r, keys, admin_actor):
    shown = users.create(r, keys, "Ann", ["approver"], ["legal", "brand"], actor=admin_actor, password=PASSWORD)
    assert shown["name"] == "ann" and shown["roles"] == ["approver"] and shown["groups"] == ["brand", "legal"]
    assert "password_hash" not in shown and shown["has_password"]
    assert users.get(r, keys, "ann")["password_hash"].startswith("$argon2id$")
    [entry] = audit.query(r, keys, action="user.create")
    assert entry["who"] == "tester" and entry["roles"] == ["admin"] and entry["object_id"] == "ann"
    assert entry["before"] is None and entry["after"]["groups"] == ["brand", "legal"]
    raw = b"".join(f[b"e"] for _, f in r.xrange(keys.audit))
    assert b"argon2" not in raw and PASSWORD.encode() not in raw
    assert [u["name"] for u in users.all_users(r, keys)] == ["ann"]
    assert "password_hash" not in users.all_users(r, keys)[0]


def test_bad_input_is_refused_and_writes_nothing(r, keys, admin_actor):
    users.create(r, keys, "sam", ["strategist"], actor=admin_actor)
    before = r.xlen(keys.audit)
    with pytest.raises(users.UserExists):
        users.create(r, keys, "sam", ["viewer"], actor=admin_actor)
    for name, roles, pw in (
        ("bad name", ["viewer"], None),
        ("x", ["root"], None),
        ("x", [], None),
        ("x", ["viewer"], "short"),
    ):
        with pytest.raises(ValueError):
            users.create(r, keys, name, roles, actor=admin_actor, password=pw)
    with pytest.raises(NotFound):
        users.set_disabled(r, keys, "nobody", True, actor=admin_actor)
    assert r.xlen(keys.audit) == before and users.count(r, keys) == 1


def test_roles_change_is_audited_with_before_and_after(r, keys, admin_actor):
    users.create(r, keys, "sam", ["strategist"], actor=admin_actor)
    users.set_roles(r, keys, "sam", actor=admin_actor, roles=["strategist", "approver"], groups=["brand"])
    [entry] = audit.query(r, keys, action="user.roles")
    assert entry["before"]["roles"] == ["strategist"] and entry["after"]["roles"] == ["strategist", "approver"]
    assert entry["after"]["groups"] == ["brand"]
    with pytest.raises(ValueError):
        users.set_roles(r, keys, "sam", actor=admin_actor, roles=[])


def test_disable_and_reset_sign_the_user_out_everywhere(r, keys, admin_actor):
    users.create(r, keys, "sam", ["strategist"], actor=admin_actor, password=PASSWORD)
    signin = Signin(r, keys)
    a, b = signin.password("sam", PASSWORD, "10.0.0.1"), signin.password("sam", PASSWORD, "10.0.0.2")
    assert signin.resolve(a.session_id, "user", "sam") and signin.resolve(b.session_id, "user", "sam")
    users.set_disabled(r, keys, "sam", True, actor=admin_actor)
    assert signin.resolve(a.session_id, "user", "sam") is None and signin.resolve(b.session_id, "user", "sam") is None
    assert not r.exists(keys.session(a.session_id))
    assert not signin.password("sam", PASSWORD, "10.0.0.1").ok  # disabled cannot sign in
    failure = audit.query(r, keys, action="signin.failure")[0]
    assert "account disabled" in failure["detail"]
    users.set_disabled(r, keys, "sam", False, actor=admin_actor)
    c = signin.password("sam", PASSWORD, "10.0.0.1")
    assert c.ok
    users.set_password(r, keys, "sam", None, actor=admin_actor)  # `users reset`
    assert signin.resolve(c.session_id, "user", "sam") is None
    assert not users.get(r, keys, "sam")["password_hash"]
    assert not signin.password("sam", PASSWORD, "10.0.0.1").ok
    actions = [e["action"] for e in audit.query(r, keys, obj=("user", "sam"))]
    assert actions[:1] == ["signin.failure"] and "user.reset" in actions and "user.disable" in actions


def test_roles_take_effect_at_the_next_request(r, keys, admin_actor):
    users.create(r, keys, "sam", ["strategist"], actor=admin_actor, password=PASSWORD)
    signin = Signin(r, keys)
    sid = signin.password("sam", PASSWORD, "a").session_id
    assert signin.resolve(sid, "user", "sam").roles == {"strategist"}
    users.set_roles(r, keys, "sam", actor=admin_actor, roles=["viewer"])
    assert signin.resolve(sid, "user", "sam").roles == {"viewer"}
    assert signin.resolve(sid, "kiosk", "sam") is None  # the cookie's claims must match the session record
    record = orjson.loads(r.get(keys.session(sid)))
    assert record["kind"] == "user" and record["subject"] == "sam"
