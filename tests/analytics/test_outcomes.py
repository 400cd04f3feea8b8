"""What a published response did, decided in pure code: counting references, merging polls, the card's clock."""

from datetime import UTC, datetime

from analytics import outcomes
from model.enriched import Enriched
from model.post import Author, Post


def enriched(i: int, sentiment: float, **refs) -> Enriched:
    p = Post(
        id=f"x:{i}",
        source="x",
        author=Author(handle=f"fan{i}"),
        text="some words",
        created_at=datetime.now(UTC),
        **refs,
    )
    return Enriched(p, sentiment, 0.0, [], [], [], p.ts)


def test_replies_quotes_and_reposts_of_our_posts_are_counted_with_their_tone():
    ours = {"x:100": "d1", "bluesky:at://did:plc:b/app.bsky.feed.post/3k": "d2"}
    batch = [
        enriched(1, 0.6, reply_to="x:100"),
        enriched(2, -0.7, reply_to="x:100"),
        enriched(3, 0.0, reply_to="x:100"),
        enriched(4, 0.8, quote_of="x:100"),
        enriched(5, 0.9, repost_of="x:100"),  # a repost carries no words of its own: no tone
        enriched(6, 0.9, reply_to="x:999"),  # someone else's post
        enriched(7, 0.2, reply_to="bluesky:at://did:plc:b/app.bsky.feed.post/3k"),
        enriched(8, 0.2),
    ]
    assert outcomes.count(batch, ours) == {
        "d1|replies": 3,
        "d1|quotes": 1,
        "d1|reposts": 1,
        "d1|positive": 2,
        "d1|negative": 1,
        "d2|replies": 1,
        "d2|positive": 1,
    }
    assert outcomes.count(batch, {}) == {}
    assert outcomes.refs([e.post for e in batch]).count("x:100") == 5


def test_the_larger_of_seen_and_polled_counts_and_likes_come_from_the_network():
    seen = outcomes.seen_by_draft({"d1|replies": 4, "d1|reposts": 10, "d1|positive": 3, "junk": 1})
    assert seen == {"d1": {"replies": 4, "reposts": 10, "positive": 3}}
    o = outcomes.merged(seen["d1"], {"likes": 120, "reposts": 7, "replies": 9, "quotes": 0, "at": 50.0})
    assert (o["replies"], o["reposts"], o["likes"], o["quotes"]) == (9, 10, 120, 0)
    assert o["engagement"] == 139 and o["polled_at"] == 50.0 and o["seen"]["replies"] == 4
    assert outcomes.words(o) == "9 replies (3 positive, 0 negative) · 10 reposts · 120 likes"
    assert outcomes.words(outcomes.merged({"quotes": 1}, None)) == "1 quote"
    assert outcomes.words(outcomes.merged(None, None)) == ""


def test_the_card_clock_runs_from_the_first_post_to_published():
    card = {"moment": 1000.0, "created_at": 1065.0}
    drafts = [
        {
            "created_at": 1105.0,
            "state": "published",
            "history": [{"action": "submit", "at": 1110.0}, {"action": "approve", "at": 1200.0}],
            "published": {"at": 1203.0},
        },
        {"created_at": 1300.0, "state": "pending", "history": [{"action": "approve", "at": 1400.0}]},
    ]
    steps = outcomes.milestones(card, drafts)
    assert steps == [
        ("first post", 1000.0),
        ("framed", 1065.0),
        ("drafted", 1105.0),
        ("approved", 1200.0),  # the pending draft's first step is not an approval of the response
        ("published", 1203.0),
    ]
    assert outcomes.clock_words(steps) == (
        "first post → framed 1m 05s → drafted 40s → approved 1m 35s → published 3s (total 3m 23s)"
    )
    assert outcomes.milestones({"created_at": 5.0}, []) == [("framed", 5.0)]


def test_the_feed_marks_our_responses_and_the_posts_that_answer_them():
    feed = [
        {"id": "x:9", "text": "ours"},
        {"id": "x:10", "reply_to": "x:9"},
        {"id": "x:11", "quote_of": "x:9"},
        {"id": "x:12", "reply_to": "x:1"},
    ]
    marked = outcomes.in_feed(feed, {"x:9": "d1"}, {"d1": {"replies": 1}})
    assert marked[0]["ours"] == {"draft": "d1", "outcome": {"replies": 1}}
    assert marked[1]["answers"] == {"draft": "d1", "kind": "replies"} and marked[2]["answers"]["kind"] == "quotes"
    assert "ours" not in marked[3] and "answers" not in marked[3]
    assert "ours" not in feed[0], "the store's feed is not changed"
    assert outcomes.in_feed(feed, {}, {}) is feed
