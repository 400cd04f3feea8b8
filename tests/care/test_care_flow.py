"""Care end to end on the real embedded server: posts through a real worker, the aggregator's tick, the webhook,
the audit trail, corrections reaching the workers' model and surviving a restart."""

from __future__ import annotations

import http.server
import json
import threading
import time

import pytest

from config.settings import Settings, load_settings
from store import alerts as alert_store
from store import audit
from store import care as care_store
from store import posts as post_store
from streams.aggregator import Aggregator
from streams.processor import Processor
from tests.pipeline import drain

pytestmark = [pytest.mark.cluster, pytest.mark.partitions]  # single server and cluster; one partition and three


@pytest.fixture
def settings() -> Settings:
    return load_settings({})


def post(pid: str, text: str, at: float, *, handle: str = "fan", followers: int = 10, **extra) -> dict:
    return {
        "id": f"bluesky:{pid}",
        "source": "bluesky",
        "author": {"handle": handle, "followers": followers},
        "text": text,
        "created_at": at,
        "received_at": at,
        **extra,
    }


def process(r, keys, settings, posts, now, proc=None) -> Processor:
    post_store.ensure_group(r, keys)
    post_store.append_dicts(r, keys, posts, now=now)
    proc = proc or Processor(settings, r, keys, consumer="w1")
    drain(proc, r, keys, "w1", now)
    return proc


def test_brand_posts_become_cases_with_conversation_and_safety_escalates_at_once(r, keys, settings):
    now = time.time()
    posts = [
        post("1", "@oreo my pack arrived crushed, every cookie broken", now, handle="ann", followers=900),
        post("2", "Touchdown! what a game", now, handle="bob"),  # not about the brand: never triaged
        post("3", "RT @ann: @oreo my pack arrived crushed", now, handle="cat", repost_of="bluesky:1"),
        post("4", "found something sharp in my Oreo cookies", now, handle="dan"),
        post("5", "I hate how good this Oreo ad is lol", now, handle="eve"),
    ]
    process(r, keys, settings, posts, now)
    items = care_store.read_items(r, keys, "0-0")[1]
    assert sorted(i["post"]["author"]["handle"] for i in items) == ["ann", "dan"]
    agg = Aggregator(settings, r, keys)
    snap = agg.tick(now + 1)
    cases = snap["care"]["cases"]
    assert [c["author"]["handle"] for c in cases] == ["dan", "ann"]  # safety on top
    assert cases[0]["state"] == "escalated" and cases[0]["escalation"]["to"] == "legal"
    assert snap["care"]["metrics"]["backlog"] == 2
    alert = next(a for a in alert_store.recent(r, keys, 30) if a["kind"] == "care_safety")
    assert alert["severity"] == "critical" and "@dan" in alert["title"]
    trail = audit.timeline(r, keys, "care", cases[0]["id"])
    assert [e["action"] for e in trail] == ["care.escalate"] and trail[0]["who"] == "system"
    # A second tick neither escalates nor alerts again.
    agg.tick(now + 2)
    assert len(audit.timeline(r, keys, "care", cases[0]["id"])) == 1
    # The same author writes again (about the brand and not): one case, with the other post as context.
    process(
        r,
        keys,
        settings,
        [
            post("6", "@oreo still waiting for an answer", now + 3, handle="ann", reply_to="bluesky:1"),
            post("7", "Touchdown!!", now + 3, handle="ann"),
        ],
        now + 3,
    )
    snap = agg.tick(now + 4)
    ann = next(c for c in snap["care"]["cases"] if c["author"]["handle"] == "ann")
    assert [p["id"] for p in ann["posts"]] == ["bluesky:1", "bluesky:6"]
    assert [p["text"] for p in ann["context"]] == ["Touchdown!!"]


def test_a_missed_target_escalates_through_the_webhook(r, keys, settings):
    got, arrived = [], threading.Event()

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            arrived.set()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hooked = load_settings({"WARROOM_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{server.server_port}/hook"})
    try:
        now = time.time()
        process(r, keys, hooked, [post("1", "where can i buy Oreo Thins in Austin?", now, handle="q")], now)
        agg = Aggregator(hooked, r, keys)
        snap = agg.tick(now + 60)
        case = snap["care"]["cases"][0]
        assert case["kind"] == "question" and case["timer"]["status"] == "ok" and case["state"] == "new"
        assert agg.tick(now + 0.8 * 1800)["care"]["cases"][0]["timer"]["status"] == "warning"
        snap = agg.tick(now + 1801)
        case = snap["care"]["cases"][0]
        assert case["state"] == "escalated" and case["escalation"]["to"] == "care-lead"
        assert snap["care"]["metrics"]["breaches"] == 1
        assert arrived.wait(10), "the escalation reached the webhook"
        assert got[0]["alert"]["kind"] == "care_breach" and got[0]["alert"]["case_id"] == case["id"]
    finally:
        server.shutdown()
        if agg.notifier:
            agg.notifier.stop()


def test_corrections_reach_the_workers_and_survive_a_restart(r, keys, settings):
    now = time.time()
    text = "thanks a lot Oreo, love how I can't stop eating"
    proc = process(r, keys, settings, [post("1", text, now, handle="p")], now)
    assert care_store.read_items(r, keys, "0-0")[1][0]["kind"] == "praise"
    pipe = r.pipeline(transaction=True)
    for t, k in [(text, "none")] * 4 + [("love the new Oreo flavor, best snack", "praise")]:
        pipe.xadd(keys.care_corrections, {"text": t, "kind": k, "by": "alice"})
    pipe.execute()
    Aggregator(settings, r, keys).tick(now + 1)
    assert care_store.model_version(r, keys) == 1
    restarted = Aggregator(settings, r, keys)  # a new process loads the saved model
    assert restarted.state.care_model.corrections == 5
    process(r, keys, settings, [post("2", text + " again", now + 5, handle="p2")], now + 5, proc)
    kinds = [i["kind"] for i in care_store.read_items(r, keys, "0-0")[1]]
    assert kinds == ["praise"], "the worker re-read the model: the corrected post is no longer triaged as praise"
