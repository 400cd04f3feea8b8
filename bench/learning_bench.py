"""Learning benchmarks: fold_key, storylines and learned-points timings, and feed NDCG@20 before and after marks."""

from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

from analytics.dedupe import fold_key
from analytics.evaluation import ndcg_at_k
from analytics.learning import RelevanceModel
from analytics.storylines import storylines
from config.settings import load_event
from model.enriched import Context
from model.post import parse_post
from streams.enrichment import Enricher
from streams.scenario import Scenario

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
EVENT = REPO_ROOT / "config" / "superbowl.yaml"
WINDOW_S = 15.0  # one feed window: the posts a strategist sees ranked together
MARKS = 50
TOP_OF_FEED = 0.1  # a strategist marks posts that reach the top tenth of the feed, as they appear
MARK_WINDOWS = (0, 3, 6, 9)  # each trains a fresh model, evaluated on the two windows after it


def simulated(seconds: float = 180.0, seed: int = 42) -> list[tuple[dict, int]]:
    """(post dict, truth grade) around the blackout: rate 150, speedup 24, blackout at game minute 170."""
    sc = Scenario(
        rate=150, speedup=24, seed=seed, blackout_minute=170, blackout_minutes=34, start_minute=165, loop=False
    )
    return [(p, t.grade) for i in range(int(seconds / 0.1)) for p, t in sc.step(i)]


def scored(rows: list[tuple[dict, int]]) -> list[tuple[dict, int, float]]:
    """Each post with its grade and the rule-based relevance score the processor would give it."""
    enricher = Enricher(load_event(EVENT))
    out = []
    for p, grade in rows:
        e = enricher.enrich(parse_post(p), p["created_at"], Context())
        out.append((dict(p, score=e.score, sentiment=e.sentiment, received_at=p["created_at"]), grade, e.score))
    return out


def windows(rows: list[tuple[dict, int, float]]) -> list[list[tuple[dict, int, float]]]:
    out: dict[int, list] = {}
    for row in rows:
        out.setdefault(int(row[0]["created_at"] // WINDOW_S), []).append(row)
    return [out[k] for k in sorted(out)]


def ndcg(window: list[tuple[dict, int, float]], extra: list[float] | None = None) -> float:
    scores = [s + (extra[i] if extra else 0.0) for i, (_, _, s) in enumerate(window)]
    order = sorted(range(len(window)), key=lambda i: -scores[i])
    return ndcg_at_k([window[i][1] for i in order], [g for _, g, _ in window], k=20)


def strategist_marks(window: list[tuple[dict, int, float]]) -> list[tuple[dict, int]]:
    """The first MARKS posts, in order of arrival, that rank in the top tenth of their window's feed."""
    cut = sorted((s for _, _, s in window), reverse=True)[max(0, int(len(window) * TOP_OF_FEED) - 1)]
    top = [(p, int(g >= 2)) for p, g, s in sorted(window, key=lambda r: r[0]["created_at"]) if s >= cut]
    return top[:MARKS]


def feed_ndcg(rows: list[tuple[dict, int, float]]) -> tuple[float, float]:
    """Mean NDCG@20 over later windows: rule score alone, and rule score + points from 50 marks."""
    wins = windows(rows)
    cold, warm = [], []
    for m in (m for m in MARK_WINDOWS if m + 2 < len(wins)):
        model = RelevanceModel()
        for post, label in strategist_marks(wins[m]):
            model.learn([post], [label])  # one mark at a time, as the room clicks
        for later in wins[m + 1 : m + 3]:
            cold.append(ndcg(later))
            warm.append(ndcg(later, [v for v, _ in model.points([p for p, _, _ in later])]))
    return statistics.mean(cold), statistics.mean(warm)


def fold_key_us(texts: list[str]) -> float:
    fold_key.cache_clear()
    times = []
    for text in texts:
        start = time.perf_counter()
        fold_key(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def timed_ms(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def run() -> list[dict]:
    rows = scored(simulated())
    posts = [p for p, _, _ in rows]
    relevant = [p for p, g, _ in rows if g >= 1][:2000]
    now = max(p["received_at"] for p in relevant)
    model = RelevanceModel()
    for post, label in strategist_marks(windows(rows)[0]):
        model.learn([post], [label])
    cold, warm = feed_ndcg(rows)
    return [
        {
            "metric": "fold_key_us_per_post",
            "value": round(fold_key_us([p["text"] for p in posts[:20000]]), 2),
            "unit": "us",
            "note": "median, cache cleared first; simulator texts repeat (retweets), so many are hits",
        },
        {
            "metric": "fold_key_us_per_distinct_text",
            "unit": "us",
            "note": "median, every text new (no cache hit)",
            "value": round(
                fold_key_us([f"{p['text']} variant{i} word{i * 7}" for i, p in enumerate(posts[:20000])]), 2
            ),
        },
        {
            "metric": "storylines_ms_2000_posts",
            "value": round(timed_ms(lambda: storylines(relevant, now)), 1),
            "unit": "ms",
        },
        {
            "metric": "learning_points_ms_500_posts",
            "value": round(timed_ms(lambda: model.points(posts[-500:])), 1),
            "unit": "ms",
        },
        {"metric": "feed_ndcg_at_20_cold", "value": round(cold, 4), "unit": "ndcg"},
        {"metric": "feed_ndcg_at_20_after_50_marks", "value": round(warm, 4), "unit": "ndcg"},
    ]


if __name__ == "__main__":
    import json

    for result in run():
        print(json.dumps(result))
