"""NAB window scoring, and the default detector on the real NAB Twitter volume series."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics import evaluation

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "nab"
WINDOWS = [(100.0, 200.0), (500.0, 600.0)]


@pytest.mark.parametrize(
    ("alerts", "hits", "misses", "false_alarms"),
    [
        ([], 0, 2, 0),
        ([150.0], 1, 1, 0),
        ([100.0, 600.0], 2, 0, 0),
        ([150.0, 160.0, 300.0], 1, 1, 1),
        ([50.0, 99.9, 600.1], 0, 2, 3),
    ],
)
def test_windows_are_hit_missed_and_alerts_outside_are_false(alerts, hits, misses, false_alarms):
    score = evaluation.score_alerts(alerts, WINDOWS)
    assert (score.hits, score.misses, score.false_alarms, score.alerts) == (
        hits,
        misses,
        false_alarms,
        len(alerts),
    )


def test_totals_add_up():
    a = evaluation.score_alerts([150.0], WINDOWS, series="a")
    b = evaluation.score_alerts([300.0, 550.0], WINDOWS, series="b")
    total = evaluation.total([a, b])
    assert (total.windows, total.hits, total.misses, total.false_alarms) == (4, 2, 2, 1)


@pytest.fixture(scope="module")
def scores() -> dict[str, evaluation.Score]:
    if not DATA_DIR.is_dir():
        pytest.fail(f"NAB data not found at {DATA_DIR}; the tests expect /work/shared/data/nab")
    return {method: evaluation.score_dataset(DATA_DIR, method=method)[-1] for method in ("ewz", "mean3sigma")}


def test_windows_file_covers_the_five_twitter_series():
    windows = evaluation.load_windows(DATA_DIR)
    names = {path.name for path in evaluation.twitter_files(DATA_DIR)}
    assert len(names) == 5 and names <= set(windows)
    assert all(start < end for spans in windows.values() for start, end in spans)


def test_default_detector_hits_every_nab_window(scores):
    assert scores["ewz"].hits == scores["ewz"].windows == 16


def test_default_detector_hits_as_many_windows_as_the_baseline_with_fewer_false_alarms(
    scores,
):
    ours, baseline = scores["ewz"], scores["mean3sigma"]
    assert ours.hits >= baseline.hits
    assert ours.false_alarms < 0.7 * baseline.false_alarms


def test_score_table_names_every_series():
    table = evaluation.format_table(evaluation.score_dataset(DATA_DIR))
    for name in ("AAPL", "AMZN", "CRM", "CVS", "FB", "TOTAL"):
        assert name in table
