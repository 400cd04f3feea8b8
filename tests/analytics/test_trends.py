"""Behaviour of the significance-based trend detector."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.trends import HASH_CACHE_SIZE, Trend, TrendDetector

BUCKET_S = 5.0
TICK_S = 0.5
T0 = 1_700_000_000.0  # a multiple of BUCKET_S


def background_rates() -> dict[str, float]:
    """Per-second rates: an always-busy 'superbowl' plus a few hundred ordinary tags."""
    rates = {f"tag{i}": (1 + i % 40) / BUCKET_S for i in range(300)}
    rates["superbowl"] = 200 / BUCKET_S
    return rates


def simulate(detector: TrendDetector, seconds: float, start: float, rates_at, seed: int = 7):
    """Feed Poisson traffic tick by tick like the aggregator; yield (now, top) after every tick."""
    rng = np.random.default_rng(seed)
    bucket, totals = None, {}
    now = start
    while now < start + seconds:
        index = int(now // BUCKET_S)
        if index != bucket:
            if bucket is not None:
                detector.update(bucket, dict(totals))  # final totals, sent once more
            bucket, totals = index, {}
        for term, rate in rates_at(now).items():
            hits = int(rng.poisson(rate * TICK_S))
            if hits:
                totals[term] = totals.get(term, 0) + hits
        now += TICK_S
        detector.update(bucket, dict(totals))
        yield now, detector.top(now, 10)


def warmed_detector(minutes: float = 10) -> TrendDetector:
    detector = TrendDetector(bucket_s=BUCKET_S)
    for _ in simulate(detector, minutes * 60, T0, lambda now: background_rates()):
        pass
    return detector


@pytest.fixture(scope="module")
def warm_state() -> bytes:
    return warmed_detector().to_bytes()


def test_blackout_tops_trending_within_ten_seconds(warm_state):
    detector = TrendDetector.from_bytes(warm_state)
    burst_at = T0 + 600

    def rates(now):
        return {**background_rates(), "blackout": 100 / BUCKET_S}

    first_top = None
    for now, top in simulate(detector, 30, burst_at, rates, seed=11):
        assert top, "something should be trending during a burst"
        assert top[0].term != "superbowl"
        if first_top is None and top[0].term == "blackout":
            first_top = now
    assert first_top is not None and first_top - burst_at <= 10
    blackout = detector.top(burst_at + 30, 10)[0]
    assert blackout.term == "blackout"
    assert blackout.rising_since is not None and burst_at <= blackout.rising_since <= burst_at + 10


def test_always_busy_tag_is_never_trending(warm_state):
    detector = TrendDetector.from_bytes(warm_state)
    for _now, top in simulate(detector, 120, T0 + 600, lambda now: background_rates(), seed=3):
        busy = [trend for trend in top if trend.term == "superbowl"]
        assert not busy or busy[0].significance < detector.threshold
        assert not busy or busy[0].rising_since is None


def test_new_burst_reports_its_rate_against_a_near_zero_baseline(warm_state):
    detector = TrendDetector.from_bytes(warm_state)
    *_, (now, _top) = simulate(detector, 5, T0 + 600, lambda now: {**background_rates(), "blackout": 40.0})
    blackout = next(t for t in detector.top(now, 400) if t.term == "blackout")
    assert blackout.baseline_per_min == pytest.approx(0, abs=60)
    assert blackout.rate_per_min > 1000


@pytest.mark.parametrize(
    ("count", "posts", "shown"),
    [(1, 15, False), (2, 15, False), (3, 15, True), (4, 5000, False), (12, 5000, True)],
)
def test_floors_scale_with_the_stream(warm_state, count, posts, shown):
    """3 posts of 15 (3 posts/s) is a cluster; 4 of 5,000 (1,000 posts/s) is chance (MIN_SHARE 0.2 %)."""
    detector = TrendDetector.from_bytes(warm_state)
    bucket = int((T0 + 600) // BUCKET_S)
    detector.update(bucket, {"superbowl": 200, "hello": count})
    listed = [trend.term for trend in detector.top(bucket * BUCKET_S + 4.9, 50, posts=posts)]
    assert ("hello" in listed) is shown


@pytest.mark.parametrize("elapsed", [0.0, 0.5, 1.0, 2.5, 4.5])
def test_early_partial_bucket_is_not_read_as_a_quiet_one(elapsed):
    detector = TrendDetector(bucket_s=BUCKET_S)
    for bucket in range(99):
        detector.update(bucket, {"steady": 50})
    detector.update(99, {"steady": 50, "burst": 50})
    share = elapsed / BUCKET_S
    detector.update(100, {"steady": round(50 * share), "burst": round(50 * share)})
    top = detector.top(100 * BUCKET_S + elapsed, 5)
    assert [trend.term for trend in top] == ["burst"]
    assert top[0].count == pytest.approx(50, abs=1)
    assert top[0].significance > detector.threshold


def test_update_twice_with_the_same_totals_changes_nothing():
    once, twice = TrendDetector(), TrendDetector()
    for bucket in range(20):
        counts = {"a": bucket, "b": 3, "c": bucket % 4}
        once.update(bucket, counts)
        twice.update(bucket, counts)
        twice.update(bucket, counts)
        if bucket:
            twice.update(bucket - 1, {"a": bucket - 1, "b": 3, "c": (bucket - 1) % 4})
    assert once.to_bytes() == twice.to_bytes()


def test_growing_totals_and_late_final_totals_fold_each_bucket_once():
    clean, live = TrendDetector(), TrendDetector()
    finals = [{"x": 10 * b, "y": 5} for b in range(30)]
    for bucket, final in enumerate(finals):
        clean.update(bucket, final)
        for fraction in (0.2, 0.6):
            live.update(bucket, {term: int(n * fraction) for term, n in final.items()})
        if bucket:
            live.update(bucket - 1, finals[bucket - 1])
    live.update(29, finals[29])
    clean.update(31, {})
    live.update(31, {})
    assert np.array_equal(clean._mean, live._mean)
    assert np.array_equal(clean._var, live._var)


def test_missing_buckets_count_as_zeros():
    gap, filled = TrendDetector(), TrendDetector()
    for detector in (gap, filled):
        for bucket in range(10):
            detector.update(bucket, {"x": 40})
    for bucket in range(10, 15):
        filled.update(bucket, {})
    gap.update(15, {"x": 1})
    filled.update(15, {"x": 1})
    assert np.allclose(gap._mean, filled._mean)
    assert np.allclose(gap._var, filled._var)


def test_memory_does_not_grow_with_a_hundred_thousand_terms():
    detector = TrendDetector(max_labels=1000)
    sizes = []
    for bucket in range(20):
        detector.update(bucket, {f"term-{bucket}-{i}": 1 + i % 7 for i in range(5000)})
        detector.top(bucket * 5.0 + 2.5, 10)
        sizes.append(
            (
                detector._mean.nbytes,
                detector._var.nbytes,
                detector._current_cells.nbytes,
            )
        )
    assert len(set(sizes)) == 1
    assert len(detector._current) <= 1000 and len(detector._previous) <= 1000
    assert len(detector._hash_cache) <= HASH_CACHE_SIZE
    assert len(detector.to_bytes()) < 2_000_000


def test_state_survives_a_restart(warm_state):
    original = TrendDetector.from_bytes(warm_state)
    restored = TrendDetector.from_bytes(original.to_bytes())
    bucket = int((T0 + 600) // BUCKET_S)
    for detector in (original, restored):
        detector.update(bucket, {"superbowl": 210, "blackout": 90})
    now = bucket * BUCKET_S + 3
    assert original.top(now, 5) == restored.top(now, 5)
    assert original.to_bytes() == restored.to_bytes()


def test_trend_records_are_frozen():
    trend = Trend("x", 1, 12.0, 0.0, 5.0, None)
    with pytest.raises(AttributeError):
        trend.count = 2  # type: ignore[misc]


def test_wrong_state_version_is_refused(warm_state):
    import io
    import json

    with np.load(io.BytesIO(warm_state)) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays["meta"].tobytes())
    meta["version"] = 999
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with pytest.raises(ValueError, match="start afresh"):
        TrendDetector.from_bytes(buffer.getvalue())
