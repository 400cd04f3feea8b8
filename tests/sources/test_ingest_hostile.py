"""POST /api/ingest answers truthfully, whatever is sent: the real Flask app on the real embedded Valkey.

Property: no 5xx; a batch is either refused whole with a reason (nothing stored) or every post in it is
in the stream or dead-lettered with a reason, and the counters (reply, stats, health) add up.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

import orjson
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app as web
from config.settings import load_settings
from store import posts as post_store
from store.server import EmbeddedServer, connect
from streams.sources.webhook import CUT, RETRY_AFTER_S

TOKEN = "hostile-ingest-token"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
LIMIT = 1_000_000  # app.INGEST_MAX_BYTES


def valid(i: int = 1, **kw) -> dict:
    return {
        "id": f"webhook:{i}",
        "author": {"handle": f"tool{i}"},
        "text": f"#SuperBowl post {i}",
        "created_at": "2026-02-08T01:38:12Z",
        **kw,
    }


@pytest.fixture(scope="module")
def ingest_app(redis_server):
    client = connect(redis_server.url)
    dash_app = web.create_app(
        load_settings({"WARROOM_EVENT": "config/superbowl.yaml", "WARROOM_INGEST_TOKEN": TOKEN}), client
    )
    yield dash_app
    client.close()


class Site:
    """The app's test client plus what one request changed in the store."""

    def __init__(self, dash_app):
        self.http = dash_app.server.test_client()
        self.s = dash_app.services
        self.r, self.keys = self.s.r, self.s.keys

    def reset(self) -> None:
        self.r.delete(self.keys.stream, self.keys.dead, self.keys.stats)

    def post(self, raw: bytes, headers=AUTH):
        return self.http.post("/api/ingest", data=raw, headers=headers)

    def stream_ids(self) -> list[str]:
        return [orjson.loads(f[b"p"])["id"] for _, f in self.r.xrange(self.keys.stream)]

    def dead(self) -> list[dict]:
        return [{k.decode(): v for k, v in f.items()} for _, f in self.r.xrange(self.keys.dead)]

    def stats(self) -> dict:
        return post_store.stats(self.r, self.keys)


@pytest.fixture
def site(ingest_app):
    s = Site(ingest_app)
    s.reset()
    yield s
    s.reset()


# ---------------------------------------------------------------------------------------------
# Hostile JSON, written by hand where the standard library would refuse (depth) and kept as the
# standard library writes it otherwise (NaN, Infinity, 100-digit integers, lone surrogates as \ud800).


class Deep:
    """A value nested `depth` levels deep in arrays or objects."""

    def __init__(self, depth: int, leaf, objects: bool):
        self.depth, self.leaf, self.objects = depth, leaf, objects


def encode(value) -> str:
    if isinstance(value, Deep):
        opening, closing = ('{"k":', "}") if value.objects else ("[", "]")
        return opening * value.depth + encode(value.leaf) + closing * value.depth
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(v) for v in value) + "]"
    return json.dumps(value, allow_nan=True)


leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1, 10**100]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, 5e-324, -0.0]),
    st.text(max_size=20),
    st.sampled_from(["\ud800", "x\udfffy", "\x00", "\u202e", "<script>alert(1)</script>", "javascript:alert(1)"]),
)
keys_any = st.one_of(
    st.text(max_size=6), st.integers(), st.booleans(), st.none(), st.floats()
)  # json.dumps turns them into strings
values = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys_any, inner, max_size=4), max_leaves=10
)
sizes = st.integers(min_value=0, max_value=10_010).map(lambda n: "#a" * (n // 2))  # around the limits
deep = st.builds(Deep, st.integers(min_value=1, max_value=1100), leaves, st.booleans())
offsets = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59))
)
dates = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",  # before year 1 in UTC: astimezone raised OverflowError
            "9999-12-31T23:59:59-01:00",  # after 9999 in UTC
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999+00:00",
            "2026-02-30T00:00:00Z",
            "2026-02-08T01:38:12+24:00",
            "2026-02-08T25:00:00Z",
            "",
            "now",
        ]
    ),
    st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=offsets).map(datetime.isoformat),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    values,
)
FIELDS = ["id", "source", "url", "author", "text", "lang", "hashtags", "mentions", "links", "reply_to"]
FIELDS += ["repost_of", "quote_of", "engagement", "matched_terms", "received_at", "unknown"]


@st.composite
def hostile_post(draw) -> dict:
    post = valid(draw(st.integers(min_value=0, max_value=50)), created_at=draw(dates))
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        post[name] = draw(st.one_of(values, deep, sizes))
    if draw(st.booleans()):
        post["author"] = {"handle": draw(st.one_of(st.text(max_size=210), values)), "followers": draw(leaves)}
    if draw(st.booleans()):
        post["engagement"] = {"likes": draw(leaves), "reposts": draw(leaves)}
    return post


@st.composite
def hostile_body(draw) -> bytes:
    kind = draw(st.sampled_from(["batch", "batch", "batch", "batch", "one", "other", "bytes"]))
    if kind == "batch":
        raw = encode(draw(st.lists(st.one_of(hostile_post(), hostile_post(), values, deep), max_size=8))).encode()
    elif kind == "one":
        raw = encode(draw(hostile_post())).encode()
    elif kind == "other":
        raw = encode(draw(st.one_of(values, deep))).encode()
    else:
        raw = draw(st.binary(max_size=64))
    if draw(st.integers(min_value=0, max_value=30)) == 0:
        raw += b" " * LIMIT  # over the limit: refused before it is read
    return raw


def parsed_items(raw: bytes) -> list | None:
    """What the server should take as the batch: None when the body itself is not a batch."""
    if len(raw) > LIMIT:
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    data = [data] if isinstance(data, dict) else data
    return data if isinstance(data, list) else None


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same 200 bodies on every run: CI never flakes on a new draw
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(raw=hostile_body())
def test_no_body_gets_a_5xx_and_every_post_is_accounted_for(site, raw):
    site.reset()
    health_before = site.s.ingest.health.total
    resp = site.post(raw)
    reply = resp.get_json()
    assert resp.status_code < 500, reply
    items = parsed_items(raw)
    if items is None:  # refused whole: said why, stored nothing
        assert resp.status_code in (400, 413) and reply["error"]
        assert site.stream_ids() == [] and site.dead() == [] and site.stats() == {}
        return
    assert resp.status_code == (422 if reply["rejected"] and not reply["accepted"] else 202)
    assert reply["accepted"] + reply["rejected"] == len(items)
    rejected = {e["index"]: e["reason"] for e in reply["errors"]}
    assert len(rejected) == reply["rejected"] and all(0 <= i < len(items) for i in rejected)
    assert all(isinstance(reason, str) and reason for reason in rejected.values())
    # Every post is in the stream (in order) or dead-lettered with its reason; nothing else is stored.
    assert site.stream_ids() == [item["id"] for i, item in enumerate(items) if i not in rejected]
    dead = site.dead()
    assert [d["reason"].decode() for d in dead] == [rejected[i][:500] for i in sorted(rejected)]
    assert all(d["source"] == b"webhook" and d["payload"] for d in dead)
    assert site.stats() == {k: v for k, v in {"received": reply["accepted"], "dead": reply["rejected"]}.items() if v}
    assert site.s.ingest.health.total - health_before == reply["accepted"]


# ---------------------------------------------------------------------------------------------
# The cases that crashed the handler, spelled out


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+00:01"]
)
def test_a_date_out_of_range_in_utc_is_a_422_with_a_reason(site, when):
    resp = site.post(orjson.dumps([valid(1, created_at=when)]))
    assert resp.status_code == 422
    assert "created_at" in resp.get_json()["errors"][0]["reason"]
    assert site.stats() == {"dead": 1} and len(site.dead()) == 1


@pytest.mark.parametrize("depth", [100, 300, 1000])
def test_a_post_nested_too_deep_to_write_again_is_dead_lettered_cut(site, depth):
    bad = valid(1)
    bad["author"] = Deep(depth, "x", objects=True)
    resp = site.post(encode([bad, valid(2)]).encode())
    assert resp.status_code == 202 and resp.get_json()["accepted"] == 1
    assert resp.get_json()["errors"][0]["index"] == 0
    (dead,) = site.dead()
    payload = orjson.loads(dead["payload"])  # valid JSON even when the original could not be written back
    assert payload["id"] == "webhook:1" and (CUT in dead["payload"].decode()) == (depth > 254)
    assert site.stream_ids() == ["webhook:2"]


def test_deep_nesting_in_an_ignored_field_is_accepted_and_past_the_parser_limit_refused(site):
    fine = valid(1, unknown=Deep(1000, 1, objects=False))
    assert site.post(encode([fine]).encode()).status_code == 202
    too_deep = valid(2, unknown=Deep(1100, 1, objects=False))
    resp = site.post(encode([too_deep]).encode())
    assert resp.status_code == 400 and "not JSON" in resp.get_json()["error"]
    assert site.stream_ids() == ["webhook:1"]


# ---------------------------------------------------------------------------------------------
# The store


def test_store_down_is_503_with_retry_after_and_nothing_accepted(tmp_path):
    server = EmbeddedServer(tmp_path / "valkey").start()
    client = connect(server.url)
    try:
        dash_app = web.create_app(
            load_settings({"WARROOM_EVENT": "config/superbowl.yaml", "WARROOM_INGEST_TOKEN": TOKEN}), client
        )
        http, keys = dash_app.server.test_client(), dash_app.services.keys
        assert http.post("/api/ingest", data=orjson.dumps([valid(1)]), headers=AUTH).status_code == 202
        server.stop()
        resp = http.post("/api/ingest", data=orjson.dumps([valid(2), {"bad": 1}]), headers=AUTH)
        assert resp.status_code == 503
        assert resp.headers["Retry-After"] == str(RETRY_AFTER_S)
        assert "store is unavailable" in resp.get_json()["error"] and "not accepted" in resp.get_json()["error"]
        assert dash_app.services.ingest.health.total == 1
        server.start()  # same data dir and port: the AOF brings back what was accepted, and only that
        assert [orjson.loads(f[b"p"])["id"] for _, f in client.xrange(keys.stream)] == ["webhook:1"]
    finally:
        client.close()
        server.stop()


def test_a_health_write_failing_after_the_posts_are_in_does_not_fail_the_request(ingest_app, redis_server):
    """A user the store lets append but not HSET (the health row): the batch is in, so the answer is 202."""
    admin = connect(redis_server.url)
    admin.acl_setuser("no-hset", enabled=True, passwords=["+pw-no-hset"], keys=["*"], commands=["+@all", "-hset"])
    limited = redis.Redis(host="127.0.0.1", port=redis_server.port, username="no-hset", password="pw-no-hset")
    site = Site(ingest_app)
    saved = site.s.ingest.r, site.s.r
    try:
        site.s.ingest.r = site.s.r = limited
        site.reset()
        resp = site.post(orjson.dumps([valid(1), valid(2)]))
        assert resp.status_code == 202 and resp.get_json()["accepted"] == 2
        assert site.stream_ids() == ["webhook:1", "webhook:2"]
        with pytest.raises(redis.exceptions.NoPermissionError):
            limited.hset(site.keys.sources, "probe", "1")  # the health row really could not be written
    finally:
        site.s.ingest.r, site.s.r = saved
        site.reset()
        limited.close()
        admin.acl_deluser("no-hset")
        admin.close()
