"""Care benchmark: triage precision and recall per kind on the simulated game (one full loop), by the event file's
rules alone and after the team's corrections teach the care model, and safety recall (goal 1.0).

The team corrects the cases the lane shows wrongly during the first third of the game (as they arrive, up to
CORRECTIONS), and answers or resolves cases shown rightly, which confirms them (up to CONFIRMED per case kind, as
web/care.confirm does); both triages are then scored on the other two thirds, the posts the model never saw.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from analytics.care import CASE_KINDS, KINDS, NONE, PRAISE, SAFETY, CareModel, Triager
from config.settings import load_event
from model.enriched import Context
from model.post import parse_post
from streams.enrichment import Enricher
from streams.scenario import GAME_MINUTES, Scenario

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
EVENT = REPO_ROOT / "config" / "superbowl.yaml"
CORRECTIONS = 60
CONFIRMED = 20  # cases per kind the team answers or resolves as triaged while the model is scored unseen
SCORED_KINDS = (*CASE_KINDS, PRAISE)


def brand_posts(seconds: float | None = None, seed: int = 42) -> list[tuple[dict, str, list[str]]]:
    """(post, care truth, mentions) for every brand post that is not a repost in the simulated game."""
    event = load_event(EVENT)
    sim = event.sources.simulator
    sc = Scenario(
        rate=sim.rate,
        speedup=sim.speedup,
        seed=seed,
        blackout_minute=sim.blackout_minute,
        blackout_minutes=sim.blackout_minutes,
        start_minute=0.0,
        loop=False,
    )
    seconds = seconds or GAME_MINUTES * 60 / sim.speedup
    enricher = Enricher(event)
    out = []
    for i in range(int(seconds / 0.1)):
        for p, truth in sc.step(i):
            post = parse_post(p)
            if post.repost_of is not None:
                continue
            e = enricher.enrich(post, p["created_at"], Context())
            if event.brand.name in e.series:
                out.append((p, truth.care, post.mentions))
    return out


def scores(pairs: list[tuple[str, str]]) -> dict[str, dict[str, float | None]]:
    """{kind: {"precision", "recall", "support"}} from (truth, predicted) pairs."""
    out = {}
    for k in SCORED_KINDS:
        tp = sum(1 for t, p in pairs if t == k and p == k)
        predicted = sum(1 for _, p in pairs if p == k)
        actual = sum(1 for t, _ in pairs if t == k)
        out[k] = {
            "precision": round(tp / predicted, 4) if predicted else None,
            "recall": round(tp / actual, 4) if actual else None,
            "support": actual,
        }
    return out


def evaluate(rows: list[tuple[dict, str, list[str]]]) -> dict:
    triager = Triager(load_event(EVENT))
    third = len(rows) // 3
    model, corrected, confirmed = CareModel(), 0, dict.fromkeys(CASE_KINDS, 0)
    for p, truth, mentions in rows[:third]:  # the team works the lane as cases arrive
        shown = triager.one(p["text"], mentions, model).kind
        if shown != NONE and shown != truth and corrected < CORRECTIONS:
            model.learn([p["text"]], [truth])
            corrected += 1
        elif shown == truth and confirmed.get(shown, CONFIRMED) < CONFIRMED:
            model.learn([p["text"]], [truth])  # answered or resolved as triaged: the lane confirms it (web/care)
            confirmed[shown] += 1
    held = rows[third:]
    t0 = time.perf_counter()
    rules = [(truth, triager.one(p["text"], m).kind) for p, truth, m in held]
    per_post_us = (time.perf_counter() - t0) / max(1, len(held)) * 1e6
    learned = [(truth, triager.one(p["text"], m, model).kind) for p, truth, m in held]
    every = [(truth, triager.one(p["text"], m).kind) for p, truth, m in rows]
    safety = [p for t, p in every if t == SAFETY]
    return {
        "rules": scores(rules),
        "learned": scores(learned),
        "corrections": corrected,
        "confirmed": sum(confirmed.values()),
        "held_out": len(held),
        "safety_recall": round(sum(1 for p in safety if p == SAFETY) / len(safety), 4) if safety else None,
        "safety_cases": len(safety),
        "false_safety": sum(1 for t, p in every if p == SAFETY and t != SAFETY),
        "triage_us_per_post": round(per_post_us, 1),
        "brand_posts": len(rows),
    }


def run() -> list[dict]:
    res = evaluate(brand_posts())
    note = (
        f"{res['held_out']} held-out brand posts, after {res['corrections']} corrections"
        f" and {res['confirmed']} confirmed cases"
    )
    out = []
    for kind in SCORED_KINDS:
        for name in ("precision", "recall"):
            out.append(
                {
                    "metric": f"care_{name}",
                    "kind": kind,
                    "value": res["learned"][kind][name],
                    "rules_only": res["rules"][kind][name],
                    "support": res["learned"][kind]["support"],
                    "note": note,
                }
            )
    out.append(
        {
            "metric": "care_safety_recall",
            "value": res["safety_recall"],
            "goal": 1.0,
            "support": res["safety_cases"],
            "false_safety": res["false_safety"],
            "note": f"every brand post of the simulated game ({res['brand_posts']})",
        }
    )
    out.append({"metric": "care_triage_us_per_brand_post", "value": res["triage_us_per_post"], "unit": "us"})
    assert set(KINDS) >= set(SCORED_KINDS)
    return out


if __name__ == "__main__":
    import json

    for result in run():
        print(json.dumps(result))
