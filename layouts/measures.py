"""What the wall and the executive view say, computed from the snapshot (and per-minute history): pure, no Dash.

Share of voice, net sentiment and its direction, volume against what was expected, the top moments, the team's
pipeline and the one "data OK / degraded" light.
"""

from __future__ import annotations

import statistics

from web.workflow import STATUSES

NOW_S = 300  # "now" is the last five minutes
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
DEGRADED_STATES = {"failing", "reconnecting"}


def brands(snap: dict) -> list[str]:
    """The brand first, then its competitors, as the snapshot's volume series name them."""
    kinds = (snap.get("volume") or {}).get("kinds", {})
    return [n for n, k in kinds.items() if k == "brand"] + [n for n, k in kinds.items() if k == "competitor"]


def recent_posts(snap: dict, name: str, seconds: int = NOW_S, skip: int = 0) -> int:
    """Posts of one series in the last `seconds` of the snapshot's window (after skipping the newest `skip`)."""
    ys = (snap.get("volume") or {}).get("series", {}).get(name, [])
    end = len(ys) - skip
    return int(sum(ys[max(0, end - seconds) : max(0, end)]))


def shares(counts: dict[str, int]) -> dict[str, float]:
    """Percent of the brand-and-competitors conversation each one has (0 when nobody talks)."""
    total = sum(counts.values())
    return {n: (100.0 * c / total if total else 0.0) for n, c in counts.items()}


def share_of_voice(snap: dict, hour: dict[str, int] | None = None, event: dict[str, int] | None = None) -> list[dict]:
    """Rows per brand/competitor: share now (last 5 min), in the last hour and over the whole event."""
    names = brands(snap)
    now = shares({n: recent_posts(snap, n) for n in names})
    hour_s = shares({n: (hour or {}).get(n, 0) for n in names})
    event_s = shares({n: (event or {}).get(n, 0) for n in names})
    return [{"name": n, "now": now[n], "hour": hour_s[n], "event": event_s[n]} for n in names]


def net_sentiment(snap: dict, name: str, bins: int = 10) -> tuple[float | None, float | None]:
    """Mean sentiment of the last `bins` sentiment bins and of the `bins` before, on a -100..+100 scale."""
    ys = [y for y in (snap.get("sentiment") or {}).get("series", {}).get(name, []) if y is not None]
    if not ys:
        return None, None
    now = statistics.fmean(ys[-bins:]) * 100
    before = statistics.fmean(ys[-2 * bins : -bins]) * 100 if len(ys) > bins else None
    return now, before


def direction(now: float | None, before: float | None, step: float = 3.0) -> tuple[str, str]:
    """(shape, word) for a change: never colour alone."""
    if now is None or before is None:
        return "●", "steady"
    if now - before >= step:
        return "▲", "improving"
    if before - now >= step:
        return "▼", "worsening"
    return "●", "steady"


def tone(value: float | None) -> str:
    if value is None:
        return "no data"
    return "positive" if value >= 5 else ("negative" if value <= -5 else "neutral")


def expected(snap: dict, minutes: dict[int, int] | None) -> dict:
    """Volume this minute against the last hour's typical minute and the schedule's expected surges."""
    now = snap.get("built_at", 0)
    per_min = recent_posts(snap, "all", 60)
    history = [n for m, n in sorted((minutes or {}).items()) if m < int(now) // 60 * 60 - 60]
    baseline = statistics.median(history[-60:]) if history else None
    slot = next(
        (s for s in (snap.get("clock") or {}).get("schedule", []) if s.get("start", 0) <= now <= s.get("end", 0)),
        None,
    )
    surge = bool(slot and slot.get("expect_surge"))
    ratio = per_min / baseline if baseline else None
    if ratio is None:
        verdict = "no baseline yet"
    elif ratio >= 2:
        verdict = "as the schedule expected" if surge else "well above expected"
    elif ratio <= 0.5:
        verdict = "well below expected"
    else:
        verdict = "quieter than the schedule expected" if surge else "as expected"
    return {
        "per_min": per_min,
        "baseline": baseline,
        "ratio": ratio,
        "slot": slot.get("name") if slot else None,
        "surge": surge,
        "verdict": verdict,
    }


def top_moments(alerts: list[dict], cards: list[dict], n: int = 3, near_s: float = 180) -> list[dict]:
    """The event's top moments so far (loudest alerts, one per subject), each with the cards framed around it."""
    ranked = sorted(
        (a for a in alerts if a.get("severity") in ("critical", "high")),
        key=lambda a: (SEVERITY_RANK.get(a.get("severity"), 9), -(a.get("score") or 0), -a["at"]),
    )
    picked, subjects = [], set()
    for a in ranked:
        subject = (a.get("kind"), (a.get("subject") or a.get("title", "")).lower())
        if subject in subjects:
            continue
        subjects.add(subject)
        moment = a.get("moment") or a["at"]
        linked = [c for c in cards if c.get("moment") and abs(c["moment"] - moment) <= near_s]
        picked.append({"alert": a, "cards": linked})
        if len(picked) == n:
            break
    return sorted(picked, key=lambda m: m["alert"]["at"])


def pipeline(cards: list[dict]) -> dict:
    """Cards by status, the median time from framing to approval, and responses (none until publishing lands)."""
    by_status = {s: 0 for s in STATUSES}
    waits = []
    for c in cards:
        by_status[c.get("status", "new")] = by_status.get(c.get("status", "new"), 0) + 1
        approved_at = c.get("approved_at") or (c.get("updated_at") if c.get("status") == "approved" else None)
        if approved_at and c.get("created_at"):
            waits.append(approved_at - c["created_at"])
    responses = [r for c in cards for r in c.get("responses", [])]
    return {
        "by_status": by_status,
        "median_approval_s": statistics.median(waits) if waits else None,
        "responses": len(responses),
        "engagement": sum(int(r.get("engagement", 0)) for r in responses),
    }


def data_light(snap: dict, stale_after: float) -> tuple[bool, str]:
    """(ok, why): one light instead of source rows. Degraded when data is late or a source is down or has a gap."""
    reasons = []
    age = (snap.get("pipeline") or {}).get("data_age_s")
    if age is None or age > stale_after:
        reasons.append("no new posts" if age is None else f"data {age:.0f}s old")
    for name, h in sorted((snap.get("sources") or {}).items()):
        if h.get("state") in DEGRADED_STATES:
            reasons.append(f"{name} {h['state']}")
        elif any(g[1] is None for g in h.get("gaps", [])):
            reasons.append(f"{name} has a gap")
    return not reasons, "; ".join(reasons[:3])
