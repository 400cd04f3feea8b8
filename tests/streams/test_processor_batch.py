"""Processor.handle pauses the cyclic collector for a batch and always restores it."""

import gc

import pytest

from config.settings import load_settings
from store import posts as post_store
from streams.processor import Processor

pytestmark = pytest.mark.cluster  # on the single server and on a three-primary cluster


def test_handle_restores_the_collector_even_when_it_fails(r, keys):
    post_store.ensure_group(r, keys)
    proc = Processor(load_settings({}), r, keys, consumer="w1")
    assert gc.isenabled()
    r.xadd(keys.stream, {"p": b'{"id": "x:1"}'})
    assert proc.handle(post_store.read_batch(r, keys, "w1", 10, 10)) == 0  # dead-lettered, not counted
    assert gc.isenabled()

    def boom(*_args, **_kw):
        raise RuntimeError("enrichment failed")

    proc.enricher.batch = boom
    post_store.append_dicts(
        r,
        keys,
        [
            {
                "id": "webhook:1",
                "source": "webhook",
                "author": {"handle": "a"},
                "text": "hello",
                "created_at": "2026-02-08T23:00:00Z",
            }
        ],
    )
    with pytest.raises(RuntimeError):
        proc.handle(post_store.read_batch(r, keys, "w1", 10, 10))
    assert gc.isenabled()
    gc.disable()
    try:
        proc.enricher = Processor(load_settings({}), r, keys).enricher
        post_store.append_dicts(
            r,
            keys,
            [
                {
                    "id": "webhook:2",
                    "source": "webhook",
                    "author": {"handle": "a"},
                    "text": "hello again",
                    "created_at": "2026-02-08T23:00:00Z",
                }
            ],
        )
        assert proc.handle(post_store.read_batch(r, keys, "w1", 10, 10)) == 1
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()


def test_a_batch_of_only_malformed_entries_is_dead_lettered_and_acknowledged(r, keys):
    post_store.ensure_group(r, keys)
    r.xadd(keys.stream, {"p": b"not json"})
    r.xadd(keys.stream, {"other": b"no post field"})
    proc = Processor(load_settings({}), r, keys, consumer="w1")
    assert proc.handle(post_store.read_batch(r, keys, "w1", 10, 10)) == 0
    stats = post_store.stats(r, keys)
    assert stats["dead"] == 2 and stats.get("processed", 0) == 0
    assert post_store.lag(r, keys)["pending"] == 0
