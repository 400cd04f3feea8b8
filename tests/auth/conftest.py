"""Identity fixtures: a cheap argon2 profile, settings on a temporary var/, a Flask app protected by install()."""

from __future__ import annotations

import re

import flask
import orjson
import pytest
from argon2 import PasswordHasher

from auth import passwords
from auth.identity import Identity
from auth.roles import require
from auth.web import current_identity, install
from config.settings import load_settings
from store import audit, users

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashes():
    previous = passwords.configure(CHEAP)
    yield
    passwords.configure(previous)


@pytest.fixture
def admin_actor() -> Identity:
    return Identity(name="tester", roles=frozenset({"admin"}), kind="cli", address="local")


@pytest.fixture
def settings(tmp_path):
    return load_settings({"WARROOM_VAR": str(tmp_path / "var"), "WARROOM_BASE_URL": "http://localhost"})


@pytest.fixture
def people(r, keys, admin_actor):
    """One user per role (password PASSWORD); the approver approves for legal only."""
    for name, roles, groups in (
        ("sam", ["strategist"], []),
        ("vic", ["viewer"], []),
        ("ann", ["approver"], ["legal"]),
        ("ada", ["admin"], []),
    ):
        users.create(r, keys, name, roles, groups, actor=admin_actor, password=PASSWORD)
    return ["sam", "vic", "ann", "ada"]


def build_app(r, keys, settings):
    """A minimal Flask app guarded by install(): dummy pages, a Dash-like write endpoint, API endpoints."""
    server = flask.Flask("auth-test")
    install(server, r, keys, settings, settings.var_dir)

    for path in ("/", "/wall", "/exec"):
        server.add_url_rule(path, f"page{path}", lambda path=path: f"page {path}")

    @server.get("/_dash-layout")
    def layout():
        return {"layout": True}

    @server.post("/_dash-update-component")
    def update():
        body = flask.request.get_json(force=True)
        action = body.get("action")
        ident = current_identity()
        if action:  # a callback that writes: the role check, then the change with its audit entry
            require(ident, action, body.get("group"))

            def build(pipe):
                pipe.multi()
                pipe.hset(keys.cards, body["id"], orjson.dumps(body))
                audit.append(pipe, keys, audit.entry(ident, action, "card", body["id"], after=body))

            audit.write(r, [], build)
        return {"ok": True, "who": ident.name}

    @server.get("/api/snapshot")
    def snapshot():
        return {"version": 1}

    @server.get("/api/cards")
    def cards():
        return {"cards": []}

    @server.get("/api/health")
    def health():
        return {"status": "ok"}

    @server.post("/api/ingest")
    def ingest():
        return {"error": "bad token"}, 401

    return server


@pytest.fixture
def app(r, keys, settings):
    return build_app(r, keys, settings)


def form_csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(client, name: str, password: str = PASSWORD, next_path: str = "/"):
    page = client.get("/login")
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf": form_csrf(page.get_data(as_text=True)), "next": next_path},
    )


def csrf_header(client) -> dict:
    cookie = client.get_cookie("_csrf_token")
    return {"X-CSRFToken": cookie.value} if cookie else {}


def store_state(r) -> dict:
    """Every key and its serialized value: equal before and after means the request changed nothing."""
    return {k: r.dump(k) for k in sorted(r.keys("*"))}
