"""The JSON API of the real stack (`cli.py up`, simulator only) over real HTTP: health, snapshot, ingest."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import orjson
import pytest

from store.keys import Keys
from store.server import connect, running_embedded_url
from tests.web.stack import PASSWORD, TOKEN, Stack, event_file

EVENT_ID = "superbowl"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api")
    s = Stack(tmp / "var", event_file(tmp, rate=60)).start(timeout=120)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def r(stack):
    url = running_embedded_url(stack.var / "redis")
    assert url, "the stack's embedded server is not running"
    client = connect(url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(EVENT_ID)


def raw_request(
    stack: Stack, path: str, body: bytes | None = None, headers: dict | None = None, method: str | None = None
) -> tuple[int, bytes]:
    """A raw request; with no `headers`, it carries the stack's API token (as a monitoring tool would)."""
    req = urllib.request.Request(
        stack.url + path,
        data=body,
        method=method or ("POST" if body is not None else "GET"),
        headers=stack.headers() if headers is None else headers,
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def ingest(stack: Stack, body: bytes, token: str | None = TOKEN) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    status, raw = raw_request(stack, "/api/ingest", body, headers)
    return status, json.loads(raw or b"{}")


def eventually(fn, timeout: float = 30.0, every: float = 0.3):
    """Call `fn` until it returns something truthy; return that, or fail with its last value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"not true within {timeout}s; last value: {last!r}")


def post(i: str, text: str = "Oreo in the dark, what a dunk", followers: int = 5_000_000, **kw) -> dict:
    return {
        "id": f"webhook:{i}",
        "source": "webhook",
        "author": {"handle": f"fan_{i}", "followers": followers, "verified": True},
        "text": text,
        "created_at": time.time(),
        "engagement": {"likes": 20_000, "reposts": 5_000},
        **kw,
    }


def secrets_of(stack: Stack) -> dict[str, str]:
    info = json.loads((stack.var / "redis" / "server.json").read_text())
    return {
        "ingest token": TOKEN,
        "redis password": info["password"],
        "session secret": (stack.var / "session_secret").read_text().strip(),
        "a person's password": PASSWORD,
        "the API token": stack.api_token,
    }


# /api/health ------------------------------------------------------------------------------------------------


def test_health_has_the_documented_shape(stack):
    status, raw = raw_request(stack, "/api/health")
    assert status == 200, raw
    body = json.loads(raw)
    assert body["status"] == "ok" and body["event"] == EVENT_ID
    assert isinstance(body["time"], float) and abs(body["time"] - time.time()) < 60
    assert body["redis"] == {"reachable": True}
    pipeline = body["pipeline"]
    for key in ("received", "processed", "dead_lettered", "duplicates", "consumer_lag", "pending", "last_processed_at"):
        assert key in pipeline, key
    for key in ("received", "processed", "dead_lettered", "consumer_lag"):
        assert isinstance(pipeline[key], int) and pipeline[key] >= 0, (key, pipeline[key])
    sim = body["sources"]["simulator"]
    assert set(sim) >= {"state", "detail", "rate_per_s", "last_post_at", "rate_limit", "gaps"}
    assert sim["state"] in ("connected", "reconnecting", "failing", "not configured", "stopped")
    assert isinstance(sim["gaps"], list)
    assert isinstance(body["snapshot"]["age_s"], float) and 0 <= body["snapshot"]["age_s"] <= 5
    assert isinstance(body["snapshot"]["version"], int)


def test_health_tells_an_outsider_only_the_status_and_what_is_down(stack):
    status, raw = raw_request(stack, "/api/health", headers={})
    body = json.loads(raw)
    assert status == 200 and body == {"status": "ok", "down": []}, body
    status, raw = raw_request(stack, "/api/health", headers={"Authorization": "Bearer wrt_nope.nope"})
    assert json.loads(raw) == {"status": "ok", "down": []}


@pytest.mark.parametrize("path", ["/api/snapshot", "/api/cards", "/api/audit", "/api/me", "/_dash-layout"])
def test_reads_need_a_session_or_a_token(stack, path):
    status, raw = raw_request(stack, path, headers={})
    assert status == 401 and json.loads(raw)["signed_out"] is True
    if path.startswith("/api/") and path != "/api/me":
        assert raw_request(stack, path)[0] == 200, path


def test_pages_send_an_outsider_to_the_sign_in_page(stack):
    for path in ("/", "/wall", "/exec", "/admin", "/audit"):
        req = urllib.request.Request(stack.url + path)
        with urllib.request.urlopen(req, timeout=10) as resp:  # redirects followed
            assert resp.url.startswith(f"{stack.url}/login?next="), (path, resp.url)
            assert b'name="password"' in resp.read()


def test_health_counters_move_while_the_simulator_runs(stack):
    first = stack.get("/api/health")["pipeline"]
    later = eventually(lambda: (p := stack.get("/api/health")["pipeline"])["processed"] > first["processed"] and p)
    assert later["received"] >= later["processed"] > 0
    assert stack.get("/api/health")["sources"]["simulator"]["state"] == "connected"


def test_no_secret_in_health_or_in_the_log(stack):
    secrets = secrets_of(stack)
    # Some activity that logs: bad and good ingests (dead letters are logged), pages and API reads.
    ingest(stack, b"[]", token="wrong-token")
    ingest(stack, orjson.dumps([{"id": "x"}, post(f"secret-{time.time()}")]))
    raw_request(stack, "/")
    raw_request(stack, "/api/snapshot")
    for _ in range(3):
        _, body = raw_request(stack, "/api/health")
        for what, value in secrets.items():
            assert value.encode() not in body, f"the {what} is in /api/health"
        time.sleep(0.5)
    for path in ("/api/snapshot", "/api/cards"):
        _, body = raw_request(stack, path)
        for what, value in secrets.items():
            assert value.encode() not in body, f"the {what} is in {path}"
    stack.log.flush()
    log = (stack.var.parent / f"up-{stack.port}.log").read_bytes()
    assert b"War Room is up" in log, "not the stack's log"
    for what, value in secrets.items():
        assert value.encode() not in log, f"the {what} is in the log"


# /api/snapshot ----------------------------------------------------------------------------------------------


def test_snapshot_has_the_documented_keys(stack):
    status, raw = raw_request(stack, "/api/snapshot")
    assert status == 200
    snap = json.loads(raw)
    for key in (
        "version",
        "built_at",
        "event",
        "volume",
        "sentiment",
        "trending",
        "feed",
        "feed_by_source",
        "alerts",
        "cards_version",
        "pipeline",
        "sources",
        "gaps",
    ):
        assert key in snap, key
    assert snap["event"]["id"] == EVENT_ID
    assert len(snap["volume"]["t"]) > 0 and "all" in snap["volume"]["series"]
    assert all(len(s) == len(snap["volume"]["t"]) for s in snap["volume"]["series"].values())
    assert "Oreo" in snap["volume"]["series"]
    for key in ("lag", "rate_per_s", "data_age_s", "received", "processed"):
        assert key in snap["pipeline"], key
    feed = eventually(lambda: stack.get("/api/snapshot")["feed"])
    assert len(feed) <= 100
    assert {"score", "reasons", "sentiment"} <= set(feed[0]), sorted(feed[0])
    trending = eventually(lambda: stack.get("/api/snapshot")["trending"])
    assert {"term", "count", "rate_per_min", "baseline_per_min", "significance", "rising_since"} <= set(trending[0])
    assert "simulator" in snap["sources"]


# /api/ingest ------------------------------------------------------------------------------------------------


def test_ingest_without_or_with_a_wrong_token_is_401(stack, r, keys):
    last_before = r.xrevrange(keys.stream, count=1)[0][0]
    dead_before = stack.get("/api/health")["pipeline"]["dead_lettered"]
    body = orjson.dumps([post("never-1")])
    for token in (None, "not-the-token", "", TOKEN + "x", TOKEN[:-1]):
        status, reply = ingest(stack, body, token=token)
        assert status == 401, (token, reply)
        assert "token" in reply["error"]
    status, _ = raw_request(stack, "/api/ingest", body, {"Authorization": f"Basic {TOKEN}"})
    assert status == 401
    ids = {orjson.loads(f[b"p"])["id"] for _, f in r.xrange(keys.stream, min=f"({last_before.decode()}", max="+")}
    assert "webhook:never-1" not in ids, "an unauthorized post reached the stream"
    assert stack.get("/api/health")["pipeline"]["dead_lettered"] == dead_before


@pytest.mark.parametrize(
    "body, says",
    [
        (b"this is not json", "not JSON"),
        (b'{"id": ', "not JSON"),
        (b"42", "int"),
        (b'"a string"', "str"),
        (b"null", "array"),
    ],
)
def test_ingest_bad_body_is_400_and_says_what_was_wrong(stack, body, says):
    status, reply = ingest(stack, body)
    assert status == 400, reply
    assert says in reply["error"], reply


def test_ingest_too_large_is_413(stack):
    big = orjson.dumps([post(f"big-{i}", text="Oreo " + "x" * 9_000) for i in range(130)])
    assert len(big) > 1_000_000
    status, reply = ingest(stack, big)
    assert status == 413, reply


def test_ingest_valid_batch_is_202_and_in_the_stream_before_the_reply(stack, r, keys):
    stamp = time.time_ns()
    batch = [post(f"ok-{stamp}-{i}") for i in range(3)]
    last_before = r.xrevrange(keys.stream, count=1)[0][0]
    status, reply = ingest(stack, orjson.dumps(batch))
    assert status == 202, reply
    assert reply["accepted"] == 3 and reply["rejected"] == 0 and reply["errors"] == []
    # Straight after the reply, without waiting: the posts are in the stream.
    ids = {orjson.loads(f[b"p"])["id"] for _, f in r.xrange(keys.stream, min=f"({last_before.decode()}", max="+")}
    assert {p["id"] for p in batch} <= ids


def test_ingest_one_object_is_a_batch_of_one(stack, r, keys):
    one = post(f"single-{time.time_ns()}")
    last_before = r.xrevrange(keys.stream, count=1)[0][0]
    status, reply = ingest(stack, orjson.dumps(one))
    assert status == 202 and reply["accepted"] == 1, reply
    ids = {orjson.loads(f[b"p"])["id"] for _, f in r.xrange(keys.stream, min=f"({last_before.decode()}", max="+")}
    assert one["id"] in ids


def test_ingest_mixed_batch_lists_invalid_posts_and_dead_letters_them(stack, r, keys):
    dead_before = stack.get("/api/health")["pipeline"]["dead_lettered"]
    stamp = time.time_ns()
    good = post(f"mixed-{stamp}")
    no_author = {k: v for k, v in post(f"mixed-noauthor-{stamp}").items() if k != "author"}
    bad_source = post(f"mixed-badsource-{stamp}", source="myspace")
    batch = [no_author, good, "just a string", bad_source]
    status, reply = ingest(stack, orjson.dumps(batch))
    assert status == 202, reply
    assert reply["accepted"] == 1 and reply["rejected"] == 3
    by_index = {e["index"]: e["reason"] for e in reply["errors"]}
    assert set(by_index) == {0, 2, 3}, reply
    assert "author" in by_index[0] and "str" in by_index[2] and "source" in by_index[3], by_index
    dead_after = eventually(
        lambda: (d := stack.get("/api/health")["pipeline"]["dead_lettered"]) >= dead_before + 3 and d
    )
    assert dead_after >= dead_before + 3


def test_ingest_all_invalid_is_422(stack):
    status, reply = ingest(stack, orjson.dumps([{"id": "webhook:nope"}]))
    assert status == 422 and reply["rejected"] == 1 and reply["errors"][0]["index"] == 0, reply


def test_relevant_ingested_post_reaches_the_snapshot_feed(stack):
    hot = post(f"feed-{time.time_ns()}", text="Oreo just won the blackout: you can still dunk in the dark #oreo")
    status, reply = ingest(stack, orjson.dumps([hot]))
    assert status == 202 and reply["accepted"] == 1, reply
    item = eventually(
        lambda: next((p for p in stack.get("/api/snapshot")["feed"] if p.get("id") == hot["id"]), None), timeout=30
    )
    assert item["score"] > 0 and item["reasons"]
    assert item["source"] == "webhook"
