"""Shared fixtures: the real embedded server (one per session, flushed around each test), and a real three-primary
Valkey Cluster (one per session, started only if a test asks for it).

A test module or test marked `@pytest.mark.cluster` runs twice: against the single server ("single") and against the
cluster ("cluster"); `r` and `redis_url` then point at the one of the run. Unmarked tests run on the single server.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from store.keys import Keys  # noqa: E402
from store.server import EmbeddedServer, connect  # noqa: E402
from tests.cluster import ValkeyCluster  # noqa: E402


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = EmbeddedServer(tmp_path_factory.mktemp("valkey")).start()
    yield server
    server.stop()


BACKENDS = ("single", "cluster")


def pytest_generate_tests(metafunc):
    if "redis_backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("cluster"):
        metafunc.parametrize("redis_backend", BACKENDS)
    if "keys" in metafunc.fixturenames and metafunc.definition.get_closest_marker("partitions"):
        metafunc.parametrize("keys", [1, 3], ids=["1-partition", "3-partitions"], indirect=True)


@pytest.fixture
def redis_backend() -> str:
    """ "single" unless the test is marked `cluster` (then parametrized over both)."""
    return "single"


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory):
    cluster = ValkeyCluster(tmp_path_factory.mktemp("valkey-cluster")).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_url(redis_backend, request) -> str:
    if redis_backend == "cluster":
        return request.getfixturevalue("redis_cluster").url
    return request.getfixturevalue("redis_server").url


@pytest.fixture
def r(redis_url):
    client = connect(redis_url)
    client.flushall()  # on a cluster: on every primary
    yield client
    client.flushall()
    client.close()


@pytest.fixture
def keys(request) -> Keys:
    """The test event's keys: one partition, or (marked `partitions`) one and three."""
    return Keys("test", getattr(request, "param", 1))


@pytest.fixture
def shared() -> Path:
    return SHARED
