"""Webhook notifier against a real local HTTP server: Slack JSON, retries, Retry-After, no secrets in logs."""

from __future__ import annotations

import http.server
import json
import logging
import threading
import time
from contextlib import contextmanager

import pytest

from streams.notify import Notifier, format_payload

ALERT = {
    "id": "a1b2c3",
    "kind": "sentiment_drop",
    "subject": "Oreo",
    "severity": "high",
    "title": "Oreo sentiment fell",
    "detail": "mean -0.20 vs baseline 0.30",
    "at": 1_707_692_400.0,
    "score": 0.5,
}


class Hook:
    """Records each request's time and JSON body; answers from `script` ((status, headers) per request), then 200."""

    def __init__(self, script: list[tuple[int, dict]] | None = None):
        self.script = list(script or [])
        self.bodies: list[dict] = []
        self.times: list[float] = []
        self.paths: list[str] = []
        self.delay_s = 0.0

    def handler(self):
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.times.append(time.monotonic())
                hook.paths.append(self.path)
                hook.bodies.append(json.loads(body))
                time.sleep(hook.delay_s)
                status, headers = hook.script.pop(0) if hook.script else (200, {})
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        return Handler


@contextmanager
def serving(hook: Hook):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), hook.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/SECRETTOKEN"
    finally:
        server.shutdown()
        server.server_close()


def test_posts_slack_compatible_json_with_the_raw_alert():
    hook = Hook()
    with serving(hook) as url:
        assert Notifier(url).send(ALERT) is True
    (body,) = hook.bodies
    assert body["text"] == "[high] Oreo sentiment fell"
    assert body["alert"] == ALERT
    assert body["blocks"][0]["type"] == "section" and "Oreo sentiment fell" in body["blocks"][0]["text"]["text"]
    assert any("mean -0.20" in b.get("text", {}).get("text", "") for b in body["blocks"])
    assert hook.paths == ["/services/T000/B000/SECRETTOKEN"]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_retried_with_backoff_then_delivered(status):
    hook = Hook([(status, {})])
    with serving(hook) as url:
        assert Notifier(url, backoff_s=0.05).send(ALERT) is True
    assert len(hook.bodies) == 2
    assert hook.times[1] - hook.times[0] >= 0.05


def test_429_waits_as_long_as_retry_after_says():
    hook = Hook([(429, {"Retry-After": "1"})])
    with serving(hook) as url:
        assert Notifier(url, backoff_s=0.01).send(ALERT) is True
    assert len(hook.bodies) == 2
    assert hook.times[1] - hook.times[0] >= 0.95


@pytest.mark.parametrize(("script", "requests_made"), [([(500, {})] * 10, 3), ([(400, {})], 1), ([(404, {})], 1)])
def test_gives_up_without_raising_after_retries_or_on_a_client_error(script, requests_made):
    hook = Hook(script)
    with serving(hook) as url:
        notifier = Notifier(url, retries=2, backoff_s=0.01)
        assert notifier.send(ALERT) is False
    assert len(hook.bodies) == requests_made
    assert notifier.failed == 1


def test_connection_refused_is_retried_and_never_raises_nor_logs_the_url(caplog):
    with serving(Hook()) as url:
        pass  # the server is gone: the port now refuses connections
    waits: list[float] = []
    caplog.set_level(logging.DEBUG)
    notifier = Notifier(url, retries=2, backoff_s=0.1, sleep=waits.append)
    assert notifier.send(ALERT) is False
    assert waits == [0.1, 0.2]
    assert "SECRETTOKEN" not in caplog.text and "127.0.0.1" not in caplog.text
    assert "SECRETTOKEN" not in repr(notifier)


def test_background_submit_returns_at_once_and_delivers_in_order():
    hook = Hook()
    hook.delay_s = 0.2
    with serving(hook) as url:
        notifier = Notifier(url).start()
        started = time.monotonic()
        assert all(notifier.submit(dict(ALERT, id=str(i))) for i in range(3))
        assert time.monotonic() - started < 0.1  # the caller never waits on the webhook
        notifier.stop(timeout=5)
    assert [b["alert"]["id"] for b in hook.bodies] == ["0", "1", "2"]
    assert notifier.sent == 3


def test_a_full_queue_drops_and_counts_instead_of_blocking():
    notifier = Notifier("http://127.0.0.1:9/never", queue_size=1)  # not started: nothing drains the queue
    assert notifier.submit(ALERT) is True
    assert notifier.submit(ALERT) is False
    assert notifier.dropped == 1


@pytest.mark.parametrize(
    ("alert", "text"),
    [
        ({"kind": "sentiment_drop", "timestamp": 0.0, "score": 0.3, "mean": -0.1, "baseline": 0.2}, "sentiment drop"),
        ({"kind": "spike", "severity": "critical", "title": "Blackout spike"}, "[critical] Blackout spike"),
    ],
)
def test_payload_text_for_detector_and_book_alerts(alert, text):
    payload = format_payload(alert)
    assert payload["text"] == text
    assert json.loads(json.dumps(payload))["alert"] == alert


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "hooks.slack.com/services/SECRET"])
def test_only_http_urls_are_accepted_and_the_error_does_not_echo_them(url):
    with pytest.raises(ValueError, match="http:// or https://") as info:
        Notifier(url)
    assert url not in str(info.value)
