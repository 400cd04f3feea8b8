"""The whole pipeline as real processes (`cli.py collect simulator`, two `cli.py process`, `cli.py aggregate`) given
only REDIS_URL: on the single embedded server and on the three-primary cluster. Posts flow from the simulator through
both workers into snapshots; every post received is processed exactly once. Also with the event split over three
partitions (on the cluster: one per primary), which the two workers share."""

from __future__ import annotations

import os
import signal

import pytest

from store import posts as post_store
from store import snapshot
from store.keys import Keys
from tests.pipeline import cli_processes, event_file, until

pytestmark = pytest.mark.cluster


@pytest.fixture(params=[1, 3], ids=["1-partition", "3-partitions"])
def partitions(request) -> int:
    return request.param


@pytest.fixture
def spawn(redis_url, tmp_path, partitions):
    env = {**os.environ, "REDIS_URL": redis_url, "WARROOM_VAR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    if partitions > 1:
        env["WARROOM_EVENT"] = str(event_file(tmp_path, partitions))
    with cli_processes(env, tmp_path) as start:
        yield start


def test_simulated_posts_flow_through_two_workers_into_snapshots(r, spawn, partitions):
    KEYS = Keys("superbowl", partitions)  # noqa: N806 - the event's keys, as the processes read them
    workers = [spawn("process"), spawn("process")]
    aggregator = spawn("aggregate")
    source = spawn("collect", "simulator")
    procs = [*workers, aggregator, source]
    until(lambda: post_store.stats(r, KEYS).get("processed", 0) >= 2000, 90, "2000 posts processed", procs)
    until(lambda: post_store.consumers_active(r, KEYS, 5000) == 2, 30, "both workers reading", procs)
    source.send_signal(signal.SIGTERM)
    source.wait(30)

    def settled():
        stats, lag = post_store.stats(r, KEYS), post_store.lag(r, KEYS)
        return (
            lag == {"lag": 0, "pending": 0}
            and stats.get("processed", 0) + stats.get("duplicates", 0) + stats.get("dead", 0) == stats["received"]
        )

    until(settled, 60, "every received post processed", [*workers, aggregator])
    processed = post_store.stats(r, KEYS)["processed"]
    until(lambda: (snapshot.read(r, KEYS) or {}).get("pipeline", {}).get("processed") == processed, 30, "a snapshot")
    snap = snapshot.read(r, KEYS)
    assert snap["feed"] and sum(snap["volume"]["series"]["all"]) > 0
    assert all(int(r.hget(part.stats, "processed") or 0) > processed / 5 for part in KEYS.parts())
