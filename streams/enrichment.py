"""Turn a batch of raw stream entries into enriched posts and the aggregates they add (pure, no I/O)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import orjson

from analytics import relevance
from analytics.matching import Matcher
from analytics.sentiment import Sentiment
from config.settings import EventConfig
from streams.post import InvalidPost, Post, parse_post

logger = logging.getLogger(__name__)

ALL = "all"


def source_series(source: str) -> str:
    return f"src:{source}"


@dataclass
class Enriched:
    post: Post
    sentiment: float
    score: float
    reasons: list[str]
    series: list[str]
    watch_words: list[str]
    at: float  # arrival time the aggregates are bucketed by

    def body(self) -> bytes:
        """What the feed shows: the post plus its enrichment, as JSON."""
        data = self.post.model_dump(mode="json", exclude_none=True)
        data.update(sentiment=self.sentiment, score=self.score, reasons=self.reasons, series=self.series)
        return orjson.dumps(data)


@dataclass
class Aggregates:
    """Counter increments a batch adds; keys are (time unit, field)."""

    volume: Counter = field(default_factory=Counter)  # (second, series) -> posts
    sentiment: Counter = field(default_factory=Counter)  # (second, series) -> sum of compound
    minutes: Counter = field(default_factory=Counter)  # (minute, series) -> posts
    tags: Counter = field(default_factory=Counter)  # (bucket, hashtag) -> posts


def parse_all(payloads: list[bytes | None]) -> tuple[list[Post], list[tuple[bytes, str]]]:
    """Valid posts, and (payload, reason) for each one that is not."""
    posts, invalid = [], []
    for raw in payloads:
        if raw is None:
            invalid.append((b"", "stream entry has no 'p' field"))
            continue
        try:
            posts.append(parse_post(raw))
        except InvalidPost as exc:
            invalid.append((raw, exc.reason))
    return posts, invalid


class Enricher:
    """Everything the processor computes per post, configured once from the event file."""

    def __init__(self, event: EventConfig, sentiment: Sentiment | None = None, trend_bucket_s: float | None = None):
        self.event = event
        self.brand = event.brand.name
        self.competitors = {w.name for w in event.competitors}
        self.sentiment = sentiment or Sentiment()
        self.bucket_s = trend_bucket_s or event.thresholds.trend_bucket_s
        self.series = Matcher([(w.name, list(w.keywords) + list(getattr(w, "handles", []))) for _, w in event.watches()])
        self.profile = Matcher([(p, [p]) for p in event.brand.profile])
        self.watch = Matcher([(w, [w]) for w in event.alerts.watch_words])
        # The sentiment series worth charting: the brand and each competitor.
        self.sentiment_series = {self.brand, *self.competitors}

    def enrich(self, post: Post, at: float) -> Enriched:
        text = post.text
        series = self.series.match(text + " " + " ".join("@" + m for m in post.mentions))
        compound = self.sentiment.compound(text)
        hits = tuple((p, self.event.brand.profile[p]) for p in self.profile.match(text))
        watch = self.watch.match(text)
        e = post.engagement
        signals = relevance.Signals(
            text=text, brand=self.brand in series, competitors=tuple(s for s in series if s in self.competitors),
            profile_hits=hits, watch_words=tuple(watch), followers=post.author.followers,
            verified=post.author.verified, engagement=e.likes + 2 * e.reposts + e.replies + e.quotes,
            is_repost=post.repost_of is not None or text.startswith("RT @"), is_reply=post.reply_to is not None,
            hashtags=len(post.hashtags), links=len(post.links))
        scored = relevance.score(signals, self.brand)
        post.matched_terms = series
        return Enriched(post, compound, scored.score, scored.reasons, series, watch, at)

    def batch(self, posts: list[Post], now: float) -> tuple[list[Enriched], Aggregates]:
        enriched = [self.enrich(p, p.received_at or now) for p in posts]
        agg = Aggregates()
        for e in enriched:
            self._count(e, agg)
        return enriched, agg

    def _count(self, e: Enriched, agg: Aggregates) -> None:
        sec = int(e.at)
        minute = sec // 60 * 60
        for s in (ALL, source_series(e.post.source), *e.series):
            agg.volume[(sec, s)] += 1
            agg.minutes[(minute, s)] += 1
            if s in self.sentiment_series:
                agg.sentiment[(sec, s)] += e.sentiment
        bucket = int(e.at // self.bucket_s)
        for tag in e.post.hashtags:
            agg.tags[(bucket, tag)] += 1
