"""Every answer carries the server's own time (Server-Timing), measured around every other hook."""

from __future__ import annotations

import re

import flask

from web import timing
from web.timing import install


def test_server_timing_covers_the_other_hooks_and_short_circuits(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])  # the server's clock, moved by the hooks
    app = flask.Flask(__name__)

    @app.before_request
    def slow_guard():  # like the sign-in guard: it runs inside the measured time (50 ms of it)
        clock[0] += 0.05
        if flask.request.path == "/cached":
            return flask.Response("from the answer cache")  # a hook that answers by itself is timed too
        return None

    @app.get("/")
    def index():
        return "ok"

    install(app)
    client = app.test_client()
    for path in ("/", "/cached"):
        found = re.fullmatch(r"app;dur=([0-9.]+)", client.get(path).headers["Server-Timing"])
        assert found and float(found.group(1)) == 50.0, path
