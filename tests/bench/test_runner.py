"""The bench runner prints one valid JSON line per figure, keeps going past a failing group, exits non-zero."""

from __future__ import annotations

import io
import json
import sys
import types

import pytest

from bench import pipeline_bench, runner


@pytest.fixture
def tiny_groups(monkeypatch):
    ok = types.ModuleType("bench_tiny_ok")
    ok.run = lambda: (
        pipeline_bench.enrich_figures(batches=2, batch=20)
        + [
            pipeline_bench.figure(
                "pipeline_throughput_posts_per_s",
                round(pipeline_bench.throughput_once(pipeline_bench.scenario_posts(300), 1)),
                "posts/s",
                workers=1,
                runs=1,
            )
        ]
    )
    broken = types.ModuleType("bench_tiny_broken")

    def fail():
        raise RuntimeError("boom")

    broken.run = fail
    monkeypatch.setitem(sys.modules, "bench_tiny_ok", ok)
    monkeypatch.setitem(sys.modules, "bench_tiny_broken", broken)
    monkeypatch.setattr(runner, "GROUPS", {"ok": "bench_tiny_ok", "broken": "bench_tiny_broken"})


def test_runner_prints_json_lines_and_continues_after_a_failure(tiny_groups, capsys):
    out = io.StringIO()
    failed = runner.run_groups(["broken", "ok"], out)
    assert failed == ["broken"]
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [f["metric"] for f in lines] == [
        "analytics_us_per_post",
        "parse_us_per_post",
        "body_us_per_post",
        "pipeline_throughput_posts_per_s",
    ]
    for f in lines:
        assert isinstance(f["value"], (int, float)) and f["value"] > 0 and isinstance(f["unit"], str)
    assert lines[-1]["workers"] == 1
    assert "group broken failed: RuntimeError: boom" in capsys.readouterr().err


def test_main_exits_non_zero_when_a_group_fails(tiny_groups):
    with pytest.raises(SystemExit) as exc:
        runner.main(None, ["broken"])
    assert exc.value.code == 1


def test_non_finite_values_become_null():
    out = io.StringIO()
    runner.emit({"metric": "m", "value": float("nan"), "unit": "s", "extra": [float("inf")]}, out)
    assert json.loads(out.getvalue()) == {"metric": "m", "value": None, "unit": "s", "extra": [None]}
