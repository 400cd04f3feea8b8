from argon2 import PasswordHasher

from auth import passwords
from auth.signin import Signin
from store import audit, users
from tests.auth.conftest import PASSWORD


def test_hash_verifies_only_the_right_password():
    h = passwords.hash_password(PASSWORD)
    assert h.startswith("$argon2id$") and PASSWORD not in h
    assert passwords.verify(h, PASSWORD)
    assert not passwords.verify(h, PASSWORD + "x")
    assert not passwords.verify(None, PASSWORD)
    assert not passwords.verify("not a hash", PASSWORD)
    assert not passwords.verify(h, "x" * (passwords.MAX_LENGTH + 1))


def test_policy():
    for bad in ("short", "x" * (passwords.MAX_LENGTH + 1)):
        try:
            passwords.check_policy(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad[:10]!r} accepted")
    passwords.check_policy(PASSWORD)


def test_sign_in_upgrades_a_hash_made_with_older_parameters(r, keys, admin_actor):
    users.create(r, keys, "sam", ["strategist"], actor=admin_actor, password=PASSWORD)
    old = users.get(r, keys, "sam")["password_hash"]
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    previous = passwords.configure(stronger)
    try:
        assert passwords.needs_rehash(old)
        assert Signin(r, keys).password("sam", PASSWORD, "10.0.0.1").ok
        new = users.get(r, keys, "sam")["password_hash"]
        assert new != old and not passwords.needs_rehash(new) and passwords.verify(new, PASSWORD)
        assert audit.query(r, keys, action="user.rehash", obj=("user", "sam"))
    finally:
        passwords.configure(previous)
