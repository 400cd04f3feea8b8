import time

from auth.limits import Limits, SigninLimiter
from auth.signin import Signin
from store import audit
from tests.auth.conftest import PASSWORD


def test_per_account_limit_holds_even_for_the_right_password(r, keys, people):
    signin = Signin(r, keys, SigninLimiter(r, keys, Limits(per_account=3, per_address=100, window_s=600)))
    for i in range(3):
        assert not signin.password("sam", "wrong password!", f"10.0.0.{i}").ok
    refused = signin.password("sam", PASSWORD, "10.0.0.99")
    assert not refused.ok and 0 < refused.retry_after_s <= 600 and "this account" in refused.error
    assert signin.password("vic", PASSWORD, "10.0.0.0").ok  # other accounts are not affected
    failures = audit.query(r, keys, action="signin.failure")
    assert len(failures) == 3  # the refused attempt is not recorded: a flood cannot grow the trail
    assert {f["address"] for f in failures} == {"10.0.0.0", "10.0.0.1", "10.0.0.2"}
    assert all(f["who"] == "sam" and "wrong password" in f["detail"] for f in failures)


def test_per_address_limit_spans_accounts(r, keys, people):
    signin = Signin(r, keys, SigninLimiter(r, keys, Limits(per_account=100, per_address=4, window_s=600)))
    for name in ("sam", "vic", "ann", "nobody"):
        assert not signin.password(name, "wrong password!", "203.0.113.7").ok
    refused = signin.password("ada", PASSWORD, "203.0.113.7")
    assert not refused.ok and "this address" in refused.error
    assert signin.password("ada", PASSWORD, "198.51.100.1").ok
    assert "unknown account" in audit.query(r, keys, who="nobody")[0]["detail"]


def test_success_clears_the_account_count_and_the_window_expires(r, keys, people):
    limiter = SigninLimiter(r, keys, Limits(per_account=2, per_address=100, window_s=1))
    signin = Signin(r, keys, limiter)
    assert not signin.password("sam", "wrong password!", "a").ok
    assert signin.password("sam", PASSWORD, "a").ok
    assert not r.exists(keys.signin_failures("account", "sam"))
    assert not signin.password("sam", "wrong password!", "a").ok
    assert not signin.password("sam", "wrong password!", "a").ok
    assert not limiter.check("sam", "a").allowed
    deadline = time.monotonic() + 5
    while r.exists(keys.signin_failures("account", "sam")) and time.monotonic() < deadline:
        time.sleep(0.05)  # waiting on the counter's TTL, not a fixed time
    assert limiter.check("sam", "a").allowed
    assert signin.password("sam", PASSWORD, "a").ok
