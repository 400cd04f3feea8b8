"""Processor worker: read the posts stream in a consumer group, enrich in batches, write aggregates, XACK."""

from __future__ import annotations

import gc
import logging
import os
import socket
import threading
import time

import redis

from analytics import feed, outcomes
from analytics.care import CareModel, Triager
from analytics.learning import RelevanceModel
from config.settings import Settings
from model.post import Post
from store import aggregates
from store import care as care_store
from store import learning as learning_store
from store import posts as post_store
from store import sentiment as sentiment_store
from store import workers as worker_store
from store.keys import Keys
from streams.enrichment import Enricher, lookups, parse_all
from streams.idle_gc import IdleGC
from streams.sources.base import REDIS_ERRORS, redis_backoff

logger = logging.getLogger(__name__)

# At most this many entries a read. Only a backlog fills it (a worker keeping up reads what came in since its last
# batch), and there a batch's round trips, scripts and collection are shared by more posts: 2,000 against 500 cut
# Valkey's CPU per post by a quarter and gave two workers 16.7k against 13.1k posts/s (docs/benchmarks.md, 6 Dec);
# 5,000 gave no more and holds Valkey for longer in each batch's EXEC.
BATCH = 2000
BLOCK_MS = 1000
IDLE_BLOCK_MS = 100  # serving several partitions: how long to wait on one when all were empty
BEAT_EVERY_S = 1.0  # with K > 1: heartbeat and re-share the partitions (store/workers.py)
CLAIM_EVERY_S = 5.0
CLAIM_IDLE_MS = 30_000
MODEL_CHECK_S = 2.0
TRIM_EVERY_S = 1.0  # free what every group has acknowledged (posts.trim_acknowledged): one MULTI and one XTRIM


class Processor:
    """One consumer in the group. `handle` is one batch; `run` loops until stopped."""

    def __init__(
        self,
        settings: Settings,
        r: redis.Redis,
        keys: Keys,
        consumer: str | None = None,
        enricher: Enricher | None = None,
    ):
        self.settings, self.r, self.keys = settings, r, keys
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.enricher = enricher or Enricher(settings.event)
        self.thresholds = settings.event.thresholds
        self.processed = 0
        self.model: RelevanceModel | None = None
        self._model_version, self._model_checked = 0, 0.0
        self.triager = Triager(settings.event)
        self.care_model: CareModel | None = None
        self._care_version, self._care_checked = 0, 0.0
        self.sentiment_model = None
        self._sentiment_version, self._sentiment_checked = 0, 0.0

    def handle(
        self, entries: list[tuple[bytes, bytes | None]], now: float | None = None, keys: Keys | None = None
    ) -> int:
        """Process one batch of stream entries of partition `keys` (default: this processor's keys); returns how
        many new posts it counted."""
        # A batch allocates ~100k short-lived objects that reference counting frees; letting the cyclic
        # collector run every 700 of them (walking the caches each time) cost ~40 % of the worker's CPU.
        # Pause it for the batch; collection resumes between batches, so cycles are still freed.
        if not gc.isenabled():
            return self._handle(entries, now, keys or self.keys)
        gc.disable()
        try:
            return self._handle(entries, now, keys or self.keys)
        finally:
            gc.enable()

    def _handle(self, entries: list[tuple[bytes, bytes | None]], now: float | None, keys: Keys) -> int:
        now = time.time() if now is None else now
        posts, invalid = parse_all([p for _, p in entries])
        unique = list({p.id: p for p in posts}.values())
        handles, folds = lookups(unique)
        unseen, ctx, floors = aggregates.prepare(
            self.r,
            keys,
            [p.id for p in unique],
            handles,
            folds,
            {p.source for p in unique},
            self.thresholds.feed_size,
            now,
            refs=outcomes.refs(unique),
        )
        fresh_posts = [p for p in unique if p.id in unseen]
        ctx.model = self._model(now)
        ctx.sentiment_model = self._sentiment_model(now)
        enriched, agg = self.enricher.batch(fresh_posts, now, ctx)
        care = self.triager.batch(enriched, ctx.care_authors, self._care_model(now))  # brand posts only
        aggregates.write_batch(
            self.r,
            keys,
            entry_ids=[i for i, _ in entries],
            fresh_ids=[e.post.id for e in enriched],
            agg=agg,
            feed=feed.admit(enriched, floors, self.thresholds.feed_min_score),
            last_at=max((e.at for e in enriched), default=None),
            duplicates=len(posts) - len(fresh_posts),
            dead=invalid,
            signals=self._signals(enriched),
            care=care,
            outcomes=outcomes.count(enriched, ctx.published),
            now=now,
        )
        for _, reason in invalid:
            logger.warning("dead-lettered a stream entry: %s", reason)
        self.processed += len(enriched)
        return len(enriched)

    def _model(self, now: float) -> RelevanceModel | None:
        """The room's learned relevance model, re-read when the aggregator publishes a new version."""
        if now - self._model_checked >= MODEL_CHECK_S:
            self._model_checked = now
            version = learning_store.version(self.r, self.keys)
            if version != self._model_version:
                self._model_version, self.model = version, learning_store.load_model(self.r, self.keys)
        return self.model

    def _care_model(self, now: float) -> CareModel | None:
        """The care triage model learned from the team's corrections, re-read when the aggregator saves a new one."""
        if now - self._care_checked >= MODEL_CHECK_S:
            self._care_checked = now
            version = care_store.model_version(self.r, self.keys)
            if version != self._care_version:
                self._care_version, self.care_model = version, care_store.load_model(self.r, self.keys)
        return self.care_model

    def _sentiment_model(self, now: float):
        """The sentiment model learned from the team's corrections, re-read when the aggregator saves a new one."""
        if now - self._sentiment_checked >= MODEL_CHECK_S:
            self._sentiment_checked = now
            version = sentiment_store.model_version(self.r, self.keys)
            if version != self._sentiment_version:
                self._sentiment_version = version
                self.sentiment_model = sentiment_store.load_model(self.r, self.keys)
        return self.sentiment_model

    def _signals(self, enriched: list) -> list[dict]:
        """Posts that may deserve an alert: watch-words with the brand, influencers naming the brand."""
        out = []
        brand = self.enricher.brand
        for e in enriched:
            if brand not in e.series or e.post.repost_of:
                continue
            if e.watch_words:
                out.append(_signal("watch_word", e.post, e.watch_words[0], e.at))
            if (e.post.author.followers or 0) >= self.thresholds.influencer_followers:  # unknown: not an influencer
                out.append(_signal("influencer", e.post, e.post.author.handle, e.at))
        return out

    def run(self, stop: threading.Event) -> None:
        # The collector runs between batches, not in the middle of a read: left automatic, it ran during the
        # XREADGROUP (its reply is a batch's worth of new objects) and doubled that read's CPU.
        with IdleGC() as collector:
            self._run(stop, collector)

    def _run(self, stop: threading.Event, collector: IdleGC) -> None:
        post_store.ensure_group(self.r, self.keys)
        last_claim, last_trim, last_beat, backoff = 0.0, 0.0, 0.0, redis_backoff()
        served, turn = [self.keys.part(0)], 0
        logger.info("processor %s started", self.consumer)
        while not stop.is_set():
            try:
                if self.keys.partitions > 1 and time.monotonic() - last_beat > BEAT_EVERY_S:
                    last_beat = time.monotonic()
                    served = self._serve(served)
                if time.monotonic() - last_claim > CLAIM_EVERY_S:
                    last_claim = time.monotonic()
                    for part in served:
                        if entries := post_store.claim_stale(self.r, part, self.consumer, CLAIM_IDLE_MS, BATCH):
                            logger.info("reclaimed %d entries a crashed worker left pending", len(entries))
                            self.handle(entries, keys=part)
                if self.keys.partitions == 1:
                    self._read(served[0], BLOCK_MS)
                elif not sum(self._read(part, None) for part in served) and not self._help(served):
                    turn = (turn + 1) % len(served)  # all empty: wait on one of them, in turn
                    self._read(served[turn], IDLE_BLOCK_MS)
                if time.monotonic() - last_trim > TRIM_EVERY_S:
                    last_trim = time.monotonic()
                    for part in served:
                        post_store.trim_acknowledged(self.r, part)
                backoff.reset()
                collector.idle()
            except REDIS_ERRORS as exc:
                delay = backoff.next()
                logger.warning("Redis unavailable (%s); retrying in %.1fs", type(exc).__name__, delay)
                stop.wait(delay)
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                post_store.ensure_group(self.r, self.keys)  # the stream was deleted under us

    def _read(self, part: Keys, block_ms: int | None) -> int:
        """Read and handle one batch of `part`; returns the entries read."""
        entries = post_store.read_batch(self.r, part, self.consumer, BATCH, block_ms)
        if entries:
            self.handle(entries, keys=part)
        return len(entries)

    def _help(self, served: list[Keys]) -> int:
        """This worker's partitions are empty: read the others' (the group hands each entry to one reader), so K
        partitions that W workers do not divide evenly still keep every worker busy. Returns the entries read."""
        return sum(self._read(part, None) for part in self.keys.parts() if part not in served)

    def _serve(self, served: list[Keys]) -> list[Keys]:
        """Beat, and take this worker's share of the partitions among the live workers."""
        live = worker_store.beat(self.r, self.keys, self.consumer, time.time())
        mine = [self.keys.part(p) for p in worker_store.assign(self.keys.partitions, live, self.consumer)]
        if mine != served:
            logger.info(
                "processor %s serves partitions %s of %d (%d workers)",
                self.consumer,
                [p.partition for p in mine],
                self.keys.partitions,
                len(live),
            )
        return mine


def _signal(kind: str, post: Post, what: str, at: float) -> dict:
    return {
        "kind": kind,
        "what": what,
        "post_id": post.id,
        "handle": post.author.handle,
        "followers": post.author.followers,
        "text": post.text[:280],
        "at": at,
    }
