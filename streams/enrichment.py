"""Turn a batch of raw stream entries into enriched posts and the aggregates they add (pure, no I/O)."""

from __future__ import annotations

import logging
from collections import Counter
from functools import lru_cache

import orjson

from analytics import entities, relevance
from analytics.dedupe import fold_key, is_spammy_burst
from analytics.influence import reposted_handle
from analytics.matching import Matcher
from analytics.sentiment import Sentiment
from analytics.trends import terms as trend_terms
from config.settings import EventConfig
from model.enriched import Aggregates, Context, Enriched
from model.post import InvalidPost, Post, parse_post

logger = logging.getLogger(__name__)

ALL = "all"
LOW_FOLLOWERS = 50  # authors below this look like throwaway accounts when they repeat a text
STORYLINE_MIN_SCORE = 2.0  # posts at least this relevant feed the storylines ...
STORYLINE_SERIES_SCORE = 1.0  # ... and posts naming a competitor or a tracked term from this relevance on
TEXT_CACHE = 65_536  # distinct texts whose matches and topical relevance are remembered


def source_series(source: str) -> str:
    return f"src:{source}"


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


def lookups(posts: list[Post]) -> tuple[list[str], list[str]]:
    """(author handles, fold keys) the processor must read before enriching these posts."""
    return list({p.author.handle.lower() for p in posts}), list({fold_key(p.text) for p in posts})


class Enricher:
    """Everything the processor computes per post, configured once from the event file."""

    def __init__(self, event: EventConfig, sentiment: Sentiment | None = None, trend_bucket_s: float | None = None):
        self.event = event
        self.brand = event.brand.name
        self.competitors = {w.name for w in event.competitors}
        self.sentiment = sentiment or Sentiment()
        self.bucket_s = trend_bucket_s or event.thresholds.trend_bucket_s
        self.series = Matcher(
            [(w.name, list(w.keywords) + list(getattr(w, "handles", []))) for _, w in event.watches()]
        )
        self.profile = Matcher([(p, [p]) for p in event.brand.profile])
        self.watch = Matcher([(w, [w]) for w in event.alerts.watch_words])
        # The event's own multi-word phrases ("lights out", "halftime show") trend as phrases.
        self.phrases = Matcher(
            [(k, [k]) for _, w in event.watches() for k in w.keywords if " " in k.strip() and k[:1] not in "#@"]
        )
        # The sentiment series worth charting: the brand and each competitor.
        self.sentiment_series = {self.brand, *self.competitors}
        # Repeated texts (reposts, copy-paste) and repeated text+mentions are matched and scored once.
        self._about = lru_cache(maxsize=TEXT_CACHE)(self._about_uncached)
        self._text = lru_cache(maxsize=TEXT_CACHE)(self._text_uncached)
        self._source_series: dict[str, str] = {}
        self._learned: tuple[object, object] = (None, self.sentiment.compound)  # (sentiment model, its scorer)

    def signals(self, post: Post, series: list[str], ctx: Context) -> relevance.Signals:
        text, e, handle = post.text, post.engagement, post.author.handle.lower()
        return relevance.Signals(
            text=text,
            brand=self.brand in series,
            competitors=tuple(s for s in series if s in self.competitors),
            profile_hits=tuple((p, self.event.brand.profile[p]) for p in self.profile.match(text)),
            watch_words=tuple(self.watch.match(text)),
            followers=post.author.followers,
            reposted=ctx.reposted.get(handle, 0),
            mentioned=ctx.mentioned.get(handle, 0),
            verified=post.author.verified,
            engagement=relevance.engagement(e.likes, e.reposts, e.replies, e.quotes),
            is_repost=post.repost_of is not None or text.startswith("RT @"),
            is_reply=post.reply_to is not None,
            hashtags=len(post.hashtags),
            links=len(post.links),
        )

    def _text_uncached(self, text: str) -> tuple:
        """What a text alone says: (profile hits, watch-words, fold key, spam phrase, very short, RT prefix,
        trending terms)."""
        profile = self.event.brand.profile
        return (
            tuple((p, profile[p]) for p in self.profile.match(text)),
            tuple(self.watch.match(text)),
            fold_key(text),
            relevance.looks_spammy(text),
            len(text) < 15,
            text.startswith("RT @"),
            trend_terms(text, entities.hashtags(text), self.phrases.keywords(text)),
        )

    def _about_uncached(self, matched: str, text: str) -> tuple[list[str], list[tuple[float, str]], tuple]:
        """(series, topical relevance parts, text features) for a text and the mentions after it (`matched`)."""
        series = self.series.match(matched)
        features = self._text(text)
        parts = relevance.text_contributions(
            self.brand,
            self.brand in series,
            tuple(s for s in series if s in self.competitors),
            features[0],
            features[1],
        )
        return series, parts, features

    def enrich(
        self, post: Post, at: float, ctx: Context, learned: tuple[float, str] = (0.0, ""), agg: Aggregates | None = None
    ) -> Enriched:
        agg = agg if agg is not None else Aggregates()
        text, author = post.text, post.author
        mentions = post.mentions
        matched = text + " " + " ".join("@" + m for m in mentions) if mentions else text + " "
        series, text_parts, (_, watch_words, key, spam_phrase, short, rt, _) = self._about(matched, text)
        series = list(series)  # each post owns its list (it becomes post.matched_terms)
        handle = author.handle.lower()
        e = post.engagement
        parts = relevance.rules(
            text_parts,
            author.followers,
            ctx.reposted.get(handle, 0),
            ctx.mentioned.get(handle, 0),
            author.verified,
            relevance.engagement(e.likes, e.reposts, e.replies, e.quotes),
            post.repost_of is not None or rt,
            len(post.hashtags),
            spam_phrase,
            short,
            len(post.links),
        )
        seen_before = ctx.folds.get(key, 0) + agg.folds.get(key, 0)  # get: a Counter's miss is a Python call
        low = ctx.folds_low.get(key, 0) + agg.folds_low.get(key, 0) + _low(author.followers)
        spam = is_spammy_burst(seen_before + 1, seen_before + 1, 0 if low * 2 > seen_before + 1 else 1000)
        if learned[1]:
            parts.append(learned)
        if spam:
            parts.append((-3.0, f"copy-paste burst ×{seen_before + 1}"))
        scored = relevance.score_parts(parts)
        post.__dict__["matched_terms"] = series  # as pydantic would set it, without its Python-level __setattr__
        enriched = Enriched(
            post,
            None,
            scored.score,
            scored.reasons,
            series,
            list(watch_words),
            at,
            key,
            seen_before == 0,
            spam,
            scorer=self.scorer(ctx.sentiment_model),
        )
        enriched.junk = spam or spam_phrase or relevance.tag_stuffed(len(post.hashtags), len(post.links))
        return enriched

    def scorer(self, model) -> object:
        """The lexicon's compound, or, once the team has corrected posts, the learned model's where it is confident
        (analytics/sentiment_learning.py); texts are scored once per model."""
        if model is None or not model.ready:
            return self.sentiment.compound
        if self._learned[0] is not model:
            lexicon = self.sentiment.compound

            def learned(text: str) -> float:
                return model.apply(text, lexicon(text))[0]

            self._learned = (model, lru_cache(maxsize=TEXT_CACHE)(learned))
        return self._learned[1]

    def batch(self, posts: list[Post], now: float, ctx: Context | None = None) -> tuple[list[Enriched], Aggregates]:
        ctx = ctx or Context()
        agg = Aggregates()
        learned = ctx.model.points([_model_view(p) for p in posts]) if ctx.model and ctx.model.ready else []
        enriched = []
        folds, folds_low = agg.folds, agg.folds_low
        for i, p in enumerate(posts):
            e = self.enrich(p, p.received_at or now, ctx, learned[i] if learned else (0.0, ""), agg)
            # A later post of the batch reads these (seen before, low-follower share), so they count as we go.
            folds[e.fold] = folds.get(e.fold, 0) + 1
            folds_low[e.fold] = folds_low.get(e.fold, 0) + _low(p.author.followers)
            enriched.append(e)
        self._count(enriched, ctx, agg)
        return enriched, agg

    def _count(self, enriched: list[Enriched], ctx: Context, agg: Aggregates) -> None:
        """The rest of what a batch adds. The series and terms are gathered per second and per trend bucket and
        counted in one go: a Counter increment per post and term was a third of the enricher's CPU."""
        by_second: dict[int, list[str]] = {}
        by_bucket: dict[int, list[str]] = {}
        sentiment = agg.sentiment
        sentiment_series = self.sentiment_series
        for e in enriched:
            post = e.post
            sec = int(e.at)
            source = post.source
            src = self._source_series.get(source) or self._source_series.setdefault(source, source_series(source))
            names = by_second.get(sec)
            if names is None:
                names = by_second[sec] = []
            names.append(ALL)
            names.append(src)
            for s in e.series:
                names.append(s)
                if s in sentiment_series:
                    sentiment[(sec, s)] += e.sentiment
            if not e.junk:  # giveaway spam rides on hot tags; it must not make its own tags trend
                # The text's hashtags, phrases and words, cached with its other features (sources put every
                # hashtag in the text: model.post.source_post).
                bucket = int(e.at // self.bucket_s)
                terms = by_bucket.get(bucket)
                if terms is None:
                    terms = by_bucket[bucket] = []
                terms.extend(self._text(post.text)[6])
            if not e.first and e.fold in ctx.in_feed:
                agg.similar[e.fold] += 1
            if handle := reposted_handle(post.text, post.repost_of):
                agg.reposted[handle.lower()] += 1
            if post.mentions:
                agg.mentioned.update(post.mentions)
            if (
                e.first
                and not e.spam
                and (e.score >= STORYLINE_MIN_SCORE or (e.series and e.score >= STORYLINE_SERIES_SCORE))
            ):
                agg.storyline.append(_storyline(e))
        volume, minutes, tags = agg.volume, agg.minutes, agg.tags
        for sec, names in by_second.items():
            minute = sec // 60 * 60
            for s, n in Counter(names).items():
                volume[(sec, s)] += n
                minutes[(minute, s)] += n
        for bucket, terms in by_bucket.items():
            for term, n in Counter(terms).items():
                tags[(bucket, term)] += n


def _storyline(e: Enriched) -> bytes:
    """The compact form storylines cluster."""
    return orjson.dumps(
        {
            "id": e.post.id,
            "text": e.post.text,
            "score": e.score,
            "received_at": e.at,
            "hashtags": e.post.hashtags,
            "series": e.series,
            "author": {"handle": e.post.author.handle},
        }
    )


def _low(followers: int | None) -> bool:
    """A throwaway-looking account: few followers *known*. Unknown (None: Bluesky, webhooks) is not low."""
    return followers is not None and followers < LOW_FOLLOWERS


def _model_view(p: Post) -> dict:
    """The fields the learned model reads."""
    return {"text": p.text, "hashtags": p.hashtags, "author": {"handle": p.author.handle}, "source": p.source}
