"""The aggregator: once a tick, turn counters into the one snapshot every screen reads.

Three steps: read the tick's inputs from the store (`read`), build the snapshot from them in pure code
(streams/tick.py), write the snapshot and what changed (`write`).
"""

from __future__ import annotations

import logging
import threading
import time

import orjson
import redis

from analytics.alerts import AlertBook, AlertEngine
from analytics.care import CareModel
from analytics.care import _sklearn as care_sklearn
from analytics.learning import RelevanceModel
from analytics.learning import _sklearn as learning_sklearn
from analytics.storylines import ready as storylines_ready
from analytics.storylines import warm_up
from analytics.trends import TrendDetector
from config.settings import Settings
from model.post import SOURCES
from store import aggregates, cards, snapshot
from store import alerts as alert_store
from store import care as care_store
from store import health as health_store
from store import learning as learning_store
from store import outcomes as outcome_store
from store import posts as post_store
from store import sentiment as sentiment_store
from store.keys import AGGREGATOR_LEASE_S, Keys
from store.lease import Lease, LeaseLost
from streams.idle_gc import IdleGC
from streams.notify import Notifier
from streams.sources.base import REDIS_ERRORS, redis_backoff
from streams.tick import ALERTS_SHOWN, Built, TickInputs, TickState, build

logger = logging.getLogger(__name__)

FEED_TOP = 100
FEED_PER_SOURCE = 30
SAVE_STATE_EVERY = 20
TRIM_ALERTS_EVERY = 60


def _warm_up() -> None:
    """Storylines' imports first (they gate the storylines), then the models' (so a first mark or care correction
    does not hold a tick while scikit-learn's linear models import)."""
    try:
        warm_up()
        learning_sklearn()
        care_sklearn()
    except Exception:  # noqa: BLE001 - the tick imports on use and says what is wrong there
        logger.exception("warming up scikit-learn failed")


class Aggregator:
    """Builds snapshots. `tick(now)` is one build; `run` repeats it every `settings.tick_s`."""

    def __init__(self, settings: Settings, r: redis.Redis, keys: Keys, *, warm_in_background: bool = False):
        # Storylines and the learned models need scikit-learn and scipy (seconds to import, more on busy cores): a
        # restarted aggregator ticks at once and clusters once the import is done (nothing here imports them: the
        # models build their sklearn parts on first use, under one import lock). Tests import them here so their
        # first tick has storylines. In the background it starts after the first snapshot: the import is seconds of
        # CPU that would otherwise compete with that snapshot (and with the room's other restarting processes).
        self._warm_up_later = warm_in_background  # started by `run` once the first snapshot is out
        if not warm_in_background:
            warm_up()
        self.settings, self.r, self.keys = settings, r, keys
        self.event = settings.event
        self.th = self.event.thresholds
        state = alert_store.load_state(r, keys)
        self.state = TickState(
            trends=self._load_trends(),
            alerts=AlertEngine(
                self.event, AlertBook(self.event.alerts.cooldown_s, state.get("last", {}), state.get("groups", {}))
            ),
            model=learning_store.load_model(r, keys) or RelevanceModel(),
            care_model=care_store.load_model(r, keys) or CareModel(),
        )
        self.state.sentiment_model = sentiment_store.load_model(r, keys) or self.state.sentiment_model
        self.sentiment_cursor = sentiment_store.load_cursor(r, keys)
        self.signal_cursor = state.get("cursor", "0-0")
        self.marks_cursor = learning_store.load_cursor(r, keys)
        url = settings.alert_webhook_url
        self.notifier = Notifier(url).start() if url else None
        self.version = int(r.get(keys.snapshot_version) or 0)
        self.ticks = 0
        self.lease: Lease | None = None  # set by run(): snapshots are then written only while it is held

    @property
    def model(self) -> RelevanceModel:
        return self.state.model

    def _load_trends(self) -> TrendDetector:
        raw = self.r.get(self.keys.trend_state)
        if raw:
            try:
                return TrendDetector.from_bytes(raw)
            except Exception:  # noqa: BLE001 - a state from another version is not worth a crash
                logger.warning("could not restore trend state; starting fresh")
        return TrendDetector(bucket_s=self.th.trend_bucket_s)

    def tick(self, now: float | None = None) -> dict:
        now = time.time() if now is None else now
        aggregates.trim_feeds(self.r, self.keys, SOURCES, self.th.feed_size)  # keeps the feeds bounded
        inputs = self.read(now)
        built = build(self.event, inputs, self.state, now)
        self.write(inputs, built)
        return built.snap

    def read(self, now: float) -> TickInputs:
        """Everything the tick's snapshot is built from."""
        r, keys = self.r, self.keys
        end = int(now)
        start = end - self.th.window_minutes * 60 + 1
        sources = health_store.read_all(r, keys)
        bucket = int(now // self.th.trend_bucket_s)
        signal_cursor, signals = alert_store.read_signals(r, keys, self.signal_cursor)
        marks_cursor, marks, labels = learning_store.read_marks(r, keys, self.marks_cursor)
        story = None
        if self.state.storylines_due(now) and storylines_ready():
            story = [orjson.loads(p) for part in keys.parts() for p in r.lrange(part.storyline_posts, 0, -1)]
        feed = aggregates.top_feed(r, keys, FEED_TOP)
        by_source = {s: aggregates.top_feed(r, keys, FEED_PER_SOURCE, s) for s in sources}
        published, outcomes = outcome_store.for_feed(r, keys, [*feed, *(p for ps in by_source.values() for p in ps)])
        return TickInputs(
            start=start,
            end=end,
            window=aggregates.volume_window(r, keys, start, end),
            stats=post_store.stats(r, keys),
            lag=post_store.lag(r, keys),
            sources=sources,
            tag_counts=aggregates.tag_counts(r, keys, [bucket - 1, bucket]),
            feed=feed,
            feed_by_source=by_source,
            signals=signals,
            signal_cursor=signal_cursor,
            alerts=alert_store.recent(r, keys, ALERTS_SHOWN),
            marks=marks,
            labels=labels,
            marks_cursor=marks_cursor,
            story_posts=story,
            cards_version=cards.version(r, keys),
            dropped=post_store.dropped(r, keys),
            care=care_store.read_tick(r, keys),
            sentiment=sentiment_store.read_tick(r, keys, self.sentiment_cursor),
            published=published,
            outcomes=outcomes,
        )

    def write(self, inputs: TickInputs, built: Built) -> None:
        """Keep what the tick changed (alerts, cool-downs, the model, trend state), then publish the snapshot."""
        r, keys = self.r, self.keys
        self.signal_cursor = inputs.signal_cursor
        self._write_care(inputs, built)
        alert_store.add(r, keys, built.new_alerts)
        for alert in built.new_alerts:
            logger.info("alert %s: %s", alert["severity"], alert["title"])
            if self.notifier and not alert.get("update"):  # a grouped alert that grew was sent when it opened
                self.notifier.submit(alert)
        if built.alerts_changed:
            book = self.state.alerts.book
            alert_store.save_state(r, keys, {"cursor": self.signal_cursor, "last": book.last, "groups": book.groups})
        if self.ticks % TRIM_ALERTS_EVERY == 0:
            alert_store.trim(r, keys)
        if built.learned:
            self.marks_cursor = inputs.marks_cursor
            learning_store.save_model(r, keys, self.model, self.marks_cursor)
            logger.info("learned from %d marks (%d in all)", built.learned, self.model.marks)
        if built.sentiment_learned:
            self.sentiment_cursor = inputs.sentiment.cursor
            sentiment_store.save_model(r, keys, self.state.sentiment_model, self.sentiment_cursor)
        self.version += 1
        built.snap["version"] = self.version
        if self.lease is not None:
            built.snap["writer"] = self.lease.holder  # which aggregator wrote it (failover: exactly one at a time)
        snapshot.write(r, keys, built.snap, self.version, self.lease)
        self.ticks += 1
        if self.ticks % SAVE_STATE_EVERY == 0:
            r.set(keys.trend_state, self.state.trends.to_bytes())

    def _write_care(self, inputs: TickInputs, built: Built) -> None:
        """Care: save what the model learned, fold the tick's posts into cases and escalate (re-checked on the
        cases as they are now); an escalation that no longer applies drops its alert."""
        care = built.care
        if care is None:
            return
        if care.learned:
            care_store.save_model(self.r, self.keys, self.state.care_model)
        applied = care_store.apply_tick(
            self.r, self.keys, self.event.care, inputs.care, care.escalations, built.snap["built_at"]
        )
        dropped = {f"{c}:{w}" for c, w, _ in care.escalations} - {f"{c}:{w}" for c, w, _ in applied}
        if dropped:

            def keep(a: dict) -> bool:
                return f"{a.get('case_id')}:{a.get('kind', '').removeprefix('care_')}" not in dropped

            built.new_alerts[:] = [a for a in built.new_alerts if keep(a)]
            built.snap["alerts"] = [a for a in built.snap["alerts"] if keep(a)]
        for case_id, reason, to in applied:
            logger.warning("care case %s escalated to %s (%s)", case_id, to, reason)

    def run(self, stop: threading.Event, lease: Lease | None = None) -> None:
        """Tick until `stop`; with a lease, renew it before each tick and return as soon as it is lost."""
        logger.info("aggregator started, tick %.2fs", self.settings.tick_s)
        self.lease = lease
        with IdleGC() as collector:
            self._run(stop, lease, collector)

    def _run(self, stop: threading.Event, lease: Lease | None, collector: IdleGC) -> None:
        backoff = redis_backoff()  # a restarted Redis is used again within a second
        next_tick = time.time()
        while not stop.is_set():
            try:
                if lease is not None and not lease.renew():
                    raise LeaseLost(f"held by {lease.current()!r}")
                self.tick()
                backoff.reset()
                if self._warm_up_later:
                    self._warm_up_later = False
                    logger.info("first snapshot built; importing scikit-learn for storylines in the background")
                    threading.Thread(target=_warm_up, name="sklearn-warm-up", daemon=True).start()
            except LeaseLost as exc:
                logger.warning("aggregator lease lost (%s): standing by", exc)
                return
            except REDIS_ERRORS as exc:
                delay = backoff.next()
                logger.warning("Redis unavailable (%s); retrying in %.1fs", type(exc).__name__, delay)
                stop.wait(delay)
                continue
            collector.idle()  # after the snapshot is out, not inside the next tick
            next_tick += self.settings.tick_s
            if (wait := next_tick - time.time()) > 0:
                stop.wait(wait)
            else:
                next_tick = time.time()  # fell behind: do not try to catch up with a burst of builds


LEASE_POLL_S = 0.2  # how often a standby asks for the lease: takeover within AGGREGATOR_LEASE_S + this + a start


def lead(settings: Settings, r: redis.Redis, keys: Keys, stop: threading.Event, *, make=None) -> None:
    """Run as the aggregator that writes snapshots while this process holds the lease; stand by otherwise.

    Several can run for failover: exactly one holds the lease and writes; when it dies its lease lapses and a
    standby takes it, builds its state from Redis (what the last holder saved) and carries on from the last
    snapshot version. A clean stop releases the lease at once."""
    make = make or (lambda: Aggregator(settings, r, keys, warm_in_background=True))
    lease = Lease(r, keys.aggregator_lease, AGGREGATOR_LEASE_S)
    backoff, waiting, warmed = redis_backoff(), None, False
    try:
        while not stop.is_set():
            try:
                if not lease.take_from_dead():
                    if (who := lease.current()) != waiting:
                        logger.info("standing by: %s writes the snapshots", who)
                        if waiting is None and not warmed:  # a standby has time: be ready to lead at once
                            threading.Thread(target=_warm_up, name="sklearn-warm-up", daemon=True).start()
                            warmed = True
                        waiting = who
                    stop.wait(LEASE_POLL_S)
                    continue
                waiting = None
                logger.info("aggregator lease taken by %s", lease.holder)
                make().run(stop, lease)
                backoff.reset()
            except REDIS_ERRORS as exc:
                delay = backoff.next()
                logger.warning("Redis unavailable (%s); retrying in %.1fs", type(exc).__name__, delay)
                stop.wait(delay)
    finally:
        try:
            lease.release()
        except REDIS_ERRORS:
            pass
