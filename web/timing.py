"""Every answer says how long the server took: a `Server-Timing: app;dur=<ms>` header (W3C Server Timing), so
browser devtools, the tests' request tracker and the decision benchmark read the server's own time apart from the
network and the browser's busy main thread."""

from __future__ import annotations

import time

import flask


def install(server: flask.Flask) -> None:
    """Time each request from before every other hook (sign-in guard, answer cache) to the response."""

    def start() -> None:
        flask.g.timing_started = time.perf_counter()

    def stop(response: flask.Response) -> flask.Response:
        started = flask.g.pop("timing_started", None)
        if started is not None:
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    server.before_request_funcs.setdefault(None, []).insert(0, start)
    server.after_request_funcs.setdefault(None, []).insert(0, stop)  # Flask runs these in reverse: this one last
