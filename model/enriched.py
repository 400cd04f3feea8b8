"""What the processor makes of a batch: enriched posts, the counters they add, and what goes into the feeds.

Plain records shared by the pipeline (which fills them in pure code) and the store (which writes them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson

from model.post import Post

if TYPE_CHECKING:  # the model is only carried here; model/ imports nothing from the pipeline
    from analytics.learning import RelevanceModel
    from analytics.sentiment_learning import SentimentModel

FEED_ALL = "all"  # the main feed's name in `FeedWrite.ranks` and in feed floors; the others are source names


@dataclass
class Context:
    """What the batch needs to know from before it: read from Redis by the processor, passed in."""

    reposted: dict[str, int] = field(default_factory=dict)  # author handle -> times reposted recently
    mentioned: dict[str, int] = field(default_factory=dict)  # author handle -> times @-mentioned recently
    folds: dict[str, int] = field(default_factory=dict)  # fold key -> posts with that text recently
    folds_low: dict[str, int] = field(default_factory=dict)  # fold key -> of which by low-follower authors
    in_feed: set[str] = field(default_factory=set)  # fold keys whose first post is in the feed
    model: RelevanceModel | None = None
    care_authors: set[str] = field(default_factory=set)  # lower-case handles with an open care case
    sentiment_model: SentimentModel | None = None  # learned from the team's corrections (None: lexicon only)
    published: dict[str, str] = field(default_factory=dict)  # post id of one of our responses -> its draft id


class Enriched:
    """A post with its enrichment. `sentiment` is computed on first use when the enricher defers it: only
    posts in a charted sentiment series or admitted to the feed (their body carries it) pay for VADER."""

    __slots__ = (
        "_scorer",
        "_sentiment",
        "at",
        "first",
        "fold",
        "junk",
        "post",
        "reasons",
        "score",
        "series",
        "spam",
        "watch_words",
    )

    def __init__(
        self,
        post: Post,
        sentiment: float | None,
        score: float,
        reasons: list[str],
        series: list[str],
        watch_words: list[str],
        at: float,
        fold: str = "",
        first: bool = True,
        spam: bool = False,
        *,
        scorer: Callable[[str], float] | None = None,
    ):
        if sentiment is None and scorer is None:
            raise ValueError("Enriched needs a sentiment or a scorer to compute it")
        self.post, self._sentiment, self._scorer = post, sentiment, scorer
        self.score, self.reasons, self.series, self.watch_words = score, reasons, series, watch_words
        self.at, self.fold, self.first, self.spam = at, fold, first, spam
        self.junk = spam  # spam-looking by its form too: its hashtags must not make anything "trend"

    @property
    def sentiment(self) -> float:
        """VADER compound of the post's text (arrival time does not matter: computed on first use)."""
        if self._sentiment is None:
            self._sentiment = self._scorer(self.post.text)
        return self._sentiment

    @sentiment.setter
    def sentiment(self, value: float) -> None:
        self._sentiment = value

    def __repr__(self) -> str:
        return (
            f"Enriched(post={self.post.id!r}, score={self.score!r}, series={self.series!r}, at={self.at!r}, "
            f"fold={self.fold!r}, first={self.first!r}, spam={self.spam!r})"
        )

    def body(self) -> bytes:
        """What the feed shows: the post plus its enrichment, as JSON."""
        data = self.post.model_dump(mode="json", exclude_none=True)
        data.update(
            sentiment=self.sentiment, score=self.score, reasons=self.reasons, series=self.series, fold=self.fold
        )
        return orjson.dumps(data)


@dataclass
class Aggregates:
    """Counter increments a batch adds; keys are (time unit, field)."""

    volume: Counter = field(default_factory=Counter)  # (second, series) -> posts
    sentiment: Counter = field(default_factory=Counter)  # (second, series) -> sum of compound
    minutes: Counter = field(default_factory=Counter)  # (minute, series) -> posts
    tags: Counter = field(default_factory=Counter)  # (bucket, hashtag) -> posts
    folds: Counter = field(default_factory=Counter)  # fold key -> posts
    folds_low: Counter = field(default_factory=Counter)  # fold key -> posts by low-follower authors
    similar: Counter = field(default_factory=Counter)  # fold key (already in the feed) -> more similar posts
    reposted: Counter = field(default_factory=Counter)  # handle -> reposts of it
    mentioned: Counter = field(default_factory=Counter)  # handle -> mentions of it
    storyline: list[bytes] = field(default_factory=list)  # compact relevant posts for storylines


@dataclass
class FeedWrite:
    """Posts a batch adds to the feeds, decided before the store sees them."""

    ranks: dict[str, dict[str, float]] = field(default_factory=dict)  # feed (FEED_ALL or a source) -> id -> rank
    bodies: dict[str, bytes] = field(default_factory=dict)  # post id -> what the feed shows
    folds: list[str] = field(default_factory=list)  # fold keys of the admitted posts ("+N similar" starts at 0)
