"""The posts stream against the real embedded server."""

from datetime import UTC, datetime

import pytest

from model.post import Author, InvalidPost, Post, parse_post
from store import posts as post_store

pytestmark = pytest.mark.cluster  # on the single server and on a three-primary cluster


def make_post(i: int, **kw) -> Post:
    return Post(
        id=f"simulator:{i}",
        source="simulator",
        author=Author(handle=f"u{i}"),
        text=f"post {i}",
        created_at=datetime.now(UTC),
        **kw,
    )


def test_append_stamps_received_at_and_counts(r, keys):
    ids = post_store.append(r, keys, [make_post(1), make_post(2)], now=123.0)
    assert len(ids) == 2
    assert post_store.stats(r, keys)["received"] == 2
    entries = r.xrange(keys.stream)
    assert b'"received_at":123.0' in entries[0][1][b"p"]


def test_bad_payload_goes_to_dead_letters_with_reason(r, keys):
    for payload in ({"id": "x:1", "text": "no author"}, b"{not json"):
        with pytest.raises(InvalidPost) as err:
            parse_post(payload)
        post_store.dead_letter(r, keys, payload, err.value.reason, "webhook")
    dead = post_store.dead_letters(r, keys)
    assert len(dead) == 2 and dead[0]["source"] == "webhook"
    assert "source" in dead[1]["reason"] and "not json" in dead[0]["payload"]
    assert post_store.stats(r, keys)["dead"] == 2


def test_crashed_consumer_entries_are_reclaimed(r, keys):
    post_store.ensure_group(r, keys)
    post_store.append(r, keys, [make_post(i) for i in range(5)])
    first = post_store.read_batch(r, keys, "worker-a", 10, 100)
    assert len(first) == 5
    # worker-a dies without XACK; worker-b takes its entries over
    claimed = post_store.claim_stale(r, keys, "worker-b", 0, 10)
    assert [e[0] for e in claimed] == [e[0] for e in first]
