"""Alerts end to end on the real embedded server: posts through a real worker, the aggregator's tick, the webhook."""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
import time
from datetime import UTC, datetime

import pytest

from config.settings import ROOT, ScheduleItem, Settings, load_settings
from store import alerts as alert_store
from store import audit
from store import posts as post_store
from streams.aggregator import Aggregator
from streams.processor import Processor
from tests.pipeline import drain

pytestmark = [pytest.mark.cluster, pytest.mark.partitions]  # single server and cluster; one partition and three

INFLUENCER = "megafan"


@pytest.fixture
def settings() -> Settings:
    return load_settings({})


def post(pid: str, text: str, at: float, *, handle: str = "fan", followers: int = 10) -> dict:
    return {
        "id": f"webhook:{pid}",
        "source": "webhook",
        "author": {"handle": handle, "followers": followers},
        "text": text,
        "created_at": at,
        "received_at": at,
    }


def process(r, keys, settings: Settings, posts: list[dict], now: float, consumer: str = "w1") -> int:
    """XADD the posts, then let a real Processor handle every batch (as `cli.py process` would)."""
    post_store.ensure_group(r, keys)
    post_store.append_dicts(r, keys, posts, now=now)
    proc = Processor(settings, r, keys, consumer=consumer)
    drain(proc, r, keys, consumer, now)
    return proc.processed


def burst(tag: str, at: float, settings: Settings) -> list[dict]:
    """A watch-word with the brand (from a small account) and an influencer naming the brand."""
    followers = settings.event.thresholds.influencer_followers + 1
    return [
        post(f"ww-{tag}", f"Oreo recall announced? my pantry is full of them ({tag})", at),
        post(
            f"inf-{tag}",
            f"Loving the Oreo ad tonight, what a classic ({tag})",
            at + 0.5,
            handle=INFLUENCER,
            followers=followers,
        ),
    ]


def of_kind(snap: dict, kind: str) -> list[dict]:
    return [a for a in snap["alerts"] if a["kind"] == kind]


def test_watch_word_and_influencer_alert_once_per_cooldown(r, keys, settings):
    now = time.time()
    assert process(r, keys, settings, burst("a", now - 5, settings), now) == 2
    agg = Aggregator(settings, r, keys)
    snap = agg.tick(now)
    (ww,), (inf,) = of_kind(snap, "watch_word"), of_kind(snap, "influencer")
    assert ww["severity"] == "critical" and ww["subject"] == "recall" and "Oreo" in ww["title"]
    assert ww["post_id"] == "webhook:ww-a"
    # Influencers are grouped per brand (one alert that grows); the first post and the author are kept.
    assert inf["subject"] == "Oreo" and inf["members"] == [INFLUENCER] and inf["post_id"] == "webhook:inf-a"

    # The same kind of burst 30 s later is inside the cool-down: no new alerts.
    assert settings.event.alerts.cooldown_s > 40
    assert process(r, keys, settings, burst("b", now + 25, settings), now + 30) == 2
    snap = agg.tick(now + 30)
    assert [a["id"] for a in of_kind(snap, "watch_word")] == [ww["id"]]
    assert [a["id"] for a in of_kind(snap, "influencer")] == [inf["id"]]


def test_cooldown_survives_an_aggregator_restart(r, keys, settings):
    now = time.time()
    process(r, keys, settings, burst("a", now - 5, settings), now)
    Aggregator(settings, r, keys).tick(now)
    process(r, keys, settings, burst("b", now + 25, settings), now + 30)
    snap = Aggregator(settings, r, keys).tick(now + 30)  # a fresh process reads the saved state and cursor
    assert len(of_kind(snap, "watch_word")) == 1 and len(of_kind(snap, "influencer")) == 1


def test_acknowledged_alert_shows_who_acked_in_the_next_snapshot(r, keys, settings):
    now = time.time()
    process(r, keys, settings, burst("a", now - 5, settings), now)
    agg = Aggregator(settings, r, keys)
    (ww,) = of_kind(agg.tick(now), "watch_word")
    assert "acked_by" not in ww
    acked = alert_store.acknowledge(r, keys, ww["id"], "sam", audit.entry("sam", "alert.ack", "alert", ww["id"]))
    assert acked and acked["acked_by"] == "sam"
    (ww_next,) = of_kind(agg.tick(now + 1), "watch_word")
    assert ww_next["id"] == ww["id"] and ww_next["acked_by"] == "sam" and ww_next["acked_at"] > 0
    assert (
        alert_store.acknowledge(r, keys, "no-such-alert", "sam", audit.entry("sam", "alert.ack", "alert", "x")) is None
    )
    assert [e["object_id"] for e in audit.query(r, keys, action="alert.ack")] == [ww["id"]]


class Hook:
    """A Slack-style incoming webhook: records every JSON POST."""

    def __init__(self):
        self.bodies: list[dict] = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/XXXX"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self):
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                hook.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        return Handler

    def __enter__(self) -> Hook:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("hook_env", ["WARROOM_ALERT_WEBHOOK_URL", "ROOM_HOOK"], ids=["default", "event-file-named"])
def test_alert_is_delivered_to_the_webhook(r, keys, tmp_path, hook_env):
    event = tmp_path / "event.yaml"  # `alerts.webhook_url_env` names the variable that holds the URL
    event.write_text(
        (ROOT / "config" / "superbowl.yaml")
        .read_text()
        .replace("webhook_url_env: WARROOM_ALERT_WEBHOOK_URL", f"webhook_url_env: {hook_env}")
    )
    with Hook() as hook:
        settings = load_settings({"WARROOM_EVENT": str(event), hook_env: hook.url})
        now = time.time()
        process(r, keys, settings, burst("a", now - 5, settings), now)
        agg = Aggregator(settings, r, keys)
        try:
            assert agg.notifier is not None
            (ww,) = of_kind(agg.tick(now), "watch_word")
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not any(ww["title"] in b.get("text", "") for b in hook.bodies):
                time.sleep(0.05)
        finally:
            agg.notifier.stop()
    texts = [b["text"] for b in hook.bodies]
    assert any(ww["title"] in t and "critical" in t for t in texts), texts
    body = next(b for b in hook.bodies if ww["title"] in b["text"])
    assert body["alert"]["id"] == ww["id"] and body["blocks"]
    assert any(INFLUENCER in t for t in texts), texts  # every new alert goes out, not only the loud ones


# Spikes ------------------------------------------------------------------------------------------------
STEADY_S = 300  # five minutes of a steady Blackout rate (the detector warms up for one)
STEADY_PER_S = 2
BURST_S = 20
BURST_PER_S = 40


def blackout_posts(t0: int, tb: int) -> list[dict]:
    """STEADY_PER_S posts a second from t0 to tb, then BURST_PER_S for BURST_S, then the steady rate for 10 s."""
    out = []
    for sec in range(t0, tb + BURST_S + 10):
        n = BURST_PER_S if tb <= sec < tb + BURST_S else STEADY_PER_S
        for k in range(n):
            out.append(
                post(
                    f"b{sec}-{k}",
                    f"the lights went out, blackout at the stadium {sec} {k}",
                    sec + k / n,
                    handle=f"viewer{k}",
                )
            )
    return out


@pytest.mark.parametrize("expected_surge", [False, True], ids=["unexpected", "scheduled"])
def test_blackout_burst_is_a_spike_unless_the_schedule_expects_it(r, keys, settings, expected_surge):
    now = int(time.time())
    tb = now - 40 - now % 5  # the burst starts on a bin boundary, 40 s ago
    t0 = tb - STEADY_S
    if expected_surge:
        item = ScheduleItem(name="Ad break", at=datetime.fromtimestamp(tb - 60, UTC), minutes=5)
        settings = dataclasses.replace(settings, event=settings.event.model_copy(update={"schedule": [item]}))
    agg = Aggregator(settings, r, keys)
    agg.tick(t0)  # the detectors start here, as a running aggregator's would
    posts = blackout_posts(t0, tb)
    assert process(r, keys, settings, posts, now) == len(posts)
    snap = agg.tick(tb + BURST_S + 10)
    assert max(snap["volume"]["series"]["Blackout"]) == BURST_PER_S  # the window holds the burst
    spikes = [a for a in snap["alerts"] if a["kind"] == "spike" and a["subject"] == "Blackout"]
    if expected_surge:
        assert spikes == []
    else:
        (spike,) = spikes
        assert tb - 5 <= spike["moment"] < tb + BURST_S, (spike, tb)
        assert spike["severity"] == "high" and "Blackout" in spike["title"]
    assert not [a for a in snap["alerts"] if a["kind"] == "dip" and a["subject"] == "Blackout"]


def test_many_influencers_in_a_few_minutes_are_one_alert_that_grows(r, keys, settings):
    now = time.time()
    followers = settings.event.thresholds.influencer_followers + 1
    agg = Aggregator(settings, r, keys)
    seen = []
    for i in range(5):
        at = now + 30 * i
        p = post(f"inf{i}", f"Oreo's ad is the talk of the night, take {i}", at, handle=f"star{i}", followers=followers)
        process(r, keys, settings, [p], at + 1)
        seen.append(of_kind(agg.tick(at + 1), "influencer"))
    assert all(len(alerts) == 1 for alerts in seen), "one alert throughout"
    assert len({alerts[0]["id"] for alerts in seen}) == 1, "that keeps its id while it grows"
    (alert,) = seen[-1]
    assert alert["title"].startswith("5 influencers mention Oreo") and alert["count"] == 5
    assert [p["handle"] for p in alert["why"]["posts"]] == [f"star{i}" for i in range(5)]
    assert alert["why"]["sources"] == {"webhook": 5} and alert["update"] is True
    stored = {a["id"]: a for a in alert_store.recent(r, keys)}
    assert stored[alert["id"]]["count"] == 5  # the store holds the grown alert, not five
