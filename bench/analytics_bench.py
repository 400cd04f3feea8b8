"""Analytics benchmarks: VADER agreement, NAB hits/misses/false alarms, trend tick and spike step timings."""

from __future__ import annotations

import json
import logging
import statistics
import time
from pathlib import Path

import numpy as np

from analytics import evaluation
from analytics.spikes import SpikeDetector
from analytics.trends import TrendDetector

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
NAB_DIR = REPO_ROOT.parent / "shared" / "data" / "nab"


def vader_metrics() -> list[dict]:
    from scripts.vader_groundtruth import GROUND_TRUTH, load_ground_truth, pearson_r

    r = pearson_r()
    tweets = len(load_ground_truth())
    return [
        {
            "metric": "vader_pearson_r_groundtruth",
            "value": round(r, 4),
            "unit": "r",
            "n": tweets,
            "data": GROUND_TRUTH.name,
        }
    ]


def nab_metrics(data_dir: Path = NAB_DIR) -> list[dict]:
    results = []
    for method, prefix in (("ewz", "nab"), ("mean3sigma", "nab_baseline")):
        total = evaluation.score_dataset(data_dir, method=method)[-1]
        for field in ("hits", "misses", "false_alarms"):
            value = getattr(total, field)
            results.append(
                {
                    "metric": f"{prefix}_{field}",
                    "value": value,
                    "unit": "count",
                    "windows": total.windows,
                    "detector": method,
                }
            )
    return results


def trend_tick_ms(terms: int = 2000, ticks: int = 200, seed: int = 0) -> float:
    """Median of update(current bucket) + top(10) with `terms` distinct terms, 10 ticks per bucket."""
    rng = np.random.default_rng(seed)
    names = [f"term{i}" for i in range(terms)]
    rates = rng.uniform(0.5, 30, terms)
    detector = TrendDetector()
    for bucket in range(50):
        detector.update(bucket, dict(zip(names, rng.poisson(rates).tolist(), strict=True)))
    timings = []
    for k in range(ticks):
        bucket, tick = 50 + k // 10, k % 10 + 1
        counts = dict(zip(names, (rng.poisson(rates) * tick // 10).tolist(), strict=True))
        start = time.perf_counter()
        detector.update(bucket, counts)
        detector.top(bucket * detector.bucket_s + tick * 0.5, 10)
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def spike_step_us(points: int = 20_000, seed: int = 0) -> float:
    """Median microseconds per SpikeDetector.step, timed in blocks of 1,000 steps."""
    rng = np.random.default_rng(seed)
    values = rng.poisson(50, points).astype(float).tolist()
    detector = SpikeDetector()
    blocks = []
    for block in range(0, points, 1000):
        start = time.perf_counter()
        for i in range(block, block + 1000):
            detector.step(i * 300.0, values[i])
        blocks.append((time.perf_counter() - start) * 1e6 / 1000)
    return statistics.median(blocks)


def run() -> list[dict]:
    results = [*vader_metrics(), *nab_metrics()]
    results.append(
        {
            "metric": "trend_tick_ms_2000_terms",
            "value": round(trend_tick_ms(), 3),
            "unit": "ms",
            "stat": "median",
        }
    )
    results.append(
        {
            "metric": "spike_step_us",
            "value": round(spike_step_us(), 3),
            "unit": "us",
            "stat": "median",
        }
    )
    return results


if __name__ == "__main__":
    for result in run():
        print(json.dumps(result))
