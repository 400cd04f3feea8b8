"""An event split over K partitions (store/keys.py): routing, workers sharing them, and the aggregator's merge.

Run on the single server and on the three-primary cluster, where the partitions' tags land on different primaries.
"""

import dataclasses
import threading
import time

import pytest

from config.settings import load_settings
from store import aggregates, learning, snapshot
from store import audit as audit_store
from store import posts as post_store
from store import sentiment as sentiment_store
from store import workers as worker_store
from store.keys import Keys
from store.partitions import join_cursor, split_cursor
from streams.aggregator import Aggregator
from streams.processor import Processor
from streams.sources.simulator import make_scenario
from tests.pipeline import until

pytestmark = pytest.mark.cluster

K = 3


def settings_with(partitions: int):
    base = load_settings({})
    return dataclasses.replace(base, event=base.event.model_copy(update={"partitions": partitions}))


def burst(r, keys: Keys, settings, now: float, steps: int = 200) -> int:
    """The last `steps / 10` seconds of simulated posts (with the simulator's repeats); returns entries appended."""
    scenario = make_scenario(settings.event.sources.simulator, start_wall=now - steps / 10, rate=300)
    n = 0
    for i in range(steps):
        n += post_store.append_dicts(r, keys, [p for p, _ in scenario.step(i)], now=now - steps / 10 + i * 0.1)
    return n


def test_one_partition_keeps_every_key_name_and_k_partitions_have_a_tag_each():
    one, three = Keys("e"), Keys("e", 3)
    event = settings_with(1).event
    assert one.stream == "{evt:e}:posts:in" and Keys.of(event) == Keys(event.id)
    tags = [p.partition_tag for p in three.parts()]
    assert [p.stream for p in three.parts()] == [f"{t}:posts:in" for t in tags] and len(set(tags)) == 3
    assert all(t.startswith(f"{{evt:e:p{k}") for k, t in enumerate(tags))
    assert {p.cards for p in three.parts()} == {"{evt:e}:cards"}  # the team's keys stay on the event's tag
    ids = [f"x:{i}" for i in range(3000)]
    spread = [three.part_of(i).partition for i in ids]
    assert spread == [three.part_of(i).partition for i in ids]  # the same id always lands on the same partition
    assert all(900 < spread.count(k) < 1100 for k in range(3))
    assert split_cursor("5-1", 3) == ["5-1", "0-0", "0-0"] and split_cursor(join_cursor(["1-0", "2-0"]), 2) == [
        "1-0",
        "2-0",
    ]


def test_workers_share_the_partitions_and_every_partition_has_one():
    assert worker_store.assign(3, ["a"], "a") == [0, 1, 2]
    assert worker_store.assign(3, ["a", "b"], "a") == [0, 2] and worker_store.assign(3, ["a", "b"], "b") == [1]
    assert [worker_store.assign(2, ["a", "b", "c"], w) for w in "abc"] == [[0], [1], [0]]
    for w in range(1, 6):
        live = [f"w{i}" for i in range(w)]
        served = sorted(p for name in live for p in worker_store.assign(4, live, name))
        assert set(served) == {0, 1, 2, 3}


@pytest.mark.parametrize("event_id", ["test", "superbowl", "brand-7"])
def test_the_partitions_land_evenly_on_every_primary_of_a_cluster(r, redis_backend, event_id):
    if redis_backend != "cluster":
        pytest.skip("a single server has one node")
    for k in (3, 6, 12):
        ports = [r.get_node_from_key(p.stream).port for p in Keys(event_id, k).parts()]
        assert sorted(ports.count(port) for port in set(ports)) == [k // 3] * 3, (k, ports)


def test_k_partitions_count_exactly_what_one_partition_counts(r):
    """The same burst through one partition and through three, processed by two real workers: the same counts, the
    same volume and the same hashtags in the snapshot; the feed full and made of the best posts of all three."""
    now = time.time()
    snaps = {}
    for k in (1, K):
        r.flushall()
        settings = settings_with(k)
        keys = Keys.of(settings.event)
        post_store.ensure_group(r, keys)
        appended = burst(r, keys, settings, now)
        assert post_store.backlog(r, keys)[0] == appended
        if k > 1:
            assert all(r.xlen(p.stream) > appended / 5 for p in keys.parts())  # every partition got its share
        stop = threading.Event()
        workers = [
            threading.Thread(target=Processor(settings, r, keys, consumer=f"w{i}").run, args=(stop,), daemon=True)
            for i in range(2)
        ]
        for w in workers:
            w.start()

        def done(keys=keys, appended=appended) -> bool:
            st = post_store.stats(r, keys)
            return st.get("processed", 0) + st.get("duplicates", 0) >= appended

        until(done, 60, "the workers processed every entry")
        if k > 1:  # both workers took partitions
            assert post_store.consumers_active(r, keys, 5000) == 2
        stop.set()
        for w in workers:
            w.join(10)
        assert post_store.lag(r, keys) == {"lag": 0, "pending": 0}
        snaps[k] = (post_store.stats(r, keys), Aggregator(settings, r, keys).tick(now))
    (one_stats, one), (k_stats, many) = snaps[1], snaps[K]
    for name in ("received", "processed", "duplicates"):
        assert one_stats.get(name, 0) == k_stats.get(name, 0), name
    assert one["volume"]["series"] == many["volume"]["series"]
    assert sum(many["volume"]["series"]["all"]) == k_stats["processed"] > 3000
    assert len(many["feed"]) == 100
    ranks = [p["score"] for p in many["feed"]]
    assert ranks[0] >= sorted(ranks)[50]
    assert len({p.get("fold") for p in many["feed"] if p.get("fold")}) == len(
        [p for p in many["feed"] if p.get("fold")]
    )
    assert snapshot.read(r, Keys.of(settings_with(K).event))["version"] == 1


def test_a_near_duplicate_in_another_partition_is_folded_when_the_feeds_merge(r):
    keys = Keys("test", 2)
    a, b = keys.part(0), keys.part(1)
    for part, pid, rank in ((a, "x:1", 9.0), (b, "x:2", 5.0), (b, "x:3", 7.0)):
        fold = "same" if pid != "x:3" else "other"
        r.zadd(part.feed, {pid: rank})
        r.hset(part.bodies, pid, f'{{"id": "{pid}", "fold": "{fold}"}}')
    r.hset(b.similar, "same", 2)
    feed = aggregates.top_feed(r, keys, 10)
    assert [p["id"] for p in feed] == ["x:1", "x:3"]
    assert feed[0]["similar"] == 3  # x:2 and the two it had folded


def test_marks_and_corrections_reach_the_posts_partition_with_their_audit_entry(r):
    keys = Keys("test", K)
    post = next(
        {"id": pid, "source": "webhook", "text": "oreo", "received_at": 1000.0, "series": ["Oreo"], "sentiment": 0}
        for pid in (f"webhook:{i}" for i in range(100))
        if keys.part_of(pid).partition == 2
    )
    part = keys.part_of(post["id"])
    r.zadd(part.feed, {post["id"]: 1.0})
    learning.add_mark(r, keys, post, True, "ana", audit_store.entry("ana", "post.mark", "post", post["id"]))
    assert r.zscore(part.feed, post["id"]) == 3.0
    sentiment_store.correct(
        r, keys, post, "negative", "ana", audit_store.entry("ana", "post.sentiment", "post", post["id"]), {"Oreo"}
    )
    volume = aggregates.volume_window(r, keys, 1000, 1000)
    assert volume["Oreo~s"][1000] < 0
    actions = [e["action"] for e in audit_store.scan(r, keys)]
    assert actions.count("post.mark") == 1 and actions.count("post.sentiment") == 1
