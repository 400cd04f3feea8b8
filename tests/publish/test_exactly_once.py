"""Exactly once across a crash: kill -9 a real publisher process after the network stored the post but before its
answer (and so the result) arrived; reconcile finds the post instead of posting again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from publish import outbox
from publish.publisher import idempotency_key, publisher_for
from store import publishing
from tests.publish.conftest import ENVS, approved_draft

CHILD = Path(__file__).with_name("publish_child.py")
ROOT = Path(__file__).resolve().parents[2]
TEXTS = {
    "x": "Dunk in the dark & still win https://oreo.com/dark",
    "bluesky": "You can still dunk in the dark #SuperBowl https://oreo.com/dark",
    "mastodon": "You can still dunk in the dark https://oreo.com/dark",
}


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_kill_after_the_network_call_then_reconcile_posts_once(
    network, r, keys, redis_url, x_server, bluesky_server, mastodon_server
):
    server = {"x": x_server, "bluesky": bluesky_server, "mastodon": mastodon_server}[network]
    env = ENVS[network](server)
    draft = approved_draft(network, TEXTS[network], time.time())
    publishing.save_draft(r, keys, draft)
    server.hold_posts = True  # store the post, then hold its answer: the publisher dies waiting for it

    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), redis_url, keys.event_id, draft["id"]],
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert server.held.wait(timeout=60), proc.stderr.read1().decode() if proc.poll() is not None else "no post"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        server.hold_posts = False
        server.release.set()

    key = idempotency_key(draft)
    assert publishing.intent(r, keys, key)["state"] == publishing.PENDING
    assert len(server.posts) == 1

    # "Restart": a new process's publishers (here: this one's), reconcile before serving.
    pub = publisher_for(network, env, backoff_s=0.01)
    done = publishing.reconcile(r, keys, {network: pub}, older_than_s=0)
    assert [d["state"] for d in done] == [publishing.PUBLISHED]
    assert done[0]["how"] == "reconciled"
    assert publishing.pending(r, keys) == []
    stored = publishing.get_draft(r, keys, draft["id"])
    assert stored["published"]["id"] == done[0]["result"]["id"]

    # Publishing the draft again is a no-op: still exactly one post on the server.
    again = outbox.publish(r, keys, stored, pub, by="alice", live=True)
    assert again["already"] is True
    assert len(server.posts) == 1
    posts_path = {"x": "/2/tweets", "bluesky": "/xrpc/com.atproto.repo.createRecord", "mastodon": "/api/v1/statuses"}
    assert len(server.writes(posts_path[network])) == 1


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_an_intent_that_never_reached_the_network_reconciles_as_failed(
    network, r, keys, x_server, bluesky_server, mastodon_server
):
    server = {"x": x_server, "bluesky": bluesky_server, "mastodon": mastodon_server}[network]
    pub = publisher_for(network, ENVS[network](server), backoff_s=0.01)
    now = time.time()
    draft = approved_draft(network, TEXTS[network], now)
    publishing.save_draft(r, keys, draft)
    key = idempotency_key(draft)
    # The publisher died right after recording its intent: nothing was sent.
    publishing.begin(r, keys, draft, key, pub.render_request(draft, key=key, at=now).as_dict(), "alice", now)
    done = publishing.reconcile(r, keys, {network: pub}, older_than_s=0)
    assert [d["state"] for d in done] == [publishing.FAILED]
    assert "Publish again" in done[0]["error"]["words"]
    assert server.posts == []
    # and it can then be published (once).
    out = outbox.publish(r, keys, publishing.get_draft(r, keys, draft["id"]), pub, by="alice", live=True)
    assert out["intent"]["state"] == publishing.PUBLISHED
    assert len(server.posts) == 1


def test_reconcile_leaves_young_intents_and_unreachable_networks_pending(r, keys, x_server):
    pub = publisher_for("x", ENVS["x"](x_server))
    now = time.time()
    draft = approved_draft("x", "young intent", now)
    key = idempotency_key(draft)
    publishing.begin(r, keys, draft, key, pub.render_request(draft, key=key, at=now).as_dict(), "alice", now)
    assert publishing.reconcile(r, keys, {"x": pub}, older_than_s=60, now=now + 1) == []
    unconfigured = publisher_for("x", {})
    out = publishing.reconcile(r, keys, {"x": unconfigured}, older_than_s=0)
    assert out[0]["unchecked"] and publishing.intent(r, keys, key)["state"] == publishing.PENDING
