"""Shared fixtures: the real embedded server (one per session, flushed around each test)."""

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


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = EmbeddedServer(tmp_path_factory.mktemp("valkey")).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    return redis_server.url


@pytest.fixture
def r(redis_server):
    client = connect(redis_server.url)
    client.flushall()
    yield client
    client.flushall()
    client.close()


@pytest.fixture
def keys() -> Keys:
    return Keys("test")


@pytest.fixture
def shared() -> Path:
    return SHARED
