"""The test cluster itself and REDIS_URL's cluster spelling: a real three-primary Valkey Cluster."""

import time

import pytest
import redis
import redis.cluster

from config.settings import load_settings, redact
from store import audit
from store.errors import StoreUnavailable
from store.server import connect, is_cluster_url


def test_the_test_cluster_has_three_primaries_covering_every_slot(redis_cluster):
    for port in redis_cluster.ports:
        info = redis_cluster.node(port).execute_command("CLUSTER", "INFO").decode()
        assert "cluster_state:ok" in info and "cluster_slots_assigned:16384" in info
        assert "cluster_known_nodes:3" in info and "cluster_size:3" in info


def test_a_cluster_url_gives_a_cluster_client_that_finds_every_node(redis_cluster):
    assert is_cluster_url(redis_cluster.url) and not is_cluster_url("redis://127.0.0.1:6379/0")
    client = connect(redis_cluster.url)
    try:
        assert isinstance(client, redis.cluster.RedisCluster)
        assert sorted(n.port for n in client.get_primaries()) == sorted(redis_cluster.ports)
        # Keys in the three slot ranges land on three nodes, and the client follows them there.
        names = [f"{{k{i}}}:x" for i in range(30)]
        for name in names:
            client.set(name, name)
        assert [client.get(n).decode() for n in names] == names
        assert len({client.keyslot(n) * 3 // 16384 for n in names}) == 3
    finally:
        client.flushall()
        client.close()


def test_a_cluster_url_needs_its_password(redis_cluster):
    wrong = redis_cluster.url.replace(redis_cluster.password, "wrong")
    with pytest.raises(StoreUnavailable) as err:
        connect(wrong)
    assert "wrong" not in str(err.value) and redis_cluster.password not in str(err.value)


def test_a_single_server_url_still_gives_a_plain_client(redis_server):
    client = connect(redis_server.url)
    assert type(client) is redis.Redis and client.ping()
    client.close()


def test_a_cluster_urls_password_is_redacted(redis_cluster):
    settings = load_settings({"REDIS_URL": redis_cluster.url})
    line = f"connecting to {redis_cluster.url} (password {redis_cluster.password})"
    assert redis_cluster.password not in redact(line, settings)


def test_waitaof_goes_to_the_primary_that_holds_the_events_slot(redis_cluster, keys):
    """Only the node holding the event's slot gets an AOF: durable() is True only if WAITAOF is asked of that node
    (another node, without an AOF, refuses WAITAOF 1 0 and durable() says False)."""
    client = connect(redis_cluster.url)
    owner = client.get_node_from_key(keys.audit)
    node = redis_cluster.node(owner.port)
    node.config_set("appendfsync", "always")  # WAITAOF answers at once, however busy the machine's disk is
    node.config_set("appendonly", "yes")
    try:
        deadline = time.monotonic() + 20
        while node.info("persistence")["aof_rewrite_in_progress"] or not node.info("persistence")["aof_enabled"]:
            assert time.monotonic() < deadline, "the node did not finish turning its AOF on"
            time.sleep(0.02)
        client.xadd(keys.audit, {"e": b"{}"})
        assert audit.durable(client, keys.audit) is True
        assert audit.durable(client) is False  # every primary: the two without an AOF cannot say
    finally:
        node.config_set("appendonly", "no")
        node.config_set("appendfsync", "everysec")
        client.flushall()
        client.close()
