"""How good the analytics are: ranking quality (NDCG@k) and spike detectors scored against NAB anomaly windows."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from analytics.spikes import Window, detect_series, parse_timestamp, read_csv

logger = logging.getLogger(__name__)

TWITTER_GLOB = "Twitter_volume_*.csv"


# Ranking: DCG and NDCG@k of a ranked list of graded relevance judgements ---------------------------------------


def dcg(grades: Sequence[float], k: int = 20) -> float:
    """Discounted cumulative gain of the first k grades, exponential gain (2^g - 1) / log2(rank + 1)."""
    return sum((2.0**g - 1.0) / math.log2(rank + 2) for rank, g in enumerate(grades[:k]))


def ndcg_at_k(ranked_grades: Sequence[float], all_grades: Sequence[float], k: int = 20) -> float:
    """DCG of the ranking over the DCG of the best possible ranking of `all_grades`; 0.0 if nothing is relevant."""
    ideal = dcg(sorted(all_grades, reverse=True), k)
    return dcg(ranked_grades, k) / ideal if ideal > 0 else 0.0


# Detection: hits, misses and false alarms per NAB series -------------------------------------------------------


@dataclass(frozen=True)
class Score:
    series: str
    detector: str
    windows: int
    hits: int
    misses: int
    false_alarms: int
    alerts: int

    def as_dict(self) -> dict:
        return asdict(self)


def load_windows(data_dir: Path) -> dict[str, list[Window]]:
    """NAB windows.json as {file name: [(start epoch, end epoch), ...]}."""
    raw = json.loads((data_dir / "windows.json").read_text(encoding="utf-8"))
    return {name: [(parse_timestamp(a), parse_timestamp(b)) for a, b in pairs] for name, pairs in raw.items()}


def load_series(path: Path) -> list[tuple[float, float]]:
    return [(timestamp, value) for _text, timestamp, value in read_csv(path)]


def twitter_files(data_dir: Path) -> list[Path]:
    return sorted(data_dir.glob(TWITTER_GLOB))


def score_alerts(
    alert_times: Iterable[float],
    windows: Sequence[Window],
    *,
    series: str = "",
    detector: str = "",
) -> Score:
    """A window is hit by at least one alert inside it; an alert outside every window is a false alarm."""
    times = list(alert_times)
    hit = [any(start <= t <= end for t in times) for start, end in windows]
    false_alarms = sum(not any(start <= t <= end for start, end in windows) for t in times)
    return Score(
        series,
        detector,
        len(windows),
        sum(hit),
        len(windows) - sum(hit),
        false_alarms,
        len(times),
    )


def score_series(
    rows: Sequence[tuple[float, float]],
    windows: Sequence[Window],
    *,
    series: str = "",
    method: str = "ewz",
    **params: object,
) -> Score:
    alerts = detect_series(rows, method=method, **params)
    return score_alerts((alert.timestamp for alert in alerts), windows, series=series, detector=method)


def total(scores: Iterable[Score], *, detector: str = "") -> Score:
    scores = list(scores)
    return Score(
        "TOTAL",
        detector or (scores[0].detector if scores else ""),
        sum(s.windows for s in scores),
        sum(s.hits for s in scores),
        sum(s.misses for s in scores),
        sum(s.false_alarms for s in scores),
        sum(s.alerts for s in scores),
    )


def score_dataset(data_dir: Path, *, method: str = "ewz", **params: object) -> list[Score]:
    """Per-series scores for every Twitter volume series in `data_dir`, then the total."""
    windows = load_windows(data_dir)
    scores = [
        score_series(
            load_series(path),
            windows.get(path.name, []),
            series=path.stem,
            method=method,
            **params,
        )
        for path in twitter_files(data_dir)
    ]
    return [*scores, total(scores, detector=method)]


def format_table(scores: Sequence[Score]) -> str:
    header = f"{'detector':<11} {'series':<22} {'windows':>7} {'hits':>5} {'misses':>6} {'false':>6} {'alerts':>6}"
    lines = [header, "-" * len(header)]
    for s in scores:
        lines.append(
            f"{s.detector:<11} {s.series:<22} {s.windows:>7} {s.hits:>5} {s.misses:>6} {s.false_alarms:>6} {s.alerts:>6}"
        )
    return "\n".join(lines)
