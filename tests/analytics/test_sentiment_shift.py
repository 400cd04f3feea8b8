"""Sentiment drops: one alert when the room turns sour, none for noise, thin bins or a warm-up."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.sentiment_shift import SentimentDrop

BIN_S = 30.0
T0 = 1_700_000_000.0


def bins(means: list[float], posts: int = 40, seed: int = 3, noise: float = 0.4):
    """(ts, posts, sentiment sum) per bin, each post's sentiment drawn around the bin's mean."""
    rng = np.random.default_rng(seed)
    for i, mean in enumerate(means):
        values = np.clip(rng.normal(mean, noise, posts), -1, 1)
        yield T0 + i * BIN_S, posts, float(values.sum())


def run(detector: SentimentDrop, rows) -> list[dict]:
    return [a for row in rows if (a := detector.step(*row))]


def test_a_sustained_drop_raises_one_alert_with_mean_below_baseline():
    alerts = run(SentimentDrop(), bins([0.3] * 40 + [-0.1] * 8))
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["kind"] == "sentiment_drop"
    assert T0 + 40 * BIN_S <= alert["timestamp"] <= T0 + 44 * BIN_S
    assert alert["baseline"] - alert["mean"] == pytest.approx(alert["score"], abs=1e-3)
    assert alert["score"] >= 0.25
    assert alert["baseline"] == pytest.approx(0.3, abs=0.05)


@pytest.mark.parametrize(
    ("means", "posts"),
    [
        ([0.3] * 60, 40),  # steady
        ([0.3] * 40 + [0.15] * 20, 40),  # a dip smaller than `drop`
        ([0.3] * 40 + [0.6] * 20, 40),  # the room cheers up
        ([0.3] * 40 + [-0.3] * 20, 2),  # too few posts per bin to say anything
    ],
)
def test_no_alert_without_a_real_drop_on_enough_posts(means, posts):
    assert run(SentimentDrop(), bins(means, posts)) == []


def test_no_alert_before_the_baseline_has_enough_posts():
    # The very first bins are all negative: there is no "before" to fall from.
    assert run(SentimentDrop(), bins([-0.5] * 3 + [0.3] * 2)) == []


def test_cooldown_spaces_alerts_during_a_long_slump():
    detector = SentimentDrop(half_life_s=3600, cooldown_s=300)
    alerts = run(detector, bins([0.4] * 40 + [-0.2] * 40))
    gaps = np.diff([a["timestamp"] for a in alerts])
    assert len(alerts) >= 2
    assert (gaps >= 300).all()


def test_a_lasting_new_level_becomes_the_baseline():
    detector = SentimentDrop(half_life_s=300)
    alerts = run(detector, bins([0.3] * 40 + [-0.1] * 200))
    assert alerts and alerts[-1]["timestamp"] < T0 + 100 * BIN_S
    assert detector.baseline == pytest.approx(-0.1, abs=0.05)
