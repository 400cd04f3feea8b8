"""Processor workers against the real embedded server: counts, feed, dead letters, crash re-delivery."""

import gc
import threading
import time
import weakref
from datetime import UTC, datetime

import pytest

from config.settings import load_settings
from model.post import Author, Engagement, Post
from store import aggregates
from store import posts as post_store
from streams.processor import Processor

pytestmark = pytest.mark.cluster  # on the single server and on a three-primary cluster


@pytest.fixture
def settings():
    return load_settings({})


def post(i: int, text: str, followers: int = 100, **kw) -> Post:
    return Post(
        id=f"webhook:{i}",
        source="webhook",
        author=Author(handle=f"user{i}", followers=followers),
        text=text,
        created_at=datetime.now(UTC),
        hashtags=kw.pop("hashtags", []),
        engagement=Engagement(),
        **kw,
    )


def word(i: int) -> str:
    """A distinct letters-only word per number (digits are ignored when folding near-duplicates)."""
    out = ""
    while True:
        out += "abcdefghijklmnopqrstuvwxyz"[i % 26]
        i //= 26
        if not i:
            return out


def run_once(proc: Processor, r, keys, consumer="w1"):
    entries = post_store.read_batch(r, keys, consumer, 1000, 10)
    return proc.handle(entries) if entries else 0


def test_posts_are_counted_per_series_and_ranked(r, keys, settings):
    post_store.ensure_group(r, keys)
    proc = Processor(settings, r, keys, consumer="w1")
    post_store.append(
        r,
        keys,
        [
            post(1, "Dunking an Oreo in the dark #blackout", followers=2_000_000, hashtags=["blackout"]),
            post(2, "the lights went out lol #blackout", hashtags=["blackout"]),
            post(3, "Chips Ahoy ad was fun"),
        ],
        now=1_000_000.0,
    )
    assert run_once(proc, r, keys) == 3
    window = aggregates.volume_window(r, keys, 999_990, 1_000_010)
    assert window["all"][1_000_000] == 3
    assert window["Oreo"][1_000_000] == 1 and window["Blackout"][1_000_000] == 2
    assert window["Chips Ahoy"][1_000_000] == 1 and window["src:webhook"][1_000_000] == 3
    feed = aggregates.top_feed(r, keys, 10)
    assert feed[0]["id"] == "webhook:1"
    assert any("mentions Oreo" in reason for reason in feed[0]["reasons"])
    assert post_store.stats(r, keys)["processed"] == 3


def test_malformed_entry_is_dead_lettered_and_the_batch_goes_on(r, keys, settings):
    post_store.ensure_group(r, keys)
    r.xadd(keys.stream, {"p": b'{"id": "x:1", "text": "no author or source"}'})
    r.xadd(keys.stream, {"other": b"no post field"})
    post_store.append(r, keys, [post(1, "fine post")])
    proc = Processor(settings, r, keys, consumer="w1")
    assert run_once(proc, r, keys) == 1
    stats = post_store.stats(r, keys)
    assert stats["dead"] == 2 and stats["processed"] == 1
    reasons = [d["reason"] for d in post_store.dead_letters(r, keys)]
    assert any("source" in reason or "author" in reason for reason in reasons)
    assert post_store.lag(r, keys)["pending"] == 0  # dead letters are acknowledged too


def test_crashed_worker_batch_is_reclaimed_and_counted_once(r, keys, settings):
    post_store.ensure_group(r, keys)
    post_store.append(r, keys, [post(i, f"Oreo post {word(i)}") for i in range(10)], now=2_000_000.0)
    post_store.read_batch(r, keys, "crashed", 100, 10)  # read, then the worker dies before XACK
    survivor = Processor(settings, r, keys, consumer="survivor")
    assert survivor.handle(post_store.claim_stale(r, keys, "survivor", 0, 100)) == 10
    # A late re-delivery of the same entries (e.g. the crashed worker was only slow) counts nothing.
    r.xadd(keys.stream, {"p": post(3, f"Oreo post {word(3)}").to_json()})
    assert run_once(survivor, r, keys, "survivor") == 0
    assert aggregates.volume_window(r, keys, 1_999_990, 2_000_010)["Oreo"][2_000_000] == 10
    assert post_store.stats(r, keys)["duplicates"] == 1


def test_feed_stays_bounded(r, keys, settings):
    post_store.ensure_group(r, keys)
    proc = Processor(settings, r, keys, consumer="w1")
    size = settings.event.thresholds.feed_size
    for chunk in range(3):
        post_store.append(
            r, keys, [post(chunk * 1000 + i, f"Oreo cookie flavour {word(chunk * 1000 + i)}") for i in range(size)]
        )
        run_once(proc, r, keys)
    aggregates.trim_feeds(r, keys, ["webhook"], size)
    assert r.zcard(keys.feed) == size
    assert r.hlen(keys.bodies) <= size + aggregates.SOURCE_FEED_SIZE


def test_retweets_and_copy_paste_fold_into_one_feed_item(r, keys, settings):
    post_store.ensure_group(r, keys)
    proc = Processor(settings, r, keys, consumer="w1")
    original = "The Oreo blackout tweet is the best thing tonight, the whole room is laughing about it"
    post_store.append(r, keys, [post(1, original, followers=500_000)])
    run_once(proc, r, keys)
    post_store.append(r, keys, [post(i, f"RT @user1: {original}") for i in range(2, 12)])
    run_once(proc, r, keys)
    feed = aggregates.top_feed(r, keys, 50)
    assert [p["id"] for p in feed] == ["webhook:1"]
    assert feed[0]["similar"] == 10


def test_copy_paste_spam_from_throwaway_accounts_is_demoted(r, keys, settings):
    post_store.ensure_group(r, keys)
    proc = Processor(settings, r, keys, consumer="w1")
    spam = "Best Oreo deals of the Super Bowl night are here for everyone watching"
    post_store.append(r, keys, [post(i, f"{spam} https://spam.example/{i}", followers=3) for i in range(8)])
    run_once(proc, r, keys)
    bodies = [p for p in aggregates.top_feed(r, keys, 50)]
    assert len(bodies) == 1  # the first copy only
    assert post_store.stats(r, keys)["processed"] == 8


def test_reposted_author_gains_influence(r, keys, settings):
    post_store.ensure_group(r, keys)
    proc = Processor(settings, r, keys, consumer="w1")
    post_store.append(r, keys, [post(i, f"RT @famous: something about cookies {word(i)}") for i in range(30)])
    run_once(proc, r, keys)
    post_store.append(
        r,
        keys,
        [
            post(100, "Oreo in the dark", followers=2000),
            Post(
                id="webhook:famous",
                source="webhook",
                author=Author(handle="famous", followers=2000),
                text="Oreo in the dark tonight",
                created_at=datetime.now(UTC),
            ),
        ],
    )
    run_once(proc, r, keys)
    famous = next(p for p in aggregates.top_feed(r, keys, 50) if p["id"] == "webhook:famous")
    other = next(p for p in aggregates.top_feed(r, keys, 50) if p["id"] == "webhook:100")
    assert famous["score"] > other["score"]
    assert any("reposted 30x" in reason for reason in famous["reasons"])


def test_a_running_worker_collects_cycles_between_batches_and_restores_the_collector(r, keys, settings):
    """Automatic collection is off while the loop runs (it fell inside stream reads); cycles are freed after a
    batch, and the collector is back on once the worker stops."""

    class Node:
        pass

    assert gc.isenabled()
    stop = threading.Event()
    proc = Processor(settings, r, keys, consumer="w1")
    worker = threading.Thread(target=proc.run, args=(stop,), daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while gc.isenabled() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not gc.isenabled(), "the worker runs with automatic collection off"
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
        del a, b
        post_store.append(r, keys, [post(1, "Dunking an Oreo in the dark")], now=1_000_000.0)
        while (ref() is not None or proc.processed < 1) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.processed == 1
        assert ref() is None, "the cycle is freed once the worker is between batches"
    finally:
        stop.set()
        worker.join(10)
    assert gc.isenabled()
