"""The aggregator's alert engine: spike/dip detectors per volume series, sentiment drops, per-post signals.

No I/O: the aggregator passes in the per-second window it already read and stores what comes out.
"""

from __future__ import annotations

import logging
from datetime import UTC

from analytics.alerting import AlertBook
from analytics.numbers import humanize
from analytics.sentiment_shift import SentimentDrop
from analytics.spikes import SpikeDetector
from config.settings import EventConfig

logger = logging.getLogger(__name__)

SENTIMENT_BIN_S = 30
SETTLE_S = 1  # the newest second may still be filling when a tick reads it


def schedule_windows(event: EventConfig, clock: dict | None) -> list[tuple[float, float]]:
    """Expected-surge windows as wall-clock (start, end): `at` items directly, game minutes via the simulator's clock."""
    out = []
    for item in event.schedule:
        if not item.expect_surge:
            continue
        if item.at is not None:
            at = item.at if item.at.tzinfo else item.at.replace(tzinfo=UTC)  # naive times are UTC
            start = at.timestamp()
            out.append((start, start + item.minutes * 60))
        elif clock:
            per_minute = 60.0 / clock["speedup"]
            cycle = clock["game_minutes"] * per_minute if clock.get("loop") else None
            start = clock["start_wall"] + (item.minute - clock["start_minute"]) * per_minute
            for k in range(-1, 3) if cycle else (0,):
                s = start + (k * cycle if cycle else 0)
                out.append((s, s + item.minutes * per_minute))
    return out


class AlertEngine:
    def __init__(self, event: EventConfig, book: AlertBook):
        self.event, self.book = event, book
        th = event.thresholds
        self.bin_s = th.spike_bin_s
        self.series = [(kind, w.name) for kind, w in event.watches()]
        self.spikes = {
            name: SpikeDetector(
                half_life_s=th.spike_half_life_s,
                threshold=th.spike_z,
                warmup_s=th.spike_warmup_s,
                cooldown_s=th.spike_cooldown_s,
                confirm=1,
            )
            for _, name in self.series
        }
        self.moods = {name: SentimentDrop(drop=th.sentiment_drop) for kind, name in self.series if kind != "term"}
        self.next_bin: float | None = None
        self.next_mood_bin: float | None = None

    def set_schedule(self, windows: list[tuple[float, float]]) -> None:
        for det in self.spikes.values():
            det.schedule = windows

    def volume(self, window: dict, now: float) -> list[dict]:
        """Step every series' detector over the bins completed since the last call."""
        settled = int(now) - SETTLE_S
        start = self.next_bin if self.next_bin is not None else settled - settled % self.bin_s
        alerts = []
        b = start
        while b + self.bin_s <= settled:
            for _, name in self.series:
                counts = window.get(name, {})
                rate = sum(counts.get(int(s), 0) for s in range(int(b), int(b + self.bin_s))) / self.bin_s
                if (a := self.spikes[name].step(b + self.bin_s, rate)) and (alert := self._volume_alert(name, a)):
                    alerts.append(alert)
            b += self.bin_s
        self.next_bin = b
        return alerts

    def _volume_alert(self, name: str, a) -> dict | None:
        verb = "Spike" if a.kind == "spike" else "Dip"
        title = f"{verb}: {name} at {humanize(a.value)}/s (expected {a.expected:.1f}/s)"
        return self.book.consider(
            a.kind,
            name,
            title,
            a.timestamp,
            moment=a.timestamp - self.bin_s,
            score=round(a.score, 2),
            detail=f"z {a.score:+.1f} over the last {self.bin_s:.0f}s",
        )

    def sentiment(self, window: dict, now: float) -> list[dict]:
        settled = int(now) - SETTLE_S
        start = self.next_mood_bin if self.next_mood_bin is not None else settled - settled % SENTIMENT_BIN_S
        alerts = []
        b = start
        while b + SENTIMENT_BIN_S <= settled:
            for name, det in self.moods.items():
                counts, sums = window.get(name, {}), window.get(f"{name}~s", {})
                secs = range(int(b), int(b + SENTIMENT_BIN_S))
                n, total = sum(counts.get(s, 0) for s in secs), sum(sums.get(s, 0.0) for s in secs)
                if (d := det.step(b + SENTIMENT_BIN_S, int(n), total)) and (
                    alert := self.book.consider(
                        "sentiment_drop",
                        name,
                        f"Sentiment turning on {name}: {d['mean']:+.2f} vs {d['baseline']:+.2f}",
                        d["timestamp"],
                        moment=b,
                        score=round(d["score"], 2),
                    )
                ):
                    alerts.append(alert)
            b += SENTIMENT_BIN_S
        self.next_mood_bin = b
        return alerts

    def signals(self, signals: list[dict]) -> list[dict]:
        return [a for s in signals if (a := self.book.from_signal(s, self.event.brand.name))]
