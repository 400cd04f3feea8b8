"""Relevance marks end to end on the real embedded server: the feed moves at once, the model learns, workers use it."""

from __future__ import annotations

import dataclasses
import time

import pytest

from config.settings import Settings, load_settings
from store import aggregates, audit
from store import learning as learning_store
from store import posts as post_store
from streams.aggregator import Aggregator
from streams.processor import MODEL_CHECK_S, Processor
from tests.pipeline import drain

pytestmark = [pytest.mark.cluster, pytest.mark.partitions]  # single server and cluster; one partition and three

# What the room cares about, and what it does not. Under eight words a text is folded only with exact copies,
# so one different word per post keeps every post its own feed entry.
RELEVANT = "dunk a cookie in milk {w}"
IRRELEVANT = "quarterback threw another interception {w}"
WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
]


@pytest.fixture
def settings() -> Settings:
    """The demo event, with every processed post admitted to the feed so its score can be read back."""
    base = load_settings({})
    event = base.event.model_copy(
        update={"thresholds": base.event.thresholds.model_copy(update={"feed_min_score": -50.0})}
    )
    return dataclasses.replace(base, event=event)


def mark_entry(body: dict) -> dict:
    return audit.entry("sam", "post.mark", "post", body["id"])


def post(pid: str, text: str, at: float) -> dict:
    return {
        "id": f"webhook:{pid}",
        "source": "webhook",
        "author": {"handle": f"h{pid}", "followers": 500},
        "text": text,
        "created_at": at,
    }


def handle_posts(proc: Processor, r, keys, posts: list[dict], now: float) -> dict[str, dict]:
    """Append and process posts with the given Processor; returns their feed bodies by id."""
    post_store.append_dicts(r, keys, posts, now=now)
    drain(proc, r, keys, proc.consumer, now)
    bodies = {p["id"]: p for p in aggregates.top_feed(r, keys, 1000)}
    return {p["id"]: bodies[p["id"]] for p in posts if p["id"] in bodies}


def scores(bodies: dict[str, dict], prefix: str) -> list[float]:
    return [b["score"] for pid, b in bodies.items() if pid.startswith(f"webhook:{prefix}")]


def in_feed(r, keys) -> dict[str, float]:
    return {k.decode(): s for part in keys.parts() for k, s in r.zrange(part.feed, 0, -1, withscores=True)}


def test_marks_move_the_feed_at_once_then_teach_every_worker(r, keys, settings):
    post_store.ensure_group(r, keys)
    now = time.time()
    proc = Processor(settings, r, keys, consumer="w1")
    # Before any mark: posts of both kinds, ranked by the rules alone.
    before = handle_posts(
        proc,
        r,
        keys,
        [post(f"rel-before-{i}", RELEVANT.format(w=w), now) for i, w in enumerate(WORDS[:4])]
        + [post(f"irr-before-{i}", IRRELEVANT.format(w=w), now) for i, w in enumerate(WORDS[:4])],
        now,
    )
    assert len(before) == 8, "every post is in the feed before marking"
    assert not any(r_.startswith("learned") for b in before.values() for r_ in b["reasons"])

    # Marks from the room: "not relevant" leaves the feed at once, "relevant" rises at once.
    to_mark = handle_posts(
        proc,
        r,
        keys,
        [post(f"rel-mark-{i}", RELEVANT.format(w=w), now) for i, w in enumerate(WORDS[4:10])]
        + [post(f"irr-mark-{i}", IRRELEVANT.format(w=w), now) for i, w in enumerate(WORDS[4:10])],
        now,
    )
    feed = in_feed(r, keys)
    for pid, body in to_mark.items():
        learning_store.add_mark(r, keys, body, pid.startswith("webhook:rel"), "sam", mark_entry(body))
    after_marks = in_feed(r, keys)
    for pid in to_mark:
        if pid.startswith("webhook:irr"):
            assert pid not in after_marks
        else:
            assert after_marks[pid] == pytest.approx(feed[pid] + 2.0)
    assert learning_store.marks_count(r, keys) == 12

    # The aggregator folds the marks into the shared model and says so in the snapshot.
    agg = Aggregator(settings, r, keys)
    assert agg.tick(now)["learning"] == {"marks": 12, "ready": True}
    assert learning_store.version(r, keys) == 1
    assert agg.tick(now + 0.5)["learning"]["marks"] == 12, "marks are learned once"

    # The running worker picks the new version up on its next check.
    later = now + MODEL_CHECK_S + 1
    after = handle_posts(
        proc,
        r,
        keys,
        [post(f"rel-after-{i}", RELEVANT.format(w=w), later) for i, w in enumerate(WORDS[10:14])]
        + [post(f"irr-after-{i}", IRRELEVANT.format(w=w), later) for i, w in enumerate(WORDS[10:14])],
        later,
    )
    assert proc.model is not None and proc.model.marks == 12
    rel_after = [b for pid, b in after.items() if pid.startswith("webhook:rel")]
    assert len(rel_after) == 4 and all(any(x.startswith("learned: ") for x in b["reasons"]) for b in rel_after)
    assert min(scores(after, "rel-after")) > max(scores(before, "rel-before"))
    irr_after = [b for pid, b in after.items() if pid.startswith("webhook:irr")]
    assert len(irr_after) == 4 and all(any(x.startswith("learned: ") for x in b["reasons"]) for b in irr_after)
    assert max(scores(after, "irr-after")) < min(scores(before, "irr-before"))

    # More marks: the count in the snapshot grows.
    learning_store.add_mark(
        r, keys, after["webhook:rel-after-0"], True, "sam", mark_entry(after["webhook:rel-after-0"])
    )
    assert agg.tick(later + 1)["learning"]["marks"] == 13
    assert learning_store.version(r, keys) == 2


def test_learned_model_survives_a_restart(r, keys, settings):
    post_store.ensure_group(r, keys)
    now = time.time()
    proc = Processor(settings, r, keys, consumer="w1")
    marked = handle_posts(
        proc,
        r,
        keys,
        [post(f"rel-{i}", RELEVANT.format(w=w), now) for i, w in enumerate(WORDS[:3])]
        + [post(f"irr-{i}", IRRELEVANT.format(w=w), now) for i, w in enumerate(WORDS[:3])],
        now,
    )
    for pid, body in marked.items():
        learning_store.add_mark(r, keys, body, pid.startswith("webhook:rel"), "sam", mark_entry(body))
    assert Aggregator(settings, r, keys).tick(now)["learning"]["marks"] == 6

    # A new aggregator and a new worker (a restart) start from the stored model, not from the rules.
    agg = Aggregator(settings, r, keys)
    assert agg.model.marks == 6 and agg.marks_cursor != "0-0"
    assert agg.tick(now + 1)["learning"] == {"marks": 6, "ready": True}, "marks are not learned twice"
    fresh = Processor(settings, r, keys, consumer="w2")
    post_store.ensure_group(r, keys)
    shown = handle_posts(fresh, r, keys, [post("rel-new", RELEVANT.format(w="zulu"), now + 2)], now + 2)
    (reasons,) = [b["reasons"] for b in shown.values()]
    assert any(x.startswith("learned: ") and "+" in x for x in reasons), reasons
