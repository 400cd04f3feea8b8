"""Webhook ingest against the real embedded server."""

from __future__ import annotations

import json

import pytest

from store import posts as post_store
from streams.sources.webhook import ingest
from tests.sources.servers import stream_posts

TOKEN = "s3cret-ingest-token"
AUTH = f"Bearer {TOKEN}"


def post(i: int, **kw) -> dict:
    return {
        "id": f"webhook:{i}",
        "author": {"handle": f"tool{i}"},
        "text": f"#SuperBowl post {i}",
        "created_at": "2026-02-08T01:38:12Z",
        **kw,
    }


def body(data) -> bytes:
    return json.dumps(data).encode()


def test_accepts_a_batch_and_lists_invalid_posts_by_index(r, keys):
    batch = [post(1), {"id": "webhook:2", "text": "no author"}, post(3, source="x", received_at=1.0), "nope"]
    status, reply = ingest(r, keys, body(batch), AUTH, TOKEN)
    assert status == 202
    assert reply["accepted"] == 2 and reply["rejected"] == 2
    assert [e["index"] for e in reply["errors"]] == [1, 3]
    assert "author" in reply["errors"][0]["reason"]
    posts = stream_posts(r, keys)
    assert [p["id"] for p in posts] == ["webhook:1", "webhook:3"]
    assert posts[0]["source"] == "webhook" and posts[1]["source"] == "x"
    assert posts[1]["received_at"] > 1.0  # the sender's clock is not trusted
    assert post_store.stats(r, keys)["dead"] == 2 and post_store.dead_letters(r, keys)[0]["source"] == "webhook"


def test_single_object_is_a_batch_of_one(r, keys):
    status, reply = ingest(r, keys, body(post(1)), AUTH, TOKEN)
    assert (status, reply["accepted"]) == (202, 1)


@pytest.mark.parametrize("authorization", [None, "", "Bearer wrong", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x"])
def test_missing_or_wrong_token_is_401_and_nothing_is_stored(r, keys, authorization):
    status, reply = ingest(r, keys, body([post(1)]), authorization, TOKEN)
    assert status == 401 and "Bearer" in reply["error"]
    assert r.xlen(keys.stream) == 0


def test_disabled_without_a_configured_token(r, keys):
    status, reply = ingest(r, keys, body([post(1)]), AUTH, "")
    assert status == 503 and "WARROOM_INGEST_TOKEN" in reply["error"]


@pytest.mark.parametrize(
    "raw, status, words",
    [
        (b"{not json", 400, "not JSON"),
        (b'"a string"', 400, "array"),
        (b"42", 400, "array"),
        (json.dumps([post(i) for i in range(6)]).encode(), 400, "too many posts"),
        (b"[" + b" " * 2000 + b"]", 413, "bytes"),
    ],
)
def test_bad_envelopes_say_what_was_wrong(r, keys, raw, status, words):
    got, reply = ingest(r, keys, raw, AUTH, TOKEN, max_bytes=1000, max_posts=5)
    assert got == status and words in reply["error"]
    assert r.xlen(keys.stream) == 0


def test_all_invalid_is_422(r, keys):
    status, reply = ingest(r, keys, body([{"text": "x"}]), AUTH, TOKEN)
    assert status == 422 and reply["accepted"] == 0 and reply["errors"][0]["index"] == 0
