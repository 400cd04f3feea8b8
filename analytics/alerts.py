"""Alerts: the rules (one alert per cool-down per kind and subject; signals close together grouped into one alert
that grows) and the engine that runs the spike/dip detectors per volume series (the whole stream included), the
sentiment drops and the per-post signals. Every alert says why it fired (`why`: top terms, sources, the posts).

No I/O: the aggregator passes in the per-second window it already read and stores what comes out
(store/alerts.py is the Redis side). Sensitivity per rule comes from the event file (`alerts.rules`).
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
ALL = "all"  # the whole stream's series (streams.enrichment.ALL)
ALL_LABEL = "all posts"
GROUP_S = 300.0  # influencer / watch-word signals this close join one alert (alerts.rules.<kind>.group_s)
WHY_POSTS = 5
WHY_TERMS = 5
WHY_SOURCES = 3


@dataclass
class AlertBook:
    """Remembers when each (kind, subject) last alerted so one burst is one alert, and the open groups."""

    cooldown_s: float
    last: dict[str, float] = field(default_factory=dict)
    groups: dict[str, dict] = field(default_factory=dict)  # kind:subject -> the alert that grows

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
        why: dict | None = None,
        cooldown_s: float | None = None,
    ) -> dict | None:
        key = f"{kind}:{subject.lower()}"
        wait = self.cooldown_s if cooldown_s is None else cooldown_s
        if at - self.last.get(key, float("-inf")) < wait:
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
            "why": why or {},
        }

    def grow(self, kind: str, subject: str, sig: dict, group_s: float, title) -> dict:
        """The open alert of (kind, subject) with this signal added, or a new one when none is open.

        `title(members, posts)` words it. The alert keeps its id while it grows (the store replaces it), and says
        `update: True` from its second signal on, so a notifier can tell news from growth.
        """
        key = f"{kind}:{subject.lower()}"
        alert = self.groups.get(key)
        if alert is None or sig["at"] - alert["at"] > group_s:
            alert = {
                "id": hashlib.sha1(f"{key}:{sig['at']}".encode()).hexdigest()[:12],
                "kind": kind,
                "subject": subject,
                "severity": SEVERITY.get(kind, "medium"),
                "at": sig["at"],
                "moment": sig["at"],
                "post_id": sig["post_id"],
                "score": None,
                "members": [],
                "why": {"posts": [], "sources": {}},
            }
            self.groups[key] = alert
            self.last[key] = sig["at"]
        else:
            alert = {**alert, "why": {**alert["why"]}, "members": list(alert["members"]), "update": True}
            self.groups[key] = alert
        member = sig["handle"] if kind == "influencer" else sig.get("post_id")
        if member not in alert["members"]:
            alert["members"].append(member)
        posts = [p for p in alert["why"]["posts"] if p["id"] != sig["post_id"]]
        alert["why"]["posts"] = (posts + [_post(sig)])[-WHY_POSTS:]
        sources = dict(alert["why"]["sources"])
        source = sig.get("source") or sig["post_id"].split(":", 1)[0]
        sources[source] = sources.get(source, 0) + 1
        alert["why"]["sources"] = sources
        alert["count"] = len(alert["members"])
        alert["title"] = title(alert["members"], alert["why"]["posts"])
        alert["detail"] = sig["text"]
        alert["last_at"] = sig["at"]
        return alert

    def prune(self, now: float) -> None:
        self.last = {k: t for k, t in self.last.items() if now - t < max(self.cooldown_s, GROUP_S)}
        self.groups = {k: a for k, a in self.groups.items() if now - a["at"] < 4 * GROUP_S}


def _post(sig: dict) -> dict:
    out = {"id": sig["post_id"], "handle": sig["handle"], "text": sig["text"][:200]}
    if sig.get("followers") is not None:
        out["followers"] = sig["followers"]
    return out


class AlertEngine:
    def __init__(self, event: EventConfig, book: AlertBook):
        self.event, self.book = event, book
        th, rules = event.thresholds, event.alerts
        self.bin_s = th.spike_bin_s
        spike, dip = rules.rule("spike"), rules.rule("dip")
        self.spike_on = spike.enabled
        # Every watched series and the whole stream: a feed that stops is a dip of "all posts".
        self.series = [(kind, w.name) for kind, w in event.watches()] + [("all", ALL)]
        self.spikes = {
            name: SpikeDetector(
                half_life_s=th.spike_half_life_s,
                threshold=spike.threshold or th.spike_z,
                dip_threshold=(dip.threshold or th.dip_z) if dip.enabled else None,
                warmup_s=th.spike_warmup_s,
                cooldown_s=th.spike_cooldown_s,
                confirm=1,
                dip_confirm=th.dip_confirm,
                min_value=th.spike_min_count,
            )
            for _, name in self.series
        }
        mood = rules.rule("sentiment_drop")
        self.moods = (
            {
                name: SentimentDrop(drop=mood.threshold or th.sentiment_drop, min_posts=th.sentiment_min_posts)
                for kind, name in self.series
                if kind not in ("term", "all")
            }
            if mood.enabled
            else {}
        )
        self.next_bin: float | None = None
        self.next_mood_bin: float | None = None

    def set_schedule(self, windows: list[tuple[float, float]]) -> None:
        """Expected-surge windows (EventClock.surge_windows): no spike alert inside them."""
        for det in self.spikes.values():
            det.schedule = windows

    def volume(self, window: dict, now: float, trending: list[dict] = (), feed: list[dict] = ()) -> list[dict]:
        """Step every series' detector over the bins completed since the last call, on posts per bin (the counts
        the detector's variance-stabilising transform and noise floor are made for)."""
        settled = int(now) - SETTLE_S
        start = self.next_bin if self.next_bin is not None else settled - settled % self.bin_s
        alerts = []
        b = start
        while b + self.bin_s <= settled:
            for _, name in self.series:
                counts = window.get(name, {})
                posts = sum(counts.get(int(s), 0) for s in range(int(b), int(b + self.bin_s)))
                a = self.spikes[name].step(b + self.bin_s, posts)
                if a and (a.kind == "dip" or self.spike_on):
                    why = self._why(name, window, b, trending, feed)
                    if alert := self._volume_alert(name, a, why):
                        alerts.append(alert)
            b += self.bin_s
        self.next_bin = b
        return alerts

    def _why(self, name: str, window: dict, b: float, trending, feed) -> dict:
        """What a volume alert shows as its reasons: the terms rising, the sources of the bin, its top posts."""
        secs = range(int(b), int(b + self.bin_s))
        sources = {
            key[4:]: int(n)
            for key, counts in window.items()
            if key.startswith("src:") and not key.endswith("~s") and (n := sum(counts.get(s, 0) for s in secs))
        }
        top = sorted(sources.items(), key=lambda kv: -kv[1])[:WHY_SOURCES]
        posts = [
            p
            for p in feed
            if (name == ALL or name in (p.get("series") or []))
            and b - self.bin_s <= (p.get("received_at") or 0) < b + self.bin_s + SETTLE_S
        ]
        posts.sort(key=lambda p: -(p.get("score") or 0))
        return {
            "terms": [t["term"] for t in trending[:WHY_TERMS]],
            "sources": dict(top),
            "posts": [_feed_post(p) for p in posts[:WHY_POSTS]],
        }

    def _volume_alert(self, name: str, a, why: dict) -> dict | None:
        verb = "Spike" if a.kind == "spike" else "Dip"
        label = ALL_LABEL if name == ALL else name
        per_s, expected = a.value / self.bin_s, a.expected / self.bin_s
        title = f"{verb}: {label} at {_rate(per_s)}/s (expected {expected:.1f}/s)"
        reasons = [f"z {a.score:+.1f} on {int(a.value)} posts in {self.bin_s:.0f}s (expected {a.expected:.0f})"]
        if why["terms"] and a.kind == "spike":
            reasons.append("rising: " + ", ".join(why["terms"][:3]))
        if why["sources"]:
            reasons.append("sources: " + ", ".join(f"{s} {n}" for s, n in why["sources"].items()))
        rule = self.event.alerts.rule(a.kind)
        return self.book.consider(
            a.kind,
            name,
            title,
            a.timestamp,
            moment=a.timestamp - self.bin_s,
            score=round(a.score, 2),
            detail=" · ".join(reasons),
            why=why,
            cooldown_s=rule.cooldown_s,
        )

    def sentiment(self, window: dict, now: float, feed: list[dict] = ()) -> list[dict]:
        settled = int(now) - SETTLE_S
        start = self.next_mood_bin if self.next_mood_bin is not None else settled - settled % SENTIMENT_BIN_S
        alerts = []
        b = start
        rule = self.event.alerts.rule("sentiment_drop")
        while b + SENTIMENT_BIN_S <= settled:
            for name, det in self.moods.items():
                n, total = bin_totals(window.get(name, {}), window.get(f"{name}~s", {}), int(b))
                if d := det.step(b + SENTIMENT_BIN_S, int(n), total):
                    worst = sorted(
                        (p for p in feed if name in (p.get("series") or []) and p.get("sentiment") is not None),
                        key=lambda p: p["sentiment"],
                    )
                    why = {"posts": [_feed_post(p) for p in worst[:WHY_POSTS] if p["sentiment"] < 0]}
                    alert = self.book.consider(
                        "sentiment_drop",
                        name,
                        f"Sentiment turning on {name}: {d['mean']:+.2f} vs {d['baseline']:+.2f}",
                        d["timestamp"],
                        moment=b,
                        score=round(d["score"], 2),
                        detail=f"mean of the last {det.recent_s:.0f}s against the baseline before it",
                        why=why,
                        cooldown_s=rule.cooldown_s,
                    )
                    if alert:
                        alerts.append(alert)
            b += SENTIMENT_BIN_S
        self.next_mood_bin = b
        return alerts

    def signals(self, signals: list[dict]) -> list[dict]:
        """Per-post signals as alerts: influencers naming the brand within `group_s` become one alert that
        grows ("5 influencers mention Oreo"); a watch-word's posts likewise. The last state of each is returned."""
        brand = self.event.brand.name
        rules = self.event.alerts
        out: dict[str, dict] = {}
        for sig in signals:
            rule = rules.rule(sig["kind"])
            if not rule.enabled:
                continue
            group_s = GROUP_S if rule.group_s is None else rule.group_s
            if sig["kind"] == "influencer":
                minimum = rule.threshold or self.event.thresholds.influencer_followers
                if (sig.get("followers") or 0) < minimum:
                    continue
                alert = self.book.grow("influencer", brand, sig, group_s, _influencer_title(brand))
            else:
                alert = self.book.grow("watch_word", sig["what"], sig, group_s, _watch_title(sig["what"], brand))
            out[alert["id"]] = alert
        return list(out.values())


def _influencer_title(brand: str):
    def title(members: list[str], posts: list[dict]) -> str:
        if len(members) == 1:
            p = posts[-1]
            reach = f" ({p['followers']:,} followers)" if p.get("followers") is not None else ""
            return f"@{members[0]}{reach} mentions {brand}"
        return f"{len(members)} influencers mention {brand}: " + ", ".join(f"@{m}" for m in members[:4])

    return title


def _watch_title(word: str, brand: str):
    def title(members: list[str], posts: list[dict]) -> str:
        more = f": {len(members)} posts" if len(members) > 1 else ""
        return f"Watch-word '{word}' with {brand}{more}"

    return title


def _feed_post(p: dict) -> dict:
    return {
        "id": p.get("id"),
        "handle": (p.get("author") or {}).get("handle"),
        "text": (p.get("text") or "")[:200],
        "source": p.get("source"),
    }


def _rate(per_s: float) -> str:
    return compact(int(per_s)) if per_s >= 10 else f"{per_s:.1f}".rstrip("0").rstrip(".")
