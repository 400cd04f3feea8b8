"""cli.py users / tokens / kiosk against the real server, and the first admin's one-time link."""

import os
import re
import subprocess
import sys

from auth.admin import ensure_first_admin
from auth.signin import Signin
from config.settings import ROOT
from store import audit, tokens, users
from tests.auth.conftest import build_app, form_csrf


def cli(redis_url, tmp_path, *args, stdin=None):
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "WARROOM_VAR": str(tmp_path / "var"),
        "WARROOM_BASE_URL": "http://localhost",
    }
    env.pop("WARROOM_EVENT", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], env=env, capture_output=True, text=True, input=stdin, timeout=60
    )


def test_users_lifecycle_from_the_cli(r, keys, redis_url, tmp_path):
    keys = type(keys)("superbowl")  # the CLI works on the event file's store
    out = cli(redis_url, tmp_path, "users", "add", "Lee", "--role", "approver", "--group", "legal")
    assert out.returncode == 0, out.stderr
    link = re.search(r"http://localhost/auth/link/(\S+)", out.stdout).group(1)
    assert users.get(r, keys, "lee")["groups"] == ["legal"]
    listed = cli(redis_url, tmp_path, "users", "list").stdout
    assert re.search(r"lee\s+approver\s+legal\s+active\s+local\s+no", listed)
    assert cli(redis_url, tmp_path, "users", "add", "bad name", "--role", "viewer").returncode == 2
    assert cli(redis_url, tmp_path, "users", "add", "x", "--role", "root").returncode == 2
    assert cli(redis_url, tmp_path, "users", "roles", "lee", "--role", "approver", "--role", "viewer").returncode == 0
    assert users.get(r, keys, "lee")["roles"] == ["viewer", "approver"]
    assert cli(redis_url, tmp_path, "users", "disable", "lee").returncode == 0
    assert users.get(r, keys, "lee")["disabled"]
    assert cli(redis_url, tmp_path, "users", "enable", "lee").returncode == 0
    assert cli(redis_url, tmp_path, "users", "disable", "nobody").returncode == 1
    reset = cli(redis_url, tmp_path, "users", "reset", "lee")
    assert reset.returncode == 0 and "/auth/link/" in reset.stdout
    new_link = re.search(r"/auth/link/(\S+)", reset.stdout).group(1)
    assert not Signin(r, keys).link(link, "a", "a long new password").ok  # reset voids the older link
    assert Signin(r, keys).link(new_link, "a", "a long new password").ok
    assert (
        cli(
            redis_url, tmp_path, "users", "add", "pw", "--role", "viewer", "--password-stdin", stdin="a long password\n"
        ).returncode
        == 0
    )
    assert users.get(r, keys, "pw")["password_hash"]
    by = {(e["who"].split(":")[0], e["action"]) for e in audit.query(r, keys, action="user.")}
    assert by == {("cli", a) for a in ("user.create", "user.roles", "user.disable", "user.enable", "user.reset")} | {
        ("lee", "user.password")
    }


def test_tokens_kiosk_and_rotation_from_the_cli(r, redis_url, tmp_path, keys):
    keys = type(keys)("superbowl")
    out = cli(redis_url, tmp_path, "tokens", "create", "grafana", "--scope", "read")
    token = re.search(r"(wrt_\S+)", out.stdout).group(1)
    assert tokens.verify_api_token(r, keys, token)["name"] == "grafana"
    token_id = token[4:].split(".")[0]
    assert token not in cli(redis_url, tmp_path, "tokens", "list").stdout
    assert cli(redis_url, tmp_path, "tokens", "revoke", token_id).returncode == 0
    assert tokens.verify_api_token(r, keys, token) is None
    out = cli(redis_url, tmp_path, "kiosk", "create", "lobby wall")
    assert re.search(r"http://localhost/kiosk/\S+\.\S+", out.stdout)
    assert "not opened yet" in cli(redis_url, tmp_path, "kiosk", "list").stdout
    out = cli(redis_url, tmp_path, "users", "rotate-secret")
    assert out.returncode == 0 and "epoch 1" in out.stdout
    assert (tmp_path / "var" / "session_secret").stat().st_mode & 0o077 == 0


def test_first_admin_link_is_made_once_and_signs_in(r, keys, settings):
    url = ensure_first_admin(r, keys, "http://localhost")
    assert url and url.startswith("http://localhost/auth/link/")
    assert ensure_first_admin(r, keys, "http://localhost") is None  # second start: nothing printed
    assert users.get(r, keys, "admin")["roles"] == ["strategist", "admin"]
    app = build_app(r, keys, settings)
    c = app.test_client()
    path = url.removeprefix("http://localhost")
    page = c.get(path).get_data(as_text=True)
    res = c.post(
        path, data={"csrf": form_csrf(page), "password": "a long admin password", "password2": "a long admin password"}
    )
    assert res.status_code == 303 and c.get("/api/me").get_json()["roles"] == ["strategist", "admin"]
    again = app.test_client()
    page = again.get(path).get_data(as_text=True)
    assert again.post(path, data={"csrf": form_csrf(page)}).status_code == 403  # used up


def test_publishing_pause_and_resume_from_the_cli(r, keys, redis_url, tmp_path):
    from store import publishing

    keys = type(keys)("superbowl")
    assert cli(redis_url, tmp_path, "publishing", "status").stdout.strip() == "publishing is on"
    out = cli(redis_url, tmp_path, "publishing", "pause", "--reason", "Injury on the field")
    assert out.returncode == 0 and "publishing paused by cli:" in out.stdout, out.stderr
    assert publishing.paused(r, keys)["reason"] == "Injury on the field"
    assert "Injury on the field" in cli(redis_url, tmp_path, "publishing", "status").stdout
    assert cli(redis_url, tmp_path, "publishing", "pause", "--reason", "  ").returncode == 2  # says why
    assert cli(redis_url, tmp_path, "publishing", "pause").returncode == 2  # --reason is required
    out = cli(redis_url, tmp_path, "publishing", "resume")
    assert out.returncode == 0 and "resumed" in out.stdout and publishing.paused(r, keys) is None
    assert "was not paused" in cli(redis_url, tmp_path, "publishing", "resume").stdout
    actions = [(e["who"].split(":")[0], e["action"]) for e in audit.query(r, keys, action="publishing.")]
    assert actions == [("cli", "publishing.resume"), ("cli", "publishing.pause")]
