"""The learned relevance model: silent until it has both kinds of marks, then moves posts like the marks."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from analytics.learning import SCALE, InvalidModel, RelevanceModel, tokens
from streams.scenario import Scenario


def post(text: str, handle: str = "fan00001", source: str = "x", hashtags: tuple[str, ...] = ()) -> dict:
    return {
        "id": f"x:{abs(hash(text))}",
        "source": source,
        "text": text,
        "hashtags": list(hashtags),
        "author": {"handle": handle, "name": "", "followers": 10, "verified": False},
    }


RELEVANT = post("Dunk an Oreo in the dark #blackout", hashtags=("blackout",))
NOISE = post("What a catch!!! #SuperBowl", hashtags=("superbowl",))


def trained(rounds: int = 3) -> RelevanceModel:
    model = RelevanceModel()
    for _ in range(rounds):
        model.learn([RELEVANT, NOISE], [1, 0])
    return model


@pytest.mark.parametrize(
    ("posts", "labels"),
    [([], []), ([RELEVANT], [1]), ([NOISE, NOISE], [0, 0])],
)
def test_adds_nothing_until_it_has_a_mark_of_each_class(posts, labels):
    model = RelevanceModel()
    model.learn(posts, labels)
    assert model.points([RELEVANT, NOISE]) == [(0.0, ""), (0.0, "")]
    assert model.marks == len(posts)


def test_one_mark_of_each_class_already_separates_similar_posts():
    model = RelevanceModel()
    model.learn([RELEVANT], [1])
    model.learn([NOISE], [0])
    (up, why_up), (down, why_down) = model.points(
        [post("An Oreo in the dark, anyone? #blackout"), post("What a catch by the 49ers #SuperBowl")]
    )
    assert up > 0 > down
    assert why_up.startswith("learned: ") and why_down.startswith("learned: ")


def test_reason_names_features_of_the_post_itself():
    ((_, why),) = trained().points([post("oreo dark dunk", hashtags=("blackout",))])
    named = why.removeprefix("learned: ").rsplit(" ", 1)[0]
    assert named and all(
        n.strip("'") in tokens(post("oreo dark dunk", hashtags=("blackout",))) for n in named.split(", ")
    )
    assert "src:" not in why


def test_points_stay_within_half_the_scale():
    model = trained(rounds=50)
    values = [v for v, _ in model.points([RELEVANT, NOISE, post("unrelated words entirely")])]
    assert all(abs(v) <= SCALE / 2 for v in values)
    assert values[0] > 1.0 and values[1] < -1.0


def test_a_run_of_one_class_batches_does_not_erase_the_other_class():
    model = trained()
    for _ in range(30):
        model.learn([post("What a catch!!! #SuperBowl")], [0])
    assert model.points([RELEVANT])[0][0] > 0


def test_tokens_cover_words_bigrams_hashtags_author_and_source():
    toks = tokens(post("RT @oreo: Lights OUT https://t.co/x", handle="Fan7", source="bluesky", hashtags=("Blackout",)))
    assert {"rt", "@oreo", "lights", "out", "lights out", "#blackout", "by:fan7", "src:bluesky"} <= set(toks)
    assert not any("t.co" in t for t in toks)


def test_saved_model_scores_the_same_and_keeps_learning():
    model = trained()
    data = model.to_bytes()
    restored = RelevanceModel.from_bytes(data)
    assert restored.marks == model.marks == 6
    assert restored.points([RELEVANT, NOISE]) == model.points([RELEVANT, NOISE])
    before = restored.points([NOISE])[0][0]
    restored.learn([NOISE], [1])
    assert restored.points([NOISE])[0][0] > before
    assert b"pickle" not in data and len(data) < 200_000


def test_a_model_saved_before_any_mark_round_trips():
    assert RelevanceModel.from_bytes(RelevanceModel().to_bytes()).points([RELEVANT]) == [(0.0, "")]


@pytest.mark.parametrize("data", [b"", b"garbage", b"WRRM\x09\x00\x00\x00\x02{}"])
def test_bytes_that_are_not_a_model_are_refused_with_a_named_error(data):
    with pytest.raises(InvalidModel):
        RelevanceModel.from_bytes(data)


def test_on_the_simulator_marks_lift_brand_posts_above_game_chatter():
    sc = Scenario(rate=150, speedup=24, seed=7, blackout_minute=170, blackout_minutes=34, start_minute=166, loop=False)
    rows = [r for i in range(600) for r in sc.step(i)]
    marked, later = rows[:1500], rows[-800:]
    model = RelevanceModel()
    picks = [r for r in marked if r[1].grade >= 2][:25] + [r for r in marked if r[1].grade == 0][:25]
    for p, truth in picks:
        model.learn([p], [int(truth.grade >= 2)])
    points = model.points([p for p, _ in later])
    high = [v for (_, t), (v, _) in zip(later, points, strict=True) if t.grade >= 2]
    low = [v for (_, t), (v, _) in zip(later, points, strict=True) if t.grade == 0]
    assert statistics.mean(high) > statistics.mean(low) + 1.5


def test_a_restored_model_saved_again_unused_is_the_same_model():
    # from_bytes keeps the weights until the classifier is first used (scikit-learn is imported then): saving
    # such a model again, and then using it, is the same as using the original.
    model = trained()
    again = RelevanceModel.from_bytes(RelevanceModel.from_bytes(model.to_bytes()).to_bytes())
    assert again.points([RELEVANT, NOISE]) == model.points([RELEVANT, NOISE])
    model.learn([NOISE], [1])
    again.learn([NOISE], [1])
    assert again.points([RELEVANT, NOISE]) == model.points([RELEVANT, NOISE])


def test_building_the_aggregator_imports_no_scikit_learn_or_scipy():
    # A restarted aggregator's first snapshot waits for nothing heavy (docs/reliability.md, the chaos test): the
    # models build their sklearn parts on first use, storylines import sklearn and datasketch (scipy) on first use.
    import subprocess
    import sys

    code = (
        "import sys; import streams.aggregator; from analytics.learning import RelevanceModel; "
        "from analytics.care import CareModel; from analytics.learning import tokens; "
        "m = RelevanceModel.from_bytes(RelevanceModel().to_bytes()); m.learn([], []); m.points([{'text': 'x'}]); "
        "CareModel.from_bytes(CareModel().to_bytes()).predict(['x']); "
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'sklearn', 'scipy', 'datasketch', 'pandas'}))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout
    assert out.strip() == "[]"
