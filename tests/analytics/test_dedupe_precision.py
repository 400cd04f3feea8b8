"""Near-duplicate folding on a hand-labelled set of real-shaped texts (data/dedupe/near_duplicates.jsonl)."""

from __future__ import annotations

import itertools
import json

from analytics.dedupe import fold_key
from config.settings import ROOT

SET = ROOT / "data" / "dedupe" / "near_duplicates.jsonl"


def pairs() -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) over every pair of the set."""
    rows = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    tp = fp = fn = 0
    for a, b in itertools.combinations(rows, 2):
        same, folded = a["group"] == b["group"], fold_key(a["text"]) == fold_key(b["text"])
        tp += same and folded
        fp += folded and not same
        fn += same and not folded
    return tp, fp, fn


def test_folding_is_precise_on_real_shaped_pairs():
    tp, fp, fn = pairs()
    assert tp + fp > 20, "the set must exercise folding"
    assert tp / (tp + fp) >= 0.95
    assert tp / (tp + fn) >= 0.8  # and still folds most of the real copies


def test_retweets_app_shares_and_copy_paste_still_fold():
    assert fold_key("RT @fan_77: I've got the @Seahawks winning #SB49! https://nfl.example/pick") == fold_key(
        "I've got the @Patriots winning #SB49! https://nfl.example/pick"
    )
    text = "WIN a $500 gift card!!! Retweet and follow to enter before the final whistle"
    assert fold_key(f"{text} https://promo.example/1") == fold_key(f"{text} https://promo.example/2 @a 🎁")
    assert fold_key("RT @beijingfan: 奥利奥的超级碗广告太有创意了") == fold_key("奥利奥的超级碗广告太有创意了")


def test_unrelated_texts_on_one_topic_do_not_fold():
    a = "That Nationwide ad about the kid who dies was so dark, I was not ready for that during a party"
    b = "Nationwide really ran a commercial about kids dying during the Super Bowl, who thought that was ok"
    assert fold_key(a) != fold_key(b)


if __name__ == "__main__":
    tp, fp, fn = pairs()
    print(
        f"pairs folded {tp + fp}: precision {tp / (tp + fp):.3f}, recall {tp / (tp + fn):.3f} (tp {tp} fp {fp} fn {fn})"
    )
