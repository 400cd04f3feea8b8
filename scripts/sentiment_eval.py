"""Macro recall (and accuracy) of the sentiment labels: plain VADER against analytics/sentiment.py, on the
shipped sets: data/tweeteval (TweetEval's validation split, independent of VADER), data/vader/tweets_GroundTruth.txt
(labels from the human mean rating) and data/sentiment/labelled.jsonl (hand-labelled for this project).
One JSON line per (set, scorer)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

from analytics.sentiment import Sentiment, label  # noqa: E402

LABELS = ("negative", "neutral", "positive")
RATING_CUT = 0.5  # ground truth: mean human rating above +0.5 positive, below -0.5 negative


def vader_set() -> list[tuple[str, str]]:
    rows = []
    for line in (ROOT / "data" / "vader" / "tweets_GroundTruth.txt").read_text(encoding="utf-8").splitlines():
        if line.strip():
            _, rating, text = line.split("\t", 2)
            r = float(rating)
            rows.append(("positive" if r > RATING_CUT else "negative" if r < -RATING_CUT else "neutral", text))
    return rows


def tweeteval_set() -> list[tuple[str, str]]:
    """TweetEval sentiment, validation split (data/tweeteval/README.md): independent of VADER."""
    names = {"0": "negative", "1": "neutral", "2": "positive"}
    texts = (ROOT / "data" / "tweeteval" / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (ROOT / "data" / "tweeteval" / "val_labels.txt").read_text(encoding="utf-8").split()
    assert len(texts) == len(labels), "val_text.txt and val_labels.txt must have one line per tweet"
    return [(names[label], text) for label, text in zip(labels, texts, strict=True)]


def hand_set() -> list[tuple[str, str]]:
    path = ROOT / "data" / "sentiment" / "labelled.jsonl"
    return [(d["label"], d["text"]) for d in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if d]


def macro_recall(rows: list[tuple[str, str]], scorer) -> dict:
    hits = {k: 0 for k in LABELS}
    totals = {k: 0 for k in LABELS}
    for truth, text in rows:
        totals[truth] += 1
        hits[truth] += label(scorer(text)) == truth
    recalls = {k: hits[k] / totals[k] for k in LABELS if totals[k]}
    return {
        "macro_recall": round(sum(recalls.values()) / len(recalls), 4),
        "accuracy": round(sum(hits.values()) / len(rows), 4),
        "recall": {k: round(v, 4) for k, v in recalls.items()},
        "n": len(rows),
    }


def main() -> None:
    vader = SentimentIntensityAnalyzer()
    scorers = {"vader": lambda t: vader.polarity_scores(t)["compound"], "warroom": Sentiment().compound}
    sets = (("tweeteval_val", tweeteval_set()), ("vader_groundtruth", vader_set()), ("hand_labelled", hand_set()))
    for name, rows in sets:
        for scorer, fn in scorers.items():
            print(json.dumps({"set": name, "scorer": scorer, **macro_recall(rows, fn)}))


if __name__ == "__main__":
    main()
