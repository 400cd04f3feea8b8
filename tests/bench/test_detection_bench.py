"""The detection benchmark runs the real pipeline end to end and reports the blackout's detection delays."""

from __future__ import annotations

import json
import math

import yaml

from bench import detection_bench, runner
from config.settings import load_event


def test_derived_event_opens_before_the_blackout_and_changes_nothing_else(tmp_path):
    path = detection_bench.derived_event(tmp_path / "e.yaml", seed=7, lead_min=28)
    raw, base = yaml.safe_load(path.read_text()), yaml.safe_load(detection_bench.EVENT_FILE.read_text())
    sim = base["sources"]["simulator"]
    assert raw["sources"]["simulator"] == {**sim, "start_minute": sim["blackout_minute"] - 28, "seed": 7}
    assert {k: v for k, v in raw.items() if k != "sources"} == {k: v for k, v in base.items() if k != "sources"}
    event = load_event(path)
    assert event.thresholds.spike_warmup_s == base["thresholds"]["spike_warmup_s"]


def test_one_tiny_run_detects_the_blackout_and_prints_json_lines():
    # 10 s of lead at speedup 24 with the spike warm-up lowered to 2 s: about 20 s in all.
    result = detection_bench.measure_once(42, lead_min=4, after_s=20, spike_warmup_s=2)
    assert result["lead_s"] == 10.0 and result["spike_warmup_s"] == 2 and result["warmup_ok"] is False
    assert result["snapshots"] > 10
    assert result["blackout_top_before_blackout"] == 0
    assert 0 <= result["trend_delay_s"] < 5
    assert 0 <= result["spike_delay_s"] < 10  # one 5 s bin, one settling second, a tick
    assert 0 <= result["superbowl_top_share"] <= 1

    figs = detection_bench.figures([result])
    assert [f["metric"] for f in figs] == [
        "trend_blackout_delay_s",
        "spike_blackout_delay_s",
        "superbowl_top_trending_share",
    ]
    assert figs[0]["value"] == result["trend_delay_s"] and figs[0]["per_run"] == [result["trend_delay_s"]]
    for f in figs:
        line = json.loads(_emitted(f))
        assert line["unit"] and line["runs"] == 1 and line["spike_warmup_s"] == 2


def test_a_missed_detection_is_counted_not_hidden():
    base = {
        "seed": 1,
        "lead_s": 70.0,
        "speedup": 24.0,
        "rate": 150.0,
        "spike_warmup_s": 60.0,
        "warmup_ok": True,
        "trend_listed_delay_s": 0.5,
        "spike_bin_end_delay_s": None,
        "spike_score": None,
        "snapshots_with_trending": 100,
        "top_terms": {},
    }
    runs = [
        {**base, "trend_delay_s": 0.5, "spike_delay_s": None, "superbowl_top_share": 0.1},
        {**base, "seed": 2, "trend_delay_s": 1.5, "spike_delay_s": None, "superbowl_top_share": 0.3},
    ]
    trend, spike, share = detection_bench.figures(runs)
    assert trend["value"] == 1.0 and trend["missed"] == 0
    assert math.isnan(spike["value"]) and spike["missed"] == 2
    assert json.loads(_emitted(spike))["value"] is None
    assert share["value"] == 0.2


def _emitted(fig: dict) -> str:
    import io

    out = io.StringIO()
    runner.emit(fig, out)
    return out.getvalue()
