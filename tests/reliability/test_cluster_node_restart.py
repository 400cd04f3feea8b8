"""Cluster primaries die (kill -9) under the whole pipeline as real processes (`cli.py collect simulator`, two
`cli.py process`, `cli.py aggregate`) and come back on the same ports with their nodes.conf and AOF.

The event is split over three partitions, one per primary. "one-primary" kills the node holding one partition and
the event's shared keys (worker beats, the aggregator's lease, the snapshot): without replicas the cluster is down
while it is (the other primaries answer CLUSTERDOWN once they have marked it failed). "every-primary" kills all
three: no node answers, and the clients cannot rebuild their slot map. Either way every process must wait, not exit,
and carry on once the nodes are back. The nodes keep an AOF fsynced at every write (`appendfsync always`), so
nothing acknowledged is lost with a node: every post the simulator emitted is processed exactly once, and every
partition is served again.

These run on a cluster of their own (the session's cluster is shared with other tests, and these kill nodes); the
last test, which kills nothing, uses the session's.
"""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
import redis

from store import health as health_store
from store import posts as post_store
from store import snapshot
from store.keys import Keys
from store.server import connect
from streams.sources.base import REDIS_ERRORS
from tests.cluster import ValkeyCluster
from tests.pipeline import cli_processes, event_file, until

KEYS = Keys("superbowl", 3)  # the event's keys, as the processes read them (`partitions: 3` in their event file)
NODE_TIMEOUT_MS = 1000  # the survivors mark the dead node failed (cluster_state:fail) within a few seconds


@pytest.fixture
def cluster(tmp_path):
    c = ValkeyCluster(tmp_path / "cluster", appendfsync="always", node_timeout_ms=NODE_TIMEOUT_MS).start()
    yield c
    c.stop()


@pytest.fixture
def r(cluster):
    client = connect(cluster.url)
    yield client
    client.close()


@pytest.fixture
def spawn(cluster, tmp_path):
    env = {
        **os.environ,
        "REDIS_URL": cluster.url,
        "WARROOM_VAR": str(tmp_path),
        "WARROOM_EVENT": str(event_file(tmp_path, 3)),
        "PYTHONUNBUFFERED": "1",
    }
    with cli_processes(env, tmp_path) as start:
        yield start


def processed_by_partition(r) -> list[int]:
    return [int(r.hget(part.stats, "processed") or 0) for part in KEYS.parts()]


def cluster_state(cluster: ValkeyCluster, port: int) -> str:
    info = cluster.node(port).execute_command("CLUSTER", "INFO")
    info = info.decode() if isinstance(info, bytes) else info
    return dict(line.split(":", 1) for line in info.split() if ":" in line)["cluster_state"]


def waited_for_redis(p: subprocess.Popen, since: int) -> bool:
    """Whether the process has logged, past byte `since` of its log, that it waits for Redis (its back-off)."""
    return b"Redis unavailable" in p.log.read_bytes()[since:]


@pytest.mark.parametrize("killed", ["one-primary", "every-primary"])
def test_pipeline_rides_out_primaries_killed_and_restarted(cluster, r, spawn, killed):
    workers = [spawn("process"), spawn("process")]
    aggregator = spawn("aggregate")
    source = spawn("collect", "simulator")
    procs = [*workers, aggregator, source]
    until(lambda: min(processed_by_partition(r)) >= 300, 90, "posts processed on every partition", procs)
    until(lambda: post_store.consumers_active(r, KEYS, 5000) == 2, 30, "both workers reading", procs)
    until(lambda: snapshot.read(r, KEYS), 60, "a snapshot", procs)

    if killed == "one-primary":
        # The primary holding the event's shared keys (worker beats, the aggregator's lease, the snapshot) and one
        # partition; not the seed node of REDIS_URL. The others answer CLUSTERDOWN once they have marked it failed.
        victims = [r.get_node_from_key(KEYS.tag).port]
        assert victims[0] != cluster.ports[0]
        assert sum(r.get_node_from_key(part.stream).port == victims[0] for part in KEYS.parts()) == 1
    else:
        # No node answers: the clients cannot rebuild their slot map from any of them.
        victims = list(cluster.ports)
    for port in victims:
        cluster.kill(port)
    survivors = [p for p in cluster.ports if p not in victims]
    until(lambda: all(cluster_state(cluster, p) == "fail" for p in survivors), 30, "the cluster down", procs)
    # Every process meets the cluster down (it says it waits for Redis) and keeps running.
    logged = {p.pid: p.log.stat().st_size for p in procs}
    for p in procs:
        until(lambda p=p: waited_for_redis(p, logged[p.pid]), 30, f"{p.args[2:]} waiting for Redis", procs)

    cluster.restart(*victims)
    at_restart = processed_by_partition(r)
    until(
        lambda: all(now >= then + 300 for now, then in zip(processed_by_partition(r), at_restart, strict=True)),
        90,
        "posts processed again on every partition",
        procs,
    )
    source.send_signal(signal.SIGTERM)
    assert source.wait(30) == 0

    def settled():
        stats, lag = post_store.stats(r, KEYS), post_store.lag(r, KEYS)
        return (
            lag == {"lag": 0, "pending": 0}
            and stats.get("processed", 0) + stats.get("duplicates", 0) + stats.get("dead", 0) == stats["received"]
        )

    until(settled, 60, "every received post processed exactly once", [*workers, aggregator])
    stats = post_store.stats(r, KEYS)
    # The simulator's post ids are unique (a fresh cluster, one run): every post it emitted is processed or dead
    # once, none lost with a node. A batch sent again after a reply lost in the outage is counted as duplicates.
    emitted = health_store.read_all(r, KEYS)["simulator"]["posts"]
    print(f"{killed}: emitted {emitted}, {stats}")
    assert stats["processed"] + stats.get("dead", 0) == emitted
    processed = stats["processed"]
    until(
        lambda: (snapshot.read(r, KEYS) or {}).get("pipeline", {}).get("processed") == processed,
        30,
        "a snapshot of every post processed",
        [*workers, aggregator],
    )
    assert all(p.poll() is None for p in [*workers, aggregator])


def test_a_command_over_two_slots_is_still_a_bug_not_an_outage(redis_cluster):
    """What the workers wait out (REDIS_ERRORS) is the cluster away, not any RedisClusterException: keys of one
    command or one transaction in different slots still raise, and are no outage."""
    client = connect(redis_cluster.url)
    try:
        with pytest.raises(redis.exceptions.RedisClusterException) as one_command:
            client.execute_command("MGET", "{a}x", "{b}x")
        pipe = client.pipeline(transaction=True)
        pipe.get("{a}x")
        pipe.get("{b}x")
        with pytest.raises(redis.exceptions.RedisClusterException) as transaction:
            pipe.execute()
    finally:
        client.close()
    for raised in (one_command.value, transaction.value):
        assert not isinstance(raised, REDIS_ERRORS), raised
