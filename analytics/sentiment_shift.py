"""Sentiment over time: the bins it is charted and judged in, and net-sentiment drop detection per series
(the recent mean against an exponentially weighted baseline)."""

from __future__ import annotations

import logging
import math
from collections import deque

logger = logging.getLogger(__name__)

SENTIMENT_BIN_S = 30  # the chart's bins and the drop detector's


def bin_totals(counts: dict, sums: dict, start: int, bin_s: int = SENTIMENT_BIN_S) -> tuple[float, float]:
    """(posts, sum of compound sentiment) in the seconds [start, start + bin_s) of per-second counts and sums."""
    secs = range(start, start + bin_s)
    return sum(counts.get(s, 0) for s in secs), sum(sums.get(s, 0.0) for s in secs)


class SentimentDrop:
    """Feed one bin (~30 s) at a time: posts and the sum of their compound sentiment.

    The recent mean covers the bins of the last `recent_s`; bins older than that are folded into a
    post-weighted exponential baseline (`half_life_s`), so a drop in progress never drags its own
    baseline down. Alerts when recent and baseline each rest on `min_posts` posts and the recent mean
    sits `drop` or more below the baseline; then stays quiet for `cooldown_s`.
    """

    def __init__(
        self,
        half_life_s: float = 600.0,
        min_posts: int = 20,
        drop: float = 0.25,
        cooldown_s: float = 300.0,
        *,
        recent_s: float = 90.0,
    ):
        self.half_life_s, self.min_posts, self.drop = half_life_s, min_posts, drop
        self.cooldown_s, self.recent_s = cooldown_s, recent_s
        self._recent: deque[tuple[float, int, float]] = deque()
        self._posts = 0.0  # EW weight of posts in the baseline
        self._sum = 0.0  # EW sum of their sentiment
        self._baseline_at: float | None = None
        self._last_alert = -math.inf

    @property
    def baseline(self) -> float | None:
        return self._sum / self._posts if self._posts > 0 else None

    def step(self, ts: float, posts: int, sentiment_sum: float) -> dict | None:
        """The bin ending at `ts`; an alert dict when this bin confirms a drop, else None."""
        self._recent.append((ts, posts, sentiment_sum))
        while self._recent and self._recent[0][0] <= ts - self.recent_s:
            self._fold(*self._recent.popleft())
        return self._check(ts)

    def _fold(self, ts: float, posts: int, sentiment_sum: float) -> None:
        if self._baseline_at is not None:
            decay = 0.5 ** (max(ts - self._baseline_at, 0.0) / self.half_life_s)
            self._posts *= decay
            self._sum *= decay
        self._posts += posts
        self._sum += sentiment_sum
        self._baseline_at = ts

    def _check(self, ts: float) -> dict | None:
        posts = sum(p for _, p, _ in self._recent)
        baseline = self.baseline
        if posts < self.min_posts or baseline is None or self._posts < self.min_posts:
            return None
        mean = sum(s for _, _, s in self._recent) / posts
        if baseline - mean < self.drop or ts - self._last_alert < self.cooldown_s:
            return None
        self._last_alert = ts
        return {
            "timestamp": ts,
            "kind": "sentiment_drop",
            "score": round(baseline - mean, 4),
            "mean": round(mean, 4),
            "baseline": round(baseline, 4),
        }
