"""Behaviour of the streaming spike/dip detector and the mean+3-sigma baseline."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from analytics.spikes import (
    Alert,
    MeanSigmaDetector,
    SpikeDetector,
    baseline_csv,
    detect_csv,
    detect_series,
)

STEP_S = 300.0
T0 = 1_425_000_000.0  # 2015-02-27, a 5-minute grid like the NAB Twitter series


def poisson_series(days: float = 3, rate: float = 50.0, seed: int = 1) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    points = int(days * 86400 / STEP_S)
    return [(T0 + i * STEP_S, float(v)) for i, v in enumerate(rng.poisson(rate, points))]


def with_values(rows, at: int, values: list[float]):
    rows = list(rows)
    for offset, value in enumerate(values):
        rows[at + offset] = (rows[at + offset][0], value)
    return rows


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([600.0] * 6, "spike"),
        ([400.0, 900.0, 500.0], "spike"),
        ([0.0] * 12, "dip"),
    ],
)
def test_one_excursion_raises_exactly_one_alert_of_its_kind(values, kind):
    rows = with_values(poisson_series(), 600, values)
    alerts = list(detect_series(rows))
    assert [alert.kind for alert in alerts] == [kind]
    assert rows[600][0] <= alerts[0].timestamp <= rows[600 + len(values) - 1][0]


def test_steady_noisy_series_raises_no_alert():
    assert list(detect_series(poisson_series(days=5))) == []


def test_spike_alert_reports_value_expected_and_score():
    rows = with_values(poisson_series(), 600, [600.0] * 6)
    (alert,) = detect_series(rows)
    assert isinstance(alert, Alert)
    assert alert.value == 600.0
    assert alert.expected == pytest.approx(50, rel=0.2)
    assert alert.score > 4


def test_no_alert_during_warm_up():
    rows = with_values(poisson_series(), 10, [5000.0] * 3)
    assert list(detect_series(rows, warmup_s=12 * 3600)) == []


@pytest.mark.parametrize("value", [1.0, 2.0, 3.0])
def test_noise_floor_ignores_a_handful_on_a_silent_series(value):
    rows = [(T0 + i * STEP_S, 0.0) for i in range(600)]
    rows = with_values(rows, 400, [value, value])
    assert list(detect_series(rows)) == []


def test_scheduled_surge_does_not_alert_but_an_unscheduled_one_does():
    rows = with_values(poisson_series(), 600, [600.0] * 6)
    window = (rows[598][0], rows[610][0])
    assert list(detect_series(rows, schedule=[window])) == []
    assert len(list(detect_series(rows, schedule=[(T0, T0 + 60)]))) == 1


def test_cool_down_lets_a_later_separate_spike_alert():
    rows = with_values(poisson_series(days=4), 400, [700.0] * 3)
    rows = with_values(rows, 800, [700.0] * 3)
    assert len(list(detect_series(rows, cooldown_s=12 * 3600))) == 2
    assert len(list(detect_series(rows, cooldown_s=3 * 86400))) == 1


def test_baseline_flags_the_same_spike():
    rows = with_values(poisson_series(), 600, [900.0] * 3)
    alerts = list(detect_series(rows, method="mean3sigma"))
    assert [a.kind for a in alerts] == ["spike"]


def test_unknown_method_says_which_exist():
    with pytest.raises(ValueError, match="mean3sigma"):
        list(detect_series([], method="magic"))


def write_csv(path, rows):
    from datetime import UTC, datetime

    lines = ["timestamp,value"]
    for ts, value in rows:
        lines.append(f"{datetime.fromtimestamp(ts, UTC):%Y-%m-%d %H:%M:%S},{int(value)}")
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("runner", [detect_csv, baseline_csv])
def test_csv_alerts_are_json_lines_with_the_csv_timestamp(tmp_path, runner):
    rows = with_values(poisson_series(), 600, [900.0] * 6)
    path = tmp_path / "series.csv"
    write_csv(path, rows)
    alerts = list(runner(path))
    assert alerts and alerts[0]["kind"] == "spike"
    assert alerts[0]["timestamp"] in path.read_text()
    assert {"timestamp", "kind", "score"} <= set(alerts[0])
    json.dumps(alerts)


def test_detectors_are_streaming_and_stateful():
    for detector in (SpikeDetector(), MeanSigmaDetector()):
        rows = with_values(poisson_series(), 600, [900.0] * 6)
        fired = [a for a in (detector.step(t, v) for t, v in rows) if a]
        assert len(fired) >= 1


def test_a_near_empty_first_point_does_not_become_the_baseline():
    """A source that has just started: the first bin is empty, then a steady 10/s, then a real 5x burst."""
    det = SpikeDetector(half_life_s=300, warmup_s=60, cooldown_s=120, threshold=4.0, confirm=1)
    rng = random.Random(1)
    alerts = [det.step(0, 0.0)]
    alerts += [det.step(t, rng.gauss(10, 1)) for t in range(5, 200, 5)]
    assert not any(alerts), "steady volume after an empty start must not look like a spike"
    burst = [det.step(t, rng.gauss(50, 3)) for t in range(200, 215, 5)]
    assert any(a and a.kind == "spike" for a in burst)
