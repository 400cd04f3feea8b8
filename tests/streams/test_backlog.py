"""The posts backlog against the real embedded server: nothing is trimmed before every group acknowledged it,
the lag is the true count, a backlog over budget holds ingest back (sinks wait or buffer and count drops,
/api/ingest answers 503) and drains once the workers run."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import orjson
import pytest
import redis.cluster

import app as web
from config.settings import Backlog, load_settings
from model.post import Author, Post
from store import posts as post_store
from store import tokens
from store.keys import GROUP, Keys
from streams.processor import Processor
from streams.sources.base import Pressure, Sink
from streams.sources.webhook import BACKLOG_RETRY_AFTER_S

pytestmark = pytest.mark.cluster  # on the single server and on a three-primary cluster

TOKEN = "backlog-ingest-token"
NOW = datetime.now(UTC).isoformat()
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def settings_with(budget: Backlog | None = None, **env):
    settings = load_settings({"WARROOM_EVENT": "config/superbowl.yaml", **env})
    if budget is not None:
        object.__setattr__(settings, "event", settings.event.model_copy(update={"backlog": budget}))
    return settings


def post(i: int) -> Post:
    return Post(
        id=f"webhook:{i}",
        source="webhook",
        author=Author(handle=f"user{i % 50}"),
        text=f"#SuperBowl post number {i}",
        created_at=datetime.now(UTC),
    )


def dicts(n: int, start: int = 0) -> list[dict]:
    now = datetime.now(UTC).isoformat()
    return [
        {
            "id": f"sim:{i}",
            "source": "simulator",
            "author": {"handle": f"u{i % 50}"},
            "text": f"post {i}",
            "created_at": now,
        }
        for i in range(start, start + n)
    ]


def stream_ids(r, keys) -> list[str]:
    return [orjson.loads(f[b"p"])["id"] for _, f in r.xrange(keys.stream)]


def until(check, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what} not reached within {timeout}s")


@pytest.fixture
def keys() -> Keys:
    return Keys("superbowl")  # the event the app below is built for


@pytest.fixture
def workers(r, keys):
    """Real processors in threads (`start(n)`), stopped at the end."""
    stop, threads = threading.Event(), []

    def start(n: int = 1):
        for _ in range(n):
            proc = Processor(settings_with(), r, keys, consumer=f"w{len(threads) + 1}")
            t = threading.Thread(target=proc.run, args=(stop,), daemon=True)
            t.start()
            threads.append(t)

    yield start
    stop.set()
    for t in threads:
        t.join(10)


def processed(r, keys) -> int:
    return post_store.stats(r, keys).get("processed", 0)


# Trimming -----------------------------------------------------------------------------------------------------


def stream_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq)


def test_nothing_is_trimmed_before_every_group_has_acknowledged_it(r, keys):
    post_store.append(r, keys, [post(i) for i in range(2000)])
    post_store.ensure_group(r, keys)
    r.xgroup_create(keys.stream, "audit", id="0")  # a second reader: its needs count too
    ids = [i.decode() for i, _ in r.xrange(keys.stream)]
    assert post_store.trim_acknowledged(r, keys) == 0, "nothing read yet: nothing may go"

    read = post_store.read_batch(r, keys, "w1", 500, 10)  # read, not acknowledged (a worker mid-batch)
    assert len(read) == 500 and post_store.trim_acknowledged(r, keys) == 0
    Processor(settings_with(), r, keys, consumer="w1").handle(read)  # acknowledged by the processors
    assert post_store.trim_acknowledged(r, keys) == 0, "the audit group has read nothing"

    audit = r.xreadgroup("audit", "a1", {keys.stream: ">"}, count=2000)[0][1]
    r.xack(keys.stream, "audit", *[i for i, _ in audit[:1500]])  # audit is ahead of the processors now
    assert post_store.safe_trim_id(r, keys) == ids[499], "the processors' last acknowledged entry"
    removed = post_store.trim_acknowledged(r, keys)
    left = [i.decode() for i, _ in r.xrange(keys.stream)]
    assert 0 < removed <= 499 and left == ids[removed:], "only acknowledged entries, oldest first"

    more = post_store.read_batch(r, keys, "w1", 1000, 10)  # the processors read 1000 more, ack none
    assert post_store.safe_trim_id(r, keys) == ids[500], "the oldest pending entry holds the point"
    post_store.trim_acknowledged(r, keys)
    first = [i.decode() for i, _ in r.xrange(keys.stream)][0]
    assert stream_id(first) <= stream_id(ids[500])  # ids compare as (ms, seq) numbers, not as text
    assert len(more) == 1000


def test_a_backlog_past_the_old_maxlen_is_kept_whole_then_processed_exactly_once(r, keys, workers):
    """Workers stopped while 210,000 posts arrive (the old MAXLEN ~ 200000 kept 200,000): all are kept, the lag
    says so, and once a worker runs every one is processed and the stream trimmed behind it."""
    n = 210_000
    post_store.ensure_group(r, keys)
    for start in range(0, n, 5000):
        post_store.append_dicts(r, keys, dicts(5000, start))
    assert r.xlen(keys.stream) == n
    assert post_store.trim_acknowledged(r, keys) == 0
    assert post_store.lag(r, keys) == {"lag": n, "pending": 0}
    workers(1)
    until(lambda: processed(r, keys) == n, timeout=120, what="every post processed")
    assert post_store.stats(r, keys).get("duplicates", 0) == 0 and post_store.stats(r, keys).get("dead", 0) == 0
    until(lambda: r.xlen(keys.stream) < 1000, what="the acknowledged stream trimmed by the worker")
    assert post_store.lag(r, keys)["lag"] == 0


# Lag ------------------------------------------------------------------------------------------------------------


def test_lag_is_the_entries_after_the_group_even_when_the_servers_figure_is_wrong_or_null(r, keys):
    post_store.ensure_group(r, keys)
    post_store.append_dicts(r, keys, dicts(300))
    post_store.read_batch(r, keys, "w1", 100, 10)
    assert post_store.lag(r, keys) == {"lag": 200, "pending": 100}
    # An entry deleted after the group's position makes XINFO's lag null (the old health said 0).
    r.xdel(keys.stream, r.xrevrange(keys.stream, count=1)[0][0])
    assert r.xinfo_groups(keys.stream)[0]["lag"] is None
    assert post_store.lag(r, keys)["lag"] == 199
    # A cap at XADD (what the old code did) trims past the group: XINFO counts entries that are gone.
    r.delete(keys.stream)
    post_store.ensure_group(r, keys)
    post_store.append_dicts(r, keys, dicts(500))
    post_store.read_batch(r, keys, "w1", 100, 10)
    for _ in range(3000):
        r.xadd(keys.stream, {"p": b"{}"}, maxlen=1000, approximate=False)
    assert r.xinfo_groups(keys.stream)[0]["lag"] == 3400 and r.xlen(keys.stream) == 1000
    assert post_store.lag(r, keys)["lag"] == 1000, "every entry left is after the group's position"


# Backpressure -----------------------------------------------------------------------------------------------


def xlen_calls(r, keys) -> int:
    """XLEN calls the server holding the posts stream has answered (on a cluster: that one primary)."""
    if isinstance(r, redis.cluster.RedisCluster):
        info = r.info("commandstats", target_nodes=r.get_node_from_key(keys.stream))
    else:
        info = r.info("commandstats")
    return info.get("cmdstat_xlen", {}).get("calls", 0)


def fill(r, keys, n: int) -> None:
    post_store.ensure_group(r, keys)
    post_store.append_dicts(r, keys, dicts(n, start=1_000_000))


def test_a_polling_sink_waits_while_over_budget_and_writes_once_the_workers_drain(r, keys, workers):
    fill(r, keys, 1200)
    stop = threading.Event()
    sink = Sink(r, keys, "rss", pressure=Pressure(r, keys, Backlog(max_entries=1000)), stop=stop)
    done = threading.Event()
    calls_before = xlen_calls(r, keys)
    t = threading.Thread(target=lambda: (sink.emit([post(1), post(2)]), done.set()), daemon=True)
    t.start()
    assert not done.wait(1.0), "emit returned while the backlog was over budget"
    checks = xlen_calls(r, keys) - calls_before
    assert 2 <= checks <= 6, f"the budget is asked about 4 times a second, not in a loop ({checks})"
    assert "webhook:1" not in stream_ids(r, keys)
    workers(1)
    assert done.wait(30), "emit did not resume after the workers drained the backlog"
    until(lambda: processed(r, keys) == 1202, what="everything processed")
    stop.set()


def test_a_sink_ends_its_wait_on_stop_and_keeps_the_batch(r, keys):
    fill(r, keys, 1200)
    stop = threading.Event()
    sink = Sink(r, keys, "rss", pressure=Pressure(r, keys, Backlog(max_entries=1000)), stop=stop)
    t = threading.Thread(target=sink.emit, args=([post(7)],), daemon=True)
    t.start()
    until(lambda: sink.pressure.over(), what="held back")
    stop.set()
    t.join(5)
    assert not t.is_alive() and "webhook:7" in stream_ids(r, keys), "stopping does not lose the batch in hand"


def test_a_streaming_sink_buffers_boundedly_counts_what_it_drops_and_health_says_so(r, keys, workers):
    fill(r, keys, 1200)
    sink = Sink(r, keys, "bluesky", pressure=Pressure(r, keys, Backlog(max_entries=1000)), buffer=100)
    started = time.monotonic()
    for i in range(150):
        assert sink.emit([post(i)]) == 1
    assert time.monotonic() - started < 2, "a streaming sink never blocks the stream it reads"
    assert [p.id for p in sink._held] == [f"webhook:{i}" for i in range(50, 150)], "the oldest 50 were dropped"
    sink.flush(force=True)
    assert post_store.dropped(r, keys) == {"bluesky": 50}
    dash_app = web.create_app(settings_with(Backlog(max_entries=1000), WARROOM_INGEST_TOKEN=TOKEN), r)
    body = dash_app.server.test_client().get("/api/health", headers=reader(r, keys)).get_json()
    assert body["status"] != "ok" and body["pipeline"]["dropped_by_source"] == {"bluesky": 50}
    assert any("50 posts were dropped" in p for p in body["problems"])
    assert any("ingest is held back" in p for p in body["problems"]) and body["pipeline"]["backlog"]["held_back"]
    workers(1)
    until(lambda: sink.flush() or not sink.held, what="the buffer drained once under budget")
    until(lambda: processed(r, keys) == 1300, what="everything kept processed")
    assert post_store.dropped(r, keys) == {"bluesky": 50}, "a drop is counted once"


def test_ingest_over_budget_is_503_with_retry_after_loses_nothing_and_accepts_again_once_drained(r, keys, workers):
    budget = Backlog(max_entries=1000)
    dash_app = web.create_app(settings_with(budget, WARROOM_INGEST_TOKEN=TOKEN), r)
    http = dash_app.server.test_client()
    assert dash_app.services.keys == keys
    dash_app.services.ingest.pressure.every_s = 0  # ask the budget on every request: the 503 comes exactly when due
    post_store.ensure_group(r, keys)
    accepted, refused, i = [], None, 0
    while refused is None:
        batch = [
            {"id": f"webhook:{i + j}", "author": {"handle": "tool"}, "text": f"#SuperBowl {i + j}", "created_at": NOW}
            for j in range(200)
        ]
        resp = http.post("/api/ingest", data=orjson.dumps(batch), headers=AUTH)
        if resp.status_code == 202:
            accepted += [p["id"] for p in batch]
        else:
            refused = resp
        i += 200
        assert i < 5000, "ingest never pushed back"
    body = refused.get_json()
    assert refused.status_code == 503 and refused.headers["Retry-After"] == str(BACKLOG_RETRY_AFTER_S)
    assert "backlog is over its budget" in body["error"] and "not accepted" in body["error"]
    assert body["reason"] == "backlog over budget"
    assert sorted(stream_ids(r, keys)) == sorted(accepted), "every 202 is in the stream, nothing else"
    health = http.get("/api/health", headers=reader(r, keys)).get_json()
    assert health["pipeline"]["consumer_lag"] == len(accepted) and health["pipeline"]["backlog"]["held_back"]
    assert "workers" in health["down"] and health["status"] == "degraded"

    workers(1)
    until(lambda: processed(r, keys) == len(accepted), what="the backlog drained")
    last = orjson.dumps([{"id": "webhook:last", "author": {"handle": "tool"}, "text": "x", "created_at": NOW}])
    retry = until(
        lambda: resp if (resp := http.post("/api/ingest", data=last, headers=AUTH)).status_code == 202 else None,
        what="ingest accepted again",
    )
    assert retry.get_json()["accepted"] == 1
    until(lambda: processed(r, keys) == len(accepted) + 1, what="the last post processed")
    assert r.xinfo_groups(keys.stream)[0]["name"].decode() == GROUP


def reader(r, keys) -> dict:
    """An API token's header: outsiders get only the status from /api/health, the room's tools everything."""
    token, _ = tokens.create_api_token(r, keys, "backlog test", ["read"], actor="test")
    return {"Authorization": f"Bearer {token}"}
