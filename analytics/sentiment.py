"""VADER sentiment: compound score per text and the usual +/-0.05 labels."""

from __future__ import annotations

from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

POSITIVE = 0.05
NEGATIVE = -0.05


class Sentiment:
    """Scores texts with VADER; repeated texts (retweet storms, spam) are scored once."""

    def __init__(self, analyzer: SentimentIntensityAnalyzer | None = None, cache_size: int = 50_000):
        self._analyzer = analyzer or SentimentIntensityAnalyzer()
        self.compound = lru_cache(maxsize=cache_size)(self._compound)

    def _compound(self, text: str) -> float:
        return self._analyzer.polarity_scores(text)["compound"]


def label(compound: float) -> str:
    if compound >= POSITIVE:
        return "positive"
    if compound <= NEGATIVE:
        return "negative"
    return "neutral"
