"""The aggregator: once a tick, turn counters into the one snapshot every screen reads."""

from __future__ import annotations

import logging
import threading
import time

import orjson
import redis

from analytics.alerting import AlertBook
from analytics.learning import RelevanceModel
from analytics.storylines import storylines
from analytics.trends import TrendDetector
from config.settings import Settings
from model.post import SOURCES
from store import aggregates, cards, snapshot
from store import alerts as alert_store
from store import health as health_store
from store import learning as learning_store
from store import posts as post_store
from store.keys import Keys
from streams.alerting import AlertEngine, schedule_windows
from streams.enrichment import ALL
from streams.notify import Notifier
from streams.sources.backoff import Backoff

logger = logging.getLogger(__name__)

FEED_TOP = 100
FEED_PER_SOURCE = 30
SENTIMENT_BIN_S = 30
SAVE_STATE_EVERY = 20
STORYLINE_EVERY_S = 30.0
# Below this a term is within its own normal noise: listing it would put busy tags on top by volume.
TREND_MIN_Z = 2.0
STORYLINE_WINDOW_S = 600.0
BACKOFF_CEILING_S = 30.0


class Aggregator:
    """Builds snapshots. `tick(now)` is one build; `run` repeats it every `settings.tick_s`."""

    def __init__(self, settings: Settings, r: redis.Redis, keys: Keys):
        self.settings, self.r, self.keys = settings, r, keys
        self.event = settings.event
        self.th = self.event.thresholds
        self.trends = self._load_trends()
        state = alert_store.load_state(r, keys)
        self.alerts = AlertEngine(self.event, AlertBook(self.event.alerts.cooldown_s, state.get("last", {})))
        self.signal_cursor = state.get("cursor", "0-0")
        self.model = learning_store.load_model(r, keys) or RelevanceModel()
        self.marks_cursor = learning_store.load_cursor(r, keys)
        self.storylines: list[dict] = []
        self.storylines_at = 0.0
        url = settings.get(self.event.alerts.webhook_url_env) or settings.get("WARROOM_ALERT_WEBHOOK_URL")
        self.notifier = Notifier(url).start() if url else None
        self.version = int(r.get(keys.snapshot_version) or 0)
        self.ticks = 0

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
        aggregates.trim_feeds(self.r, self.keys, SOURCES, self.th.feed_size)
        snap = self.build(now)
        self.version += 1
        snap["version"] = self.version
        snapshot.write(self.r, self.keys, snap, self.version)
        self.ticks += 1
        if self.ticks % SAVE_STATE_EVERY == 0:
            self.r.set(self.keys.trend_state, self.trends.to_bytes())
        return snap

    def build(self, now: float) -> dict:
        end = int(now)
        start = end - self.th.window_minutes * 60 + 1
        window = aggregates.volume_window(self.r, self.keys, start, end)
        stats = post_store.stats(self.r, self.keys)
        sources = health_store.read_all(self.r, self.keys)
        return {
            "built_at": now,
            "event": {"id": self.event.id, "name": self.event.name, "brand": self.event.brand.name},
            "volume": self._volume(window, start, end),
            "sentiment": self._sentiment(window, start, end),
            "trending": self._trending(now),
            "feed": aggregates.top_feed(self.r, self.keys, FEED_TOP),
            "feed_by_source": {s: aggregates.top_feed(self.r, self.keys, FEED_PER_SOURCE, s) for s in sources},
            "alerts": self._alerts(now, window, sources),
            "storylines": self._storylines(now),
            "learning": self._learn(),
            "cards_version": cards.version(self.r, self.keys),
            "pipeline": self._pipeline(stats, window, end, now),
            "sources": sources,
            "gaps": [g for h in sources.values() for g in h.get("gaps", []) if (g[1] or now) >= start],
        }

    def _series_names(self) -> list[tuple[str, str]]:
        return [(kind, w.name) for kind, w in self.event.watches()]

    def _volume(self, window: dict, start: int, end: int) -> dict:
        t = list(range(start, end + 1))
        series = {name: [int(window.get(name, {}).get(s, 0)) for s in t] for _, name in self._series_names()}
        series[ALL] = [int(window.get(ALL, {}).get(s, 0)) for s in t]
        return {"t": t, "series": series, "kinds": dict((n, k) for k, n in self._series_names()) | {ALL: "all"}}

    def _sentiment(self, window: dict, start: int, end: int) -> dict:
        """Mean VADER compound per bin for the brand and each competitor (None where too few posts)."""
        bins = list(range(start - start % SENTIMENT_BIN_S, end + 1, SENTIMENT_BIN_S))
        out = {}
        for kind, name in self._series_names():
            if kind == "term":
                continue
            counts, sums = window.get(name, {}), window.get(f"{name}~s", {})
            means = []
            for b in bins:
                n = sum(counts.get(s, 0) for s in range(b, b + SENTIMENT_BIN_S))
                total = sum(sums.get(s, 0.0) for s in range(b, b + SENTIMENT_BIN_S))
                means.append(round(total / n, 3) if n >= 3 else None)
            out[name] = means
        return {"t": bins, "series": out, "bin_s": SENTIMENT_BIN_S}

    def _trending(self, now: float) -> list[dict]:
        bucket = int(now // self.th.trend_bucket_s)
        for b, counts in sorted(aggregates.tag_counts(self.r, self.keys, [bucket - 1, bucket]).items()):
            self.trends.update(b, counts)
        return [
            {
                "term": t.term,
                "count": t.count,
                "rate_per_min": round(t.rate_per_min, 1),
                "baseline_per_min": round(t.baseline_per_min, 1),
                "significance": round(t.significance, 2),
                "rising_since": t.rising_since,
            }
            for t in self.trends.top(now, 10)
            if t.significance >= TREND_MIN_Z
        ]

    def _alerts(self, now: float, window: dict, sources: dict) -> list[dict]:
        self.alerts.set_schedule(schedule_windows(self.event, (sources.get("simulator") or {}).get("clock")))
        self.signal_cursor, signals = alert_store.read_signals(self.r, self.keys, self.signal_cursor)
        new = self.alerts.signals(signals) + self.alerts.volume(window, now) + self.alerts.sentiment(window, now)
        for alert in new:
            alert["raised_at"] = now
        alert_store.add(self.r, self.keys, new)
        for alert in new:
            logger.info("alert %s: %s", alert["severity"], alert["title"])
            if self.notifier:
                self.notifier.submit(alert)
        if new or signals:
            self.alerts.book.prune(now)
            alert_store.save_state(self.r, self.keys, {"cursor": self.signal_cursor, "last": self.alerts.book.last})
        if self.ticks % 60 == 0:
            alert_store.trim(self.r, self.keys)
        return alert_store.recent(self.r, self.keys, 30)

    def _storylines(self, now: float) -> list[dict]:
        """Re-cluster the recent relevant posts every STORYLINE_EVERY_S; screens see the latest result."""
        if now - self.storylines_at >= STORYLINE_EVERY_S:
            self.storylines_at = now
            posts = [orjson.loads(p) for p in self.r.lrange(self.keys.storyline_posts, 0, -1)]
            recent = [p for p in posts if now - p["received_at"] <= STORYLINE_WINDOW_S]
            # Rising conversations first: size weighted by growth (capped), so a new burst is not buried.
            lines = storylines(recent, now)
            self.storylines = sorted(
                lines, key=lambda x: x["size"] * min(max(x.get("growth", 1.0), 0.5), 3.0), reverse=True
            )
        return self.storylines

    def _learn(self) -> dict:
        """Fold new relevance marks into the shared model; workers pick up the new version."""
        cursor, posts, labels = learning_store.read_marks(self.r, self.keys, self.marks_cursor)
        if posts:
            self.model.learn(posts, labels)
            self.marks_cursor = cursor
            learning_store.save_model(self.r, self.keys, self.model, cursor)
            logger.info("learned from %d marks (%d in all)", len(posts), self.model.marks)
        return {"marks": self.model.marks, "ready": self.model.ready}

    def _pipeline(self, stats: dict, window: dict, end: int, now: float) -> dict:
        all_counts = window.get(ALL, {})
        rate = sum(all_counts.get(s, 0) for s in range(end - 10, end)) / 10
        last_at = stats.get("last_at")
        return {
            **{k: stats.get(k, 0) for k in ("received", "processed", "dead", "duplicates")},
            **post_store.lag(self.r, self.keys),
            "rate_per_s": rate,
            "last_at": last_at,
            "data_age_s": round(now - last_at, 2) if last_at else None,
        }

    def run(self, stop: threading.Event) -> None:
        backoff = Backoff(start=0.5, maximum=BACKOFF_CEILING_S)
        logger.info("aggregator started, tick %.2fs", self.settings.tick_s)
        next_tick = time.time()
        while not stop.is_set():
            try:
                self.tick()
                backoff.reset()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                delay = backoff.next()
                logger.warning("Redis unavailable (%s); retrying in %.1fs", type(exc).__name__, delay)
                stop.wait(delay)
                continue
            next_tick += self.settings.tick_s
            if (wait := next_tick - time.time()) > 0:
                stop.wait(wait)
            else:
                next_tick = time.time()  # fell behind: do not try to catch up with a burst of builds
