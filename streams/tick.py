"""One aggregator tick as a pure function: the tick's inputs (read from the store) and `now` in, the snapshot
and what must be written back out. No Redis here; streams/aggregator.py reads, calls `build`, and writes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from analytics.alerts import ALL, AlertEngine
from analytics.care import CareBuilt, CareInputs, CareModel
from analytics.care import tick as care_tick
from analytics.learning import RelevanceModel
from analytics.outcomes import in_feed
from analytics.sentiment_learning import SentimentModel, ensure_warm
from analytics.sentiment_shift import SENTIMENT_BIN_S, bin_totals
from analytics.storylines import storylines
from analytics.trends import TrendDetector
from config.settings import EventConfig
from model.clock import EventClock
from store.sentiment import SentimentInputs

logger = logging.getLogger(__name__)

ALERTS_SHOWN = 30
TRENDS_SHOWN = 10
# Below this a term is within its own normal noise: listing it would put busy tags on top by volume.
TREND_MIN_Z = 2.0  # the default of thresholds.trend_min_z
STORYLINE_EVERY_S = 30.0
STORYLINE_WINDOW_S = 600.0
RATE_OVER_S = 10  # the pipeline's posts/s is the mean over the last seconds


@dataclass
class TickInputs:
    """Everything one snapshot is built from, read from the store in one step (`Aggregator.read`)."""

    start: int  # first second of the chart window
    end: int  # last second (the current one)
    window: dict[str, dict[int, float]]  # "<series>" / "<series>~s" -> second -> posts / sentiment sum
    stats: dict  # pipeline counters and last_at
    lag: dict  # consumer-group lag and pending
    sources: dict[str, dict]  # source name -> health row
    tag_counts: dict[int, dict[str, int]]  # trend bucket -> hashtag -> posts (the previous and current bucket)
    feed: list[dict]
    feed_by_source: dict[str, list[dict]]
    signals: list[dict]  # per-post alert signals since the last tick
    signal_cursor: str  # the stream id of the last of them
    alerts: list[dict]  # the most recent stored alerts, with acknowledgements, before this tick's
    marks: list[dict] = field(default_factory=list)  # relevance marks not yet learned: posts ...
    labels: list[int] = field(default_factory=list)  # ... and their labels
    marks_cursor: str = "0-0"  # the stream id of the last mark read
    story_posts: list[dict] | None = None  # storyline material, read only when storylines are due
    cards_version: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # source -> posts it had to drop (never silently)
    care: CareInputs = field(default_factory=CareInputs)  # customer care: new triaged posts, open cases
    sentiment: SentimentInputs = field(default_factory=SentimentInputs)  # corrections to learn, fixes to show
    published: dict[str, str] = field(default_factory=dict)  # feed post ids (or their references) that are ours
    outcomes: dict[str, dict] = field(default_factory=dict)  # draft id -> outcome, for those responses


@dataclass
class TickState:
    """What the aggregator carries from tick to tick: the stateful analytics `build` updates."""

    trends: TrendDetector
    alerts: AlertEngine
    model: RelevanceModel
    storylines: list[dict] = field(default_factory=list)
    storylines_at: float = 0.0
    care_model: CareModel = field(default_factory=CareModel)
    sentiment_model: SentimentModel = field(default_factory=SentimentModel)

    def storylines_due(self, now: float) -> bool:
        return now - self.storylines_at >= STORYLINE_EVERY_S


@dataclass
class Built:
    """A built tick: the snapshot (without its version) and what changed that the store must keep."""

    snap: dict
    new_alerts: list[dict]
    alerts_changed: bool  # signals were read or alerts raised: save the cursor and cool-downs
    learned: int  # marks folded into the model (0: nothing to save)
    care: CareBuilt | None = None  # customer care: escalations to apply, corrections learned
    sentiment_learned: int = 0  # sentiment corrections folded into the model (0: nothing to save)


def build(event: EventConfig, inputs: TickInputs, state: TickState, now: float) -> Built:
    """The snapshot for `now` from `inputs`, stepping the trend detector, the alert engine and the model."""
    series = [(kind, w.name) for kind, w in event.watches()]
    clock = EventClock.build(event, inputs.sources.get("simulator"))
    trending = _trending(state.trends, inputs.tag_counts, now, event, _posts_in(inputs.window, now, state))
    new = _raise_alerts(state.alerts, clock, inputs, now, trending)
    learned = _learn(state.model, inputs)
    sentiment_learned = learn_sentiment(state.sentiment_model, inputs)
    show_fixes(inputs)
    care = care_tick(event.care, inputs.care, state.care_model, now)  # timers, escalations (their alerts)
    new += care.alerts
    snap = {
        "built_at": now,
        "event": {"id": event.id, "name": event.name, "brand": event.brand.name},
        "volume": volume(series, inputs.window, inputs.start, inputs.end),
        "sentiment": sentiment(
            series, inputs.window, inputs.start, inputs.end, event.thresholds.sentiment_bin_min_posts
        ),
        "trending": trending,
        "feed": in_feed(inputs.feed, inputs.published, inputs.outcomes),
        "feed_by_source": {
            s: in_feed(posts, inputs.published, inputs.outcomes) for s, posts in inputs.feed_by_source.items()
        },
        "alerts": latest_alerts(inputs.alerts, new),
        "storylines": _storylines(state, inputs.story_posts, now),
        "learning": {"marks": state.model.marks, "ready": state.model.ready},
        "sentiment_learning": {"corrections": state.sentiment_model.corrections},
        "cards_version": inputs.cards_version,
        "pipeline": pipeline(inputs.stats, inputs.lag, inputs.window, inputs.end, now, inputs.dropped),
        "sources": inputs.sources,
        "gaps": [g for h in inputs.sources.values() for g in h.get("gaps", []) if (g[1] or now) >= inputs.start],
        "clock": clock.as_dict(),
        "care": care.snap,
    }
    return Built(snap, new, bool(new or inputs.signals), learned, care, sentiment_learned)


def volume(series: list[tuple[str, str]], window: dict, start: int, end: int) -> dict:
    """Posts per second for every watch and in all."""
    t = list(range(start, end + 1))
    out = {name: [int(window.get(name, {}).get(s, 0)) for s in t] for _, name in series}
    out[ALL] = [int(window.get(ALL, {}).get(s, 0)) for s in t]
    return {"t": t, "series": out, "kinds": dict((n, k) for k, n in series) | {ALL: "all"}}


def sentiment(series: list[tuple[str, str]], window: dict, start: int, end: int, min_posts: int = 3) -> dict:
    """Mean sentiment per bin for the brand and each competitor (None where fewer than `min_posts` posts)."""
    bins = list(range(start - start % SENTIMENT_BIN_S, end + 1, SENTIMENT_BIN_S))
    out = {}
    for kind, name in series:
        if kind == "term":
            continue
        counts, sums = window.get(name, {}), window.get(f"{name}~s", {})
        means = []
        for b in bins:
            n, total = bin_totals(counts, sums, b)
            means.append(round(total / n, 3) if n >= min_posts else None)
        out[name] = means
    return {"t": bins, "series": out, "bin_s": SENTIMENT_BIN_S}


def latest_alerts(stored: list[dict], new: list[dict]) -> list[dict]:
    """The newest alerts once this tick's are stored (a new one replaces a stored one with its id)."""
    by_id = {a["id"]: a for a in stored} | {a["id"]: a for a in new}
    return sorted(by_id.values(), key=lambda a: a["at"], reverse=True)[:ALERTS_SHOWN]


def pipeline(stats: dict, lag: dict, window: dict, end: int, now: float, dropped: dict | None = None) -> dict:
    all_counts = window.get(ALL, {})
    rate = sum(all_counts.get(s, 0) for s in range(end - RATE_OVER_S, end)) / RATE_OVER_S
    last_at = stats.get("last_at")
    return {
        **{k: stats.get(k, 0) for k in ("received", "processed", "dead", "duplicates")},
        **lag,
        "rate_per_s": rate,
        "last_at": last_at,
        "data_age_s": round(now - last_at, 2) if last_at else None,
        "dropped": sum((dropped or {}).values()),
        "dropped_by_source": dict(dropped or {}),
    }


def _posts_in(window: dict, now: float, state: TickState) -> float:
    """The stream's posts in the trend detector's sliding window (the last bucket_s seconds)."""
    counts = window.get(ALL, {})
    end = int(now)
    return float(sum(counts.get(s, 0) for s in range(end - int(state.trends.bucket_s) + 1, end + 1)))


def _trending(
    trends: TrendDetector, tag_counts: dict[int, dict[str, int]], now: float, event: EventConfig, posts: float
) -> list[dict]:
    """The terms rising now: significance >= trend_min_z, in trend_min_count posts and trend_min_share of all."""
    th = event.thresholds
    for b, counts in sorted(tag_counts.items()):
        trends.update(b, counts)
    top = trends.top(now, TRENDS_SHOWN, posts=posts, min_count=th.trend_min_count, min_share=th.trend_min_share)
    return [
        {
            "term": t.term,
            "count": t.count,
            "rate_per_min": round(t.rate_per_min, 1),
            "baseline_per_min": round(t.baseline_per_min, 1),
            "significance": round(t.significance, 2),
            "rising_since": t.rising_since,
        }
        for t in top
        if t.significance >= th.trend_min_z
    ]


def _raise_alerts(
    engine: AlertEngine, clock: EventClock, inputs: TickInputs, now: float, trending: list[dict]
) -> list[dict]:
    engine.set_schedule(clock.surge_windows())
    window, feed = inputs.window, inputs.feed
    new = (
        engine.signals(inputs.signals)
        + engine.volume(window, now, trending, feed)
        + engine.sentiment(window, now, feed)
    )
    for alert in new:
        alert["raised_at"] = now
    if new or inputs.signals:
        engine.book.prune(now)
    return new


def _storylines(state: TickState, posts: list[dict] | None, now: float) -> list[dict]:
    """Re-cluster when the recent relevant posts were read (every STORYLINE_EVERY_S); else the latest result."""
    if posts is not None:
        state.storylines_at = now
        recent = [p for p in posts if now - p["received_at"] <= STORYLINE_WINDOW_S]
        # Rising conversations first: size weighted by growth (capped), so a new burst is not buried.
        lines = storylines(recent, now)
        state.storylines = sorted(
            lines, key=lambda x: x["size"] * min(max(x.get("growth", 1.0), 0.5), 3.0), reverse=True
        )
    return state.storylines


def _learn(model: RelevanceModel, inputs: TickInputs) -> int:
    """Fold new relevance marks into the shared model; the aggregator saves it and workers pick it up."""
    if inputs.marks:
        model.learn(inputs.marks, inputs.labels)
    return len(inputs.marks)


def learn_sentiment(model: SentimentModel, inputs: TickInputs) -> int:
    """Fold the team's new sentiment corrections into the shared model, with the feed they saw (and left alone)
    as context; the aggregator saves it and workers apply it to new posts."""
    sent = inputs.sentiment
    if not sent.texts or not ensure_warm():  # not learned: read again (from the same cursor) next tick
        return 0
    context = [p.get("text", "") for p in inputs.feed if p.get("id") not in sent.fixes and p.get("text")]
    model.learn(sent.texts, sent.lexicon, sent.labels, context)
    return len(sent.texts)


def show_fixes(inputs: TickInputs) -> None:
    """Lay each corrected post's correction ({label, value, was, by, at}) over the feeds the snapshot carries."""
    fixes = inputs.sentiment.fixes
    if not fixes:
        return
    for posts in (inputs.feed, *inputs.feed_by_source.values()):
        for p in posts:
            if fix := fixes.get(p.get("id")):
                p["sentiment_fix"] = fix
