"""The aggregator's snapshot, built from a real simulated burst processed by a real worker."""

import time

import pytest

from config.settings import load_settings
from store import posts as post_store
from store import snapshot
from streams.aggregator import Aggregator
from streams.processor import Processor
from streams.sources.simulator import make_scenario
from tests.pipeline import drain

pytestmark = [pytest.mark.cluster, pytest.mark.partitions]  # single server and cluster; one partition and three


def test_snapshot_has_every_panel_filled_from_simulated_posts(r, keys):
    settings = load_settings({})
    post_store.ensure_group(r, keys)
    now = time.time()
    scenario = make_scenario(settings.event.sources.simulator, start_wall=now - 30, rate=300)
    for i in range(300):  # the last 30 s of simulated posts
        post_store.append_dicts(r, keys, [p for p, _ in scenario.step(i)], now=now - 30 + i * 0.1)
    proc = Processor(settings, r, keys, consumer="w1")
    drain(proc, r, keys, "w1")
    agg = Aggregator(settings, r, keys)
    snap = agg.tick(now)
    assert snapshot.read(r, keys)["version"] == snap["version"] == 1
    assert sum(snap["volume"]["series"]["all"]) == post_store.stats(r, keys)["processed"] > 5000
    assert snap["volume"]["series"]["Oreo"] and max(snap["volume"]["series"]["Oreo"]) > 0
    assert len(snap["feed"]) == 100
    scores = [p["score"] for p in snap["feed"]]
    assert scores[0] >= sorted(scores)[len(scores) // 2]  # the top of the feed is among the most relevant
    assert snap["alerts"], "influencers mention the brand in every simulated minute"
    assert snap["pipeline"]["data_age_s"] is not None and snap["sources"] == {}
    assert agg.tick(now + 1)["version"] == 2
