"""Outcomes of a published response, end to end on the real store and the local network servers: the workers
count the replies, quotes and reposts the room's sources carry (exactly once), the watcher polls the network's own
counts (likes too), and a rate-limited network is left alone until its Retry-After."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config.settings import load_settings
from model.post import Author, Post
from publish import outbox
from publish.publisher import publisher_for
from publish.watcher import Watcher
from store import outcomes as outcome_store
from store import posts as post_store
from store import publishing
from streams.processor import Processor
from tests.publish.conftest import ENVS, approved_draft

ROOT = Path(__file__).resolve().parents[2]
TEXT = {
    "x": "You can still dunk in the dark",
    "bluesky": "You can still dunk in the dark #SuperBowl",
    "mastodon": "You can still dunk in the dark, says Oreo",
}


def published(network, r, keys, server) -> tuple[dict, dict]:
    pub = publisher_for(network, ENVS[network](server), backoff_s=0.0)
    draft = approved_draft(network, TEXT[network], time.time())
    publishing.save_draft(r, keys, draft)
    out = outbox.publish(r, keys, draft, pub, by="dana", live=True)
    return publishing.get_draft(r, keys, draft["id"]), out["posted"]


def fan_post(i: int, text: str, **refs) -> Post:
    return Post(
        id=f"x:{5000 + i}",
        source="x",
        author=Author(handle=f"fan{i}", followers=10),
        text=text,
        created_at=datetime.now(UTC),
        **refs,
    )


def test_replies_quotes_and_reposts_seen_by_the_room_are_counted_once(r, keys, x_server):
    draft, posted = published("x", r, keys, x_server)
    ours = f"x:{posted['id']}"
    post_store.ensure_group(r, keys)
    post_store.append(
        r,
        keys,
        [
            fan_post(1, "Oreo this is brilliant, love it", reply_to=ours),
            fan_post(2, "worst ad ever, terrible and awful", reply_to=ours),
            fan_post(3, "ha! look at this", quote_of=ours),
            fan_post(4, "RT @oreo: You can still dunk in the dark", repost_of=ours),
            fan_post(5, "replying to someone else entirely", reply_to="x:1"),
        ],
    )
    proc = Processor(load_settings({}), r, keys, consumer="w1")
    entries = post_store.read_batch(r, keys, "w1", 100, 10)
    assert proc.handle(entries) == 5
    o = outcome_store.all_outcomes(r, keys)[draft["id"]]
    assert (o["replies"], o["quotes"], o["reposts"], o["likes"]) == (2, 1, 1, 0)
    assert o["positive"] >= 1 and o["negative"] == 1 and o["engagement"] == 4
    # The same posts again (a re-delivery after a crash, or a second source carrying them) count nothing.
    for p in (fan_post(1, "Oreo this is brilliant, love it", reply_to=ours),):
        r.xadd(keys.stream, {"p": p.to_json()})
    assert proc.handle(post_store.read_batch(r, keys, "w1", 100, 10)) == 0
    assert outcome_store.all_outcomes(r, keys)[draft["id"]]["replies"] == 2


def test_the_feed_marks_our_response_with_its_outcome_and_the_posts_answering_it(r, keys, x_server):
    from layouts.feed import feed_items
    from streams.aggregator import Aggregator

    draft, posted = published("x", r, keys, x_server)
    ours = f"x:{posted['id']}"
    post_store.ensure_group(r, keys)
    brand = Author(handle="oreo", name="Oreo", followers=2_000_000, verified=True)
    now = datetime.now(UTC)
    mine = Post(
        id=ours, source="x", author=brand, text="Power out? You can still dunk in the dark. #Oreo", created_at=now
    )
    fans = [fan_post(i, f"Oreo nailed it, brilliant #{i}", reply_to=ours) for i in (1, 2)]
    other = fan_post(3, "Oreo in the dark, brilliant and loved it", reply_to="x:1")
    post_store.append(r, keys, [mine, *fans, other])
    settings = load_settings({})
    assert Processor(settings, r, keys, consumer="w1").handle(post_store.read_batch(r, keys, "w1", 100, 10)) == 4

    feed = {p["id"]: p for p in Aggregator(settings, r, keys).tick()["feed"]}
    assert feed[ours]["ours"]["draft"] == draft["id"] and feed[ours]["ours"]["outcome"]["replies"] == 2
    assert {feed[f.id]["answers"]["kind"] for f in fans if f.id in feed} <= {"replies"}
    assert any(f.id in feed for f in fans), "a reply to our response is in the feed"
    assert "ours" not in feed.get(other.id, {}) and "answers" not in feed.get(other.id, {})
    drawn = str(feed_items(list(feed.values())))
    assert "our response" in drawn and "2 replies (2 positive, 0 negative)" in drawn
    assert "replies to our response" in drawn


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_the_watcher_reads_the_networks_own_counts(network, r, keys, x_server, bluesky_server, mastodon_server):
    server = {"x": x_server, "bluesky": bluesky_server, "mastodon": mastodon_server}[network]
    draft, posted = published(network, r, keys, server)
    server.engage(posted["id"], likes=120, reposts=7, replies=3, quotes=2)
    pub = publisher_for(network, ENVS[network](server))
    watcher = Watcher(r, keys, {network: pub})
    assert watcher.poll() == 1
    o = outcome_store.all_outcomes(r, keys)[draft["id"]]
    assert (o["likes"], o["reposts"], o["replies"], o["quotes"]) == (120, 7, 3, 2)
    assert o["polled_at"] is not None and o["seen"]["replies"] == 0


def test_a_rate_limited_network_is_asked_again_only_after_retry_after(r, keys, x_server):
    draft, posted = published("x", r, keys, x_server)
    x_server.engage(posted["id"], likes=5)
    watcher = Watcher(r, keys, {"x": publisher_for("x", ENVS["x"](x_server))})
    x_server.fail("GET", "/2/tweets", 429, {"title": "Too Many Requests"}, headers={"Retry-After": "60"})
    now = time.time()
    assert watcher.poll(now) == 0
    asked = len([q for q in x_server.requests if q["path"] == "/2/tweets" and q["method"] == "GET"])
    assert watcher.poll(now + 30) == 0  # still inside Retry-After: not asked
    assert len([q for q in x_server.requests if q["path"] == "/2/tweets" and q["method"] == "GET"]) == asked
    assert watcher.poll(now + 61) == 1
    assert outcome_store.all_outcomes(r, keys)[draft["id"]]["likes"] == 5


def test_the_watcher_reconciles_an_intent_whose_publisher_died(r, keys, x_server):
    pub = publisher_for("x", ENVS["x"](x_server))
    draft = approved_draft("x", TEXT["x"], time.time())
    publishing.save_draft(r, keys, draft)
    # The intent is on disk and the post went out, but its publisher died before recording the answer.
    key = "k-died"
    request = pub.render_request(draft, key=key, at=time.time()).as_dict()
    publishing.begin(r, keys, draft, key, request, "dana", time.time())
    pub.send(pub.render_request(draft, key=key, at=time.time()))
    watcher = Watcher(r, keys, {"x": pub})
    assert watcher.reconcile(now=time.time()) == []  # too young: its publisher may still be waiting
    done = watcher.reconcile(now=time.time() + publishing.RECONCILE_AFTER_S + 1)
    assert [d["state"] for d in done] == [publishing.PUBLISHED]
    assert len(x_server.posts) == 1
    assert f"x:{done[0]['result']['id']}" in {k.decode() for k in r.hkeys(keys.published)}


def test_live_publish_from_the_card_then_its_outcome_on_the_card_and_the_executive_view(tmp_path, r, x_server):
    from auth.identity import Identity
    from callbacks.exec import with_responses
    from layouts import exec as exec_ui
    from layouts import measures
    from layouts.framing import card_item
    from store import audit
    from store import cards as card_store
    from web import responses
    from web.roles import view_for
    from web.services import build_services

    event = tmp_path / "event.yaml"
    event.write_text((ROOT / "config" / "superbowl.yaml").read_text().replace("  mode: dry-run", "  mode: live", 1))
    s = build_services(load_settings({"WARROOM_VAR": str(tmp_path / "var"), "WARROOM_EVENT": str(event)}), r)
    assert s.settings.event.publishing.mode == "live"
    now = time.time()
    card = {"id": "c1", "title": "Lights out", "type": "opportunity", "priority": "P1", "status": "drafting"}
    card = card_store.save(
        r, s.keys, {**card, "post_id": "x:1789", "moment": now - 200}, audit.entry("x", "a", "card", "")
    )
    sam = Identity("sam", frozenset({"strategist"}))
    d = responses.create_and_submit(s, sam, "c1", "x", "Still dunking in the dark", respond_as="reply")
    responses.approve(s, Identity("alice", frozenset({"approver"}), frozenset({"brand"})), d["id"])
    responses.approve(s, Identity("carol", frozenset({"approver"}), frozenset({"legal"})), d["id"])
    d = responses.publish(s, sam, d["id"], publisher=publisher_for("x", ENVS["x"](x_server)))
    (sent,) = x_server.posts
    assert sent["body"]["reply"] == {"in_reply_to_tweet_id": "1789"} and d["published"]["id"] == sent["id"]
    assert [e["detail"] for e in audit.query(r, s.keys, action=responses.PUBLISH, limit=10)] == ["published", "intent"]

    post_store.ensure_group(r, s.keys)
    post_store.append(r, s.keys, [fan_post(1, "ha, love this Oreo", reply_to=f"x:{sent['id']}")])
    proc = Processor(s.settings, r, s.keys, consumer="w1")
    assert proc.handle(post_store.read_batch(r, s.keys, "w1", 100, 10)) == 1

    (summary,) = responses.for_card(s, "c1")
    assert summary["outcome"]["replies"] == 1
    drawn = str(card_item(card_store.get(r, s.keys, "c1"), time.time(), view_for(sam, "/"), responses=[summary]))
    assert "1 reply (1 positive, 0 negative)" in drawn
    assert "first post → framed" in drawn and "→ published" in drawn
    cards = with_responses(card_store.all_cards(r, s.keys), responses.by_card(s))
    assert measures.pipeline(cards)["responses"] == 1 and measures.pipeline(cards)["engagement"] == 1
    assert exec_ui.responded(cards[0]["responses"]) == " · 1 response published · 1 engagement"
