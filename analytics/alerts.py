"""Alerts: the rules (one alert per cool-down per kind and subject) and the engine that runs the spike/dip
detectors per volume series, the sentiment drops and the per-post signals.

No I/O: the aggregator passes in the per-second window it already read and stores what comes out
(store/alerts.py is the Redis side).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from analytics.numbers import compact
from analytics.sentiment_shift import SENTIMENT_BIN_S, SentimentDrop, bin_totals
from analytics.spikes import SpikeDetector
from config.settings import EventConfig

logger = logging.getLogger(__name__)

SETTLE_S = 1  # the newest second may still be filling when a tick reads it
SEVERITY = {"watch_word": "critical", "influencer": "medium", "spike": "high", "dip": "high", "sentiment_drop": "high"}
LOUD = {"critical", "high"}  # these toast and flash on every screen; the rest wait in the list


@dataclass
class AlertBook:
    """Remembers when each (kind, subject) last alerted so one burst is one alert."""

    cooldown_s: float
    last: dict[str, float] = field(default_factory=dict)

    def consider(
        self,
        kind: str,
        subject: str,
        title: str,
        at: float,
        *,
        detail: str = "",
        post_id: str | None = None,
        moment: float | None = None,
        score: float | None = None,
    ) -> dict | None:
        key = f"{kind}:{subject.lower()}"
        if at - self.last.get(key, float("-inf")) < self.cooldown_s:
            return None
        self.last[key] = at
        return {
            "id": hashlib.sha1(f"{key}:{at}".encode()).hexdigest()[:12],
            "kind": kind,
            "subject": subject,
            "severity": SEVERITY.get(kind, "medium"),
            "title": title,
            "detail": detail,
            "at": at,
            "moment": moment if moment is not None else at,
            "post_id": post_id,
            "score": score,
        }

    def from_signal(self, sig: dict, brand: str) -> dict | None:
        if sig["kind"] == "watch_word":
            title = f"Watch-word '{sig['what']}' with {brand}"
        else:
            title = f"@{sig['handle']} ({sig['followers']:,} followers) mentions {brand}"
        return self.consider(sig["kind"], sig["what"], title, sig["at"], detail=sig["text"], post_id=sig["post_id"])

    def prune(self, now: float) -> None:
        self.last = {k: t for k, t in self.last.items() if now - t < self.cooldown_s}


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
        """Expected-surge windows (EventClock.surge_windows): no spike alert inside them."""
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
        title = f"{verb}: {name} at {compact(int(a.value))}/s (expected {a.expected:.1f}/s)"  # whole posts/s
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
                n, total = bin_totals(window.get(name, {}), window.get(f"{name}~s", {}), int(b))
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
