"""The snapshot as a pure function of the tick's inputs and `now`: no Redis anywhere in this file."""

from __future__ import annotations

import copy

import pytest

from analytics.alerts import AlertBook, AlertEngine
from analytics.learning import RelevanceModel
from analytics.trends import TrendDetector
from config.settings import ScheduleItem, load_settings
from streams.tick import TickInputs, TickState, build

NOW = 1_770_000_615.25  # mid-way through a 30 s sentiment bin
END = int(NOW)
START = END - 15 * 60 + 1


@pytest.fixture(scope="module")
def event():
    return load_settings({}).event


def state(event) -> TickState:
    return TickState(
        trends=TrendDetector(bucket_s=event.thresholds.trend_bucket_s),
        alerts=AlertEngine(event, AlertBook(event.alerts.cooldown_s)),
        model=RelevanceModel(),
    )


def inputs(**extra) -> TickInputs:
    window = {
        "all": {END - 1: 7.0, END - 5: 3.0},
        "Oreo": {END - 1: 4.0, END - 2: 1.0},
        "Oreo~s": {END - 1: 2.0, END - 2: -0.5},
    }
    base = dict(
        start=START,
        end=END,
        window=window,
        stats={"received": 12, "processed": 10, "dead": 1, "duplicates": 1, "last_at": NOW - 2},
        lag={"lag": 3, "pending": 0},
        sources={"webhook": {"state": "connected", "gaps": [[START - 100, START - 50], [END - 30, None]]}},
        tag_counts={},
        feed=[{"id": "webhook:1", "score": 3.0}],
        feed_by_source={"webhook": [{"id": "webhook:1", "score": 3.0}]},
        signals=[],
        signal_cursor="0-0",
        alerts=[],
        dropped={"x": 4},
    )
    return TickInputs(**(base | extra))


def test_panels_come_from_the_inputs_alone(event):
    built = build(event, inputs(), state(event), NOW)
    snap = built.snap
    assert snap["built_at"] == NOW and snap["event"]["brand"] == "Oreo"
    assert snap["volume"]["t"][0] == START and snap["volume"]["t"][-1] == END
    assert snap["volume"]["series"]["Oreo"][-2:] == [4, 0] and sum(snap["volume"]["series"]["all"]) == 10
    assert snap["volume"]["kinds"]["Oreo"] == "brand" and snap["volume"]["kinds"]["all"] == "all"
    # Five Oreo posts in the last sentiment bin, summing 1.5: mean 0.3. Every other bin has too few posts.
    assert snap["sentiment"]["bin_s"] == 30 and snap["sentiment"]["series"]["Oreo"][-1] == 0.3
    assert set(snap["sentiment"]["series"]["Oreo"][:-1]) == {None}
    assert snap["pipeline"] == {
        "received": 12,
        "processed": 10,
        "dead": 1,
        "duplicates": 1,
        "lag": 3,
        "pending": 0,
        "rate_per_s": 1.0,  # 10 posts in the last 10 seconds
        "last_at": NOW - 2,
        "data_age_s": 2.0,
        "dropped": 4,  # counted by the source whose buffer overflowed, shown on every screen
        "dropped_by_source": {"x": 4},
    }
    assert snap["gaps"] == [[END - 30, None]], "only gaps inside the chart window"
    assert snap["feed"] == inputs().feed and snap["trending"] == [] and snap["storylines"] == []
    assert snap["clock"] == {"label": "", "game": None, "schedule": []}
    assert built.new_alerts == [] and not built.alerts_changed and built.learned == 0


def test_same_inputs_same_snapshot(event):
    a = build(event, inputs(), state(event), NOW).snap
    b = build(event, copy.deepcopy(inputs()), state(event), NOW).snap
    assert a == b


def test_signals_become_alerts_merged_with_the_stored_ones_newest_first(event):
    signal = {
        "kind": "watch_word",
        "what": "recall",
        "post_id": "webhook:9",
        "handle": "fan",
        "followers": 10,
        "text": "Oreo recall?",
        "at": NOW - 1,
    }
    old = {"id": "old", "kind": "influencer", "at": NOW - 500, "acked_by": "sam", "severity": "medium"}
    built = build(event, inputs(signals=[signal], signal_cursor="5-0", alerts=[old]), state(event), NOW)
    (new,) = built.new_alerts
    assert new["kind"] == "watch_word" and new["raised_at"] == NOW and built.alerts_changed
    assert [a["id"] for a in built.snap["alerts"]] == [new["id"], "old"]
    assert built.snap["alerts"][1]["acked_by"] == "sam"


def test_the_simulator_clock_sets_the_schedule_and_the_label(event):
    item = ScheduleItem(name="Halftime", minute=170, minutes=12)
    ev = event.model_copy(update={"schedule": [item]})
    row = {
        "state": "connected",
        "detail": "Halftime · game minute 171",
        "clock": {"start_wall": NOW, "start_minute": 170, "speedup": 24.0, "loop": False, "game_minutes": 240.0},
    }
    tick_state = state(ev)
    clock = build(ev, inputs(sources={"simulator": row}), tick_state, NOW).snap["clock"]
    assert clock["label"] == "Halftime · game minute 171"
    assert clock["schedule"] == [{"name": "Halftime", "start": NOW, "end": NOW + 30.0, "expect_surge": True}]
    assert all(d.schedule == [(NOW, NOW + 30.0)] for d in tick_state.alerts.spikes.values())


def test_marks_are_learned_once_and_storylines_only_when_read(event):
    marks = [
        {"text": f"Oreo dunk in the dark {i}", "hashtags": ["oreo"], "author": {"handle": "a"}, "source": "x"}
        for i in range(2)
    ] + [{"text": f"touchdown replay {i}", "hashtags": [], "author": {"handle": "b"}, "source": "x"} for i in range(2)]
    tick_state = state(event)
    tick_state.storylines = [{"id": "kept"}]
    built = build(event, inputs(marks=marks, labels=[1, 1, 0, 0], marks_cursor="9-0"), tick_state, NOW)
    assert built.learned == 4 and built.snap["learning"] == {"marks": 4, "ready": True}
    assert built.snap["storylines"] == [{"id": "kept"}], "no storyline posts read: the last result stands"
    assert build(event, inputs(story_posts=[]), tick_state, NOW + 1).snap["storylines"] == []
    assert tick_state.storylines_at == NOW + 1
