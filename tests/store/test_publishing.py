"""store/publishing.py and publish/outbox.py on the real embedded Valkey and a local X server."""

from __future__ import annotations

import time

import pytest

from config.settings import load_event
from publish import errors, outbox
from publish.errors import PublishError
from publish.publisher import idempotency_key, publisher_for
from store import publishing
from store.errors import NotFound
from tests.conftest import ROOT
from tests.publish.conftest import approved_draft, x_env
from tests.publish.servers import XServer
from web import approvals, drafts

pytestmark = pytest.mark.cluster  # on the single server and on a three-primary cluster


@pytest.fixture
def x_server():
    s = XServer().start()
    yield s
    s.stop()


@pytest.fixture
def pub(x_server):
    return publisher_for("x", x_env(x_server), backoff_s=0.01)


def test_drafts_are_stored_durably_and_listed_per_card(r, keys, redis_backend):
    a = publishing.save_draft(r, keys, drafts.new_draft({"id": "c1"}, "x", "one", "dana", 1.0))
    publishing.save_draft(r, keys, drafts.new_draft({"id": "c1"}, "bluesky", "two", "dana", 2.0))
    publishing.save_draft(r, keys, drafts.new_draft({"id": "c2"}, "x", "other", "dana", 3.0))
    # WAITAOF 1 0 confirmed by the embedded server's AOF; the test cluster runs without an AOF, and says so.
    assert a["durable"] is (redis_backend == "single")
    assert [d["text"] for d in publishing.drafts_for_card(r, keys, "c1")] == ["one", "two"]
    assert publishing.get_draft(r, keys, a["id"])["text"] == "one"
    with pytest.raises(NotFound):
        publishing.get_draft(r, keys, "nope")


def test_dry_run_returns_the_request_and_sends_nothing(r, keys, pub, x_server):
    d = approved_draft("x", "Dunk in the dark", time.time())
    out = outbox.publish(r, keys, d, pub, by="alice", live=False)
    assert out["mode"] == "dry-run"
    assert out["request"] == {
        "method": "POST",
        "url": f"{x_server.url}/2/tweets",
        "json": {"text": "Dunk in the dark"},
        "headers": {},
        "encoding": "json",
    }
    assert x_server.requests == [] and publishing.pending(r, keys) == []


def test_live_only_when_the_event_says_so_and_credentials_exist(pub):
    event = load_event(ROOT / "config" / "superbowl.yaml")
    assert outbox.mode(event, pub) == "dry-run"
    live = event.model_copy(update={"publishing": event.publishing.model_copy(update={"mode": "live"})})
    assert outbox.mode(live, pub) == "live"
    assert outbox.mode(live, publisher_for("x", {})) == "dry-run"


def test_live_publish_records_intent_then_result_and_marks_the_draft(r, keys, pub, x_server):
    d = approved_draft("x", "Dunk in the dark", time.time())
    publishing.save_draft(r, keys, d)
    out = outbox.publish(r, keys, d, pub, by="alice", live=True)
    key = idempotency_key(d)
    it = publishing.intent(r, keys, key)
    assert it["state"] == "published" and it["result"]["id"] == x_server.posts[0]["id"] == out["posted"]["id"]
    assert it["request"]["json"] == x_server.writes("/2/tweets")[0]["body"]
    stored = publishing.get_draft(r, keys, d["id"])
    assert stored["published"]["id"] == out["posted"]["id"] and stored["published"]["by"] == "alice"
    assert approvals.status(stored, time.time()).state == "published"
    again = outbox.publish(r, keys, d, pub, by="bob", live=True)  # the caller's copy is stale: the intent says
    assert again["already"] is True and len(x_server.posts) == 1


def test_pause_refuses_with_the_reason_and_resume_lets_it_through(r, keys, pub, x_server):
    d = approved_draft("x", "Dunk in the dark", time.time())
    publishing.pause(r, keys, "Injury on the field", by="carol")
    assert publishing.paused(r, keys)["by"] == "carol"
    with pytest.raises(PublishError) as exc:
        outbox.publish(r, keys, d, pub, by="alice", live=True)
    assert exc.value.kind == errors.PAUSED and "Injury on the field" in exc.value.words and "carol" in exc.value.words
    with pytest.raises(publishing.Paused):  # the store refuses on its own too (a pause set mid-way)
        publishing.begin(r, keys, d, "k", {"json": {}}, "alice", time.time())
    with pytest.raises(ValueError, match="why"):
        publishing.pause(r, keys, " ", by="carol")
    assert x_server.requests == []
    assert publishing.resume(r, keys, by="carol")["reason"] == "Injury on the field"
    assert publishing.paused(r, keys) is None
    assert outbox.publish(r, keys, d, pub, by="alice", live=True)["intent"]["state"] == "published"


def test_unapproved_drafts_are_refused(r, keys, pub, x_server):
    d = drafts.new_draft({"id": "c1"}, "x", "not yet", "dana", time.time())
    with pytest.raises(PublishError) as exc:
        outbox.publish(r, keys, d, pub, by="dana", live=True)
    assert exc.value.kind == "not_approved" and "submit" in exc.value.words
    assert x_server.requests == []


def test_a_pending_intent_blocks_a_second_publish(r, keys, pub, x_server):
    d = approved_draft("x", "twice?", time.time())
    key = idempotency_key(d)
    publishing.begin(r, keys, d, key, pub.render_request(d, key=key, at=time.time()).as_dict(), "alice", time.time())
    with pytest.raises(PublishError) as exc:
        outbox.publish(r, keys, d, pub, by="bob", live=True)
    assert exc.value.kind == errors.IN_PROGRESS and x_server.requests == []


def test_a_failure_is_recorded_on_the_intent_and_the_draft_then_can_be_retried(r, keys, pub, x_server):
    d = approved_draft("x", "rate limited", time.time())
    publishing.save_draft(r, keys, d)
    x_server.fail(
        "POST", "/2/tweets", 429, {"title": "Too Many Requests"}, {"x-rate-limit-reset": str(int(time.time()) + 60)}
    )
    with pytest.raises(PublishError) as exc:
        outbox.publish(r, keys, d, pub, by="alice", live=True)
    assert exc.value.kind == errors.RATE_LIMITED
    it = publishing.intent(r, keys, idempotency_key(d))
    assert it["state"] == "failed" and it["error"]["kind"] == errors.RATE_LIMITED
    assert publishing.get_draft(r, keys, d["id"])["publish_error"]["kind"] == errors.RATE_LIMITED
    out = outbox.publish(r, keys, d, pub, by="alice", live=True)
    assert out["intent"]["state"] == "published" and out["intent"]["attempt"] == 2 and len(x_server.posts) == 1


def test_wrong_network_publisher_is_refused(r, keys, pub):
    d = approved_draft("bluesky", "hello", time.time())
    with pytest.raises(ValueError, match="cannot go through"):
        outbox.publish(r, keys, d, pub, by="alice", live=False)


def test_a_draft_whose_image_cannot_be_fetched_is_never_posted_without_it(r, keys, pub, x_server):
    """The intent is recorded first, as always; the image fails before any upload or post (tests/publish/
    test_images.py publishes images on every network)."""
    d = {**approved_draft("x", "look", time.time()), "image": {"url": "http://127.0.0.1:9/a.png", "alt": "cookie"}}
    with pytest.raises(PublishError, match="the image at http://127.0.0.1:9/a.png is on a private address"):
        outbox.publish(r, keys, d, pub, by="alice", live=True)
    assert x_server.posts == [] and x_server.writes("/2/media/upload") == [] and publishing.pending(r, keys) == []
    assert publishing.intent(r, keys, idempotency_key(d))["error"]["kind"] == errors.IMAGE
