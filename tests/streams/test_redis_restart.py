"""kill -9 of the real Valkey and a restart on the same port and data: every post /api/ingest answered 202 for
is still there (the AOF write reached the kernel before the reply), the workers and the aggregator are
working again within 2 s of the server being back, and /api/health says "down" meanwhile, then recovers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import orjson
import pytest

import app as web
from config.settings import load_settings
from store import posts as post_store
from store import snapshot
from store.keys import Keys
from store.server import EmbeddedServer, connect
from streams.aggregator import Aggregator
from streams.processor import Processor

TOKEN = "restart-ingest-token"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
KEYS = Keys("superbowl")


def until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what} not reached within {timeout}s")


@pytest.fixture
def server(tmp_path):
    s = EmbeddedServer(tmp_path / "valkey").start()
    yield s
    s.stop()


def kill9(server: EmbeddedServer) -> None:
    server.process.kill()
    server.process.wait()


def batch(start: int, n: int) -> list[dict]:
    now = datetime.now(UTC).isoformat()
    return [
        {"id": f"webhook:{i}", "author": {"handle": "tool"}, "text": f"post {i}", "created_at": now}
        for i in range(start, start + n)
    ]


def test_every_202_survives_kill_9_of_valkey(server):
    """appendfsync everysec: the reply is sent after the AOF write(2), so a killed server loses nothing it
    acknowledged (only a power cut can take the last second). The kill comes right after the last 202."""
    r = connect(server.url)
    settings = load_settings({"WARROOM_EVENT": "config/superbowl.yaml", "WARROOM_INGEST_TOKEN": TOKEN})
    http = web.create_app(settings, r).server.test_client()
    acknowledged = []
    for start in range(0, 4000, 200):
        resp = http.post("/api/ingest", data=orjson.dumps(batch(start, 200)), headers=AUTH)
        assert resp.status_code == 202
        acknowledged += [f"webhook:{i}" for i in range(start, start + 200)]
    kill9(server)  # within milliseconds of the last 202: far inside the one-second fsync window
    server.restart()
    after = connect(server.url)
    kept = {orjson.loads(f[b"p"])["id"] for _, f in after.xrange(KEYS.stream)}
    assert set(acknowledged) <= kept, f"{len(set(acknowledged) - kept)} acknowledged posts lost"
    after.close()
    r.close()


def test_workers_aggregator_and_health_come_back_within_2s_of_redis(server, caplog):
    settings = load_settings(
        {"REDIS_URL": server.url, "WARROOM_EVENT": "config/superbowl.yaml", "WARROOM_TICK_S": "0.2"}
    )
    r = connect(server.url)
    post_store.ensure_group(r, KEYS)
    stop = threading.Event()
    threads = [
        threading.Thread(target=Processor(settings, connect(server.url), KEYS, consumer="w1").run, args=(stop,)),
        threading.Thread(target=Aggregator(settings, connect(server.url), KEYS).run, args=(stop,)),
    ]
    for t in threads:
        t.daemon = True
        t.start()
    http = web.create_app(settings, connect(server.url)).server.test_client()
    try:
        until(lambda: http.get("/api/health").get_json()["status"] == "ok", 20, "healthy at start")
        kill9(server)
        body = until(lambda: (b := http.get("/api/health").get_json())["status"] == "down" and b, 5, "health down")
        assert body["down"] == ["redis"] and http.get("/api/health").status_code == 503
        # Four failures each: with the old back-off (0.5 s doubling to 30 s) each would now sleep 8 s.
        until(lambda: sum("Redis unavailable" in m for m in caplog.messages) >= 8, 20, "repeated failures")
        server.restart()
        back = time.monotonic()
        version = snapshot.read(r, KEYS)["version"]
        post_store.append_dicts(r, KEYS, [{"id": "sim:after", "source": "simulator", "author": {"handle": "a"},
                                           "text": "after the restart", "created_at": datetime.now(UTC).isoformat()}])  # fmt: skip
        until(lambda: post_store.stats(r, KEYS).get("processed", 0) >= 1, 2.5, "a worker processing again")
        until(lambda: snapshot.read(r, KEYS)["version"] > version, 2.5, "a new snapshot")
        until(lambda: http.get("/api/health").get_json()["status"] == "ok", 3, "health ok again")
        assert time.monotonic() - back < 3.5
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        r.close()
