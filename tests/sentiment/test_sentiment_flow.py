"""Sentiment corrections end to end on the real embedded server: a correction shows on the feed and in the brand's
sentiment sum at once, the aggregator learns it, and every worker labels new posts with the corrected slang right."""

from __future__ import annotations

import dataclasses
import time

import pytest

from analytics.sentiment import label
from analytics.sentiment_learning import warm_up
from config.settings import Settings, load_settings
from store import aggregates, audit
from store import posts as post_store
from store import sentiment as sentiment_store
from streams.aggregator import Aggregator
from streams.processor import MODEL_CHECK_S, Processor

# "sick" is brand-room slang for great; the lexicon reads it as ill (VADER -2.3). Texts of eight words or more
# that differ in a word are not folded together.
SLANG = [
    "that new oreo ad is sick, everyone go watch it",
    "sick halftime spot from oreo tonight, no notes at all",
    "the oreo ad tonight was sick honestly, watched it twice",
    "ok the oreo cookie commercial is sick, did not expect that",
    "that is one sick oreo ad, the lights out bit especially",
    "oreo with the sick ad again, who made this one",
]
# What the room sees and leaves alone: the brand's everyday posts, labelled by the lexicon.
CONTEXT = [
    f"the oreo ad {p} tonight, {w}"
    for p, w in [
        ("is great", "loved it"),
        ("was boring", "meh"),
        ("is on now", "channel four"),
        ("is awful", "turn it off"),
        ("made me laugh", "good job"),
        ("aired again", "third time"),
        ("is so bad", "really bad"),
        ("is fun", "nice"),
        ("is dumb", "why"),
        ("is out", "finally"),
    ]
]
NEW_SLANG = ["honestly the oreo drop this year is sick", "that oreo spot was sick lol, run it back"]
CONTROLS = {
    "the new oreo ad is boring and way too long": "negative",
    "I hate this oreo ad, it is awful": "negative",
    "oreo posted a new ad during the third quarter": "neutral",
    "great oreo commercial, love it": "positive",
}


@pytest.fixture
def settings() -> Settings:
    base = load_settings({})
    event = base.event.model_copy(
        update={"thresholds": base.event.thresholds.model_copy(update={"feed_min_score": -50.0})}
    )
    return dataclasses.replace(base, event=event)


def post(pid: str, text: str, at: float) -> dict:
    return {
        "id": f"webhook:{pid}",
        "source": "webhook",
        "author": {"handle": f"h{pid}"},
        "text": text,
        "created_at": at,
    }


def handle(proc: Processor, r, keys, posts: list[dict], now: float) -> dict[str, dict]:
    post_store.append_dicts(r, keys, posts, now=now)
    while entries := post_store.read_batch(r, keys, proc.consumer, 500, 10):
        proc.handle(entries, now=now)
    bodies = {p["id"]: p for p in aggregates.top_feed(r, keys, 1000)}
    return {p["id"]: bodies[p["id"]] for p in posts}


def brand_sum(r, keys, sec: int) -> float:
    return aggregates.volume_window(r, keys, sec, sec).get("Oreo~s", {}).get(sec, 0.0)


def test_corrections_show_at_once_then_teach_every_worker(r, keys, settings):
    post_store.ensure_group(r, keys)
    now = float(int(time.time()))
    proc = Processor(settings, r, keys, consumer="w1")
    context = handle(proc, r, keys, [post(f"ctx-{i}", t, now) for i, t in enumerate(CONTEXT)], now)
    slang = handle(proc, r, keys, [post(f"slang-{i}", t, now) for i, t in enumerate(SLANG)], now)
    assert all(label(b["sentiment"]) == "negative" for b in slang.values()), "the lexicon misreads the slang"
    before_new = handle(proc, r, keys, [post("new-before", "the new oreo ad in the second quarter is sick", now)], now)
    assert label(before_new["webhook:new-before"]["sentiment"]) == "negative"
    assert context

    warm_up()  # the aggregator builds the lexicon anchors in the background; here, before the first tick
    agg = Aggregator(settings, r, keys)
    agg.tick(now)  # the feed the room sees (and corrects) is the snapshot's
    first = slang["webhook:slang-0"]
    total = brand_sum(r, keys, int(now))
    fix = sentiment_store.correct(
        r, keys, first, "positive", "sam", audit.entry("sam", "post.sentiment", "post", first["id"]), {"Oreo"}
    )
    assert fix["label"] == "positive" and fix["by"] == "sam"
    assert brand_sum(r, keys, int(now)) == pytest.approx(total + 0.6 - first["sentiment"], abs=1e-3)
    # Corrected again (to neutral): the post's share moves from its last correction, not from the lexicon's.
    sentiment_store.correct(
        r, keys, first, "neutral", "kim", audit.entry("kim", "post.sentiment", "post", "x"), {"Oreo"}
    )
    assert brand_sum(r, keys, int(now)) == pytest.approx(total - first["sentiment"], abs=1e-3)
    for b in slang.values():
        sentiment_store.correct(
            r, keys, b, "positive", "sam", audit.entry("sam", "post.sentiment", "post", b["id"]), {"Oreo"}
        )
    assert brand_sum(r, keys, int(now)) == pytest.approx(
        total + sum(0.6 - b["sentiment"] for b in slang.values()), abs=1e-3
    )
    assert audit.query(r, keys, action="post.sentiment", limit=100)[0]["object_id"] == slang["webhook:slang-5"]["id"]

    snap = agg.tick(now + 1)
    shown = {p["id"]: p for p in snap["feed"]}
    assert shown[first["id"]]["sentiment_fix"]["label"] == "positive"
    assert shown[first["id"]]["sentiment_fix"]["by"] == "sam"
    assert "sentiment_fix" not in shown["webhook:ctx-0"]
    assert snap["sentiment_learning"]["corrections"] == len(SLANG) + 2
    assert sentiment_store.model_version(r, keys) == 1
    assert agg.tick(now + 1.5)["sentiment_learning"]["corrections"] == len(SLANG) + 2, "learned once"

    later = now + MODEL_CHECK_S + 1
    new = handle(proc, r, keys, [post(f"new-{i}", t, later) for i, t in enumerate(NEW_SLANG)], later)
    assert proc.sentiment_model is not None and proc.sentiment_model.corrections == len(SLANG) + 2
    assert [label(b["sentiment"]) for b in new.values()] == ["positive"] * len(NEW_SLANG)
    controls = handle(proc, r, keys, [post(f"ctl-{i}", t, later) for i, t in enumerate(CONTROLS)], later)
    assert [label(b["sentiment"]) for b in controls.values()] == list(CONTROLS.values())

    # A restarted aggregator and a new worker start from the saved model.
    assert Aggregator(settings, r, keys).state.sentiment_model.corrections == len(SLANG) + 2
    fresh = Processor(settings, r, keys, consumer="w2")
    again = handle(fresh, r, keys, [post("new-w2", "the oreo ad at halftime was sick tbh", later + 5)], later + 5)
    assert label(again["webhook:new-w2"]["sentiment"]) == "positive"
