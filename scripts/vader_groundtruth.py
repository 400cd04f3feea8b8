"""Pearson r between VADER compound scores and the human ratings of the ICWSM-14 tweets."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

logger = logging.getLogger(__name__)

GROUND_TRUTH = Path(__file__).resolve().parent.parent / "data" / "vader" / "tweets_GroundTruth.txt"


def load_ground_truth(path: Path = GROUND_TRUTH) -> list[tuple[float, str]]:
    """(mean human rating, text) per tweet; the file is id<TAB>rating<TAB>text."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        _id, rating, text = line.split("\t", 2)
        rows.append((float(rating), text))
    return rows


def pearson_r(path: Path = GROUND_TRUTH, analyzer: SentimentIntensityAnalyzer | None = None) -> float:
    """Pearson correlation of VADER compound against the mean human rating."""
    analyzer = analyzer or SentimentIntensityAnalyzer()
    rows = load_ground_truth(path)
    human = np.array([rating for rating, _ in rows])
    vader = np.array([analyzer.polarity_scores(text)["compound"] for _, text in rows])
    return float(np.corrcoef(human, vader)[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", type=Path, default=GROUND_TRUTH)
    args = parser.parse_args()
    rows = load_ground_truth(args.path)
    print(f"tweets: {len(rows)}  pearson_r: {pearson_r(args.path):.4f}")


if __name__ == "__main__":
    main()
