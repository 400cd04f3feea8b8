"""Alert rules: signals and detector output become alerts, one per cool-down per (kind, subject)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

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
