"""Trending with the same defaults at 3 posts/s and at 10,000 posts/s, and what a post contributes."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.trends import MAX_TERMS, TrendDetector, terms
from streams.tick import TREND_MIN_Z

BUCKET_S = 5.0
T0 = 1_700_000_000.0
VOCAB = 3000
WORDS_PER_POST = 6


def zipf_rates(rng: np.random.Generator, posts_per_s: float) -> np.ndarray:
    """Occurrences per second of each vocabulary word: Zipf(1.1) shares of posts * words per post."""
    shares = 1.0 / np.arange(1, VOCAB + 1) ** 1.1
    shares /= shares.sum()
    return rng.permutation(shares) * posts_per_s * WORDS_PER_POST


def run(posts_per_s: float, burst_share: float, seed: int = 3, quiet_s: float = 600, burst_s: float = 60):
    """Feed per-bucket counts; a new word 'blackout' takes `burst_share` of posts from quiet_s on.

    Returns (listed terms per quiet bucket, first time 'blackout' is listed first, its best significance).
    """
    rng = np.random.default_rng(seed)
    rates = zipf_rates(rng, posts_per_s)
    names = [f"w{i}" for i in range(VOCAB)]
    detector = TrendDetector(bucket_s=BUCKET_S)
    quiet_listed, first_top, best = [], None, 0.0
    buckets = int((quiet_s + burst_s) / BUCKET_S)
    for b in range(buckets):
        start = T0 + b * BUCKET_S
        counts = rng.poisson(rates * BUCKET_S)
        totals = {names[i]: int(counts[i]) for i in np.flatnonzero(counts)}
        posts = float(rng.poisson(posts_per_s * BUCKET_S))
        bursting = start - T0 >= quiet_s
        if bursting:
            totals["blackout"] = int(rng.binomial(int(posts), burst_share))
        index = int(start // BUCKET_S)
        detector.update(index, totals)
        now = start + BUCKET_S - 0.01
        top = [t for t in detector.top(now, 10, posts=posts) if t.significance >= TREND_MIN_Z]
        if not bursting and start - T0 >= 300:  # after the first five minutes of learning
            quiet_listed.append(len(top))
        if bursting and top and top[0].term == "blackout":
            first_top = start - (T0 + quiet_s) if first_top is None else first_top
            best = max(best, top[0].significance)
    return quiet_listed, first_top, best


@pytest.mark.parametrize(("posts_per_s", "burst_share"), [(3, 0.3), (10_000, 0.02)])
def test_a_rising_term_tops_trending_at_3_and_at_10000_posts_per_second(posts_per_s, burst_share):
    quiet, first_top, best = run(posts_per_s, burst_share)
    assert first_top is not None and first_top <= 10, "the rising word should be first within two buckets"
    assert best > TrendDetector().threshold, "and clearly rising, not just listed"
    # While nothing happens the list stays short: on average under one (noise) entry per bucket.
    assert np.mean(quiet) < 1.0


@pytest.mark.parametrize("posts_per_s", [3, 10_000])
def test_ordinary_vocabulary_fluctuation_is_not_rising(posts_per_s):
    quiet, _, _ = run(posts_per_s, 0.0, seed=11, burst_s=0)
    assert np.mean(quiet) < 1.0 and max(quiet) <= 3


def test_terms_are_tags_words_and_phrases_once_each():
    got = terms(
        "The lights just went out at the stadium?! Power outage #SuperBowl #blackout https://t.co/x @oreo blackout",
        ("superbowl", "blackout"),
        ("lights out",),
    )
    assert got[:3] == ("superbowl", "blackout", "lights out")
    assert {"stadium", "power", "outage", "power outage"} <= set(got)
    assert got.count("blackout") == 1
    assert not {"the", "at", "just", "https", "oreo", "t.co"} & set(got)
    # A pair never spans punctuation: "stadium power" is two sentences.
    assert "stadium power" not in got


def test_terms_of_scripts_without_spaces_and_the_cap():
    got = terms("奥利奥的广告太棒了 スーパーボウルのCMが最高", ())
    assert "奥利奥" in got and "スーパーボウル" in got
    assert len(terms(" ".join(f"word{chr(97 + i)}x" for i in range(40)), ())) == MAX_TERMS


if __name__ == "__main__":  # the figures behind the assertions
    for rate, share in ((3, 0.3), (10_000, 0.02), (3, 0.0), (10_000, 0.0)):
        q, first, best = run(rate, share, burst_s=60 if share else 0)
        print(rate, share, "quiet listed/bucket", round(float(np.mean(q)), 3), "max", max(q), "first", first, best)
