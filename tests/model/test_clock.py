"""The event clock: wall-clock schedules as they are, game-minute schedules through the simulator's game clock."""

from datetime import UTC, datetime

import pytest

from config.settings import ScheduleItem, load_settings
from model.clock import EventClock

START = 1_770_000_000.0
GAME = {"start_wall": START, "start_minute": 160.0, "speedup": 24.0, "loop": False, "game_minutes": 240.0}


def event(*items: ScheduleItem):
    return load_settings({}).event.model_copy(update={"schedule": list(items)})


def test_wall_clock_items_need_no_game_clock_and_naive_times_are_utc():
    kickoff = ScheduleItem(name="Kick-off", at=datetime(2026, 2, 8, 23, 30), minutes=10)
    anthem = ScheduleItem(name="Anthem", at=datetime(2026, 2, 8, 23, 20, tzinfo=UTC), expect_surge=False)
    clock = EventClock.build(event(kickoff, anthem))
    at = datetime(2026, 2, 8, 23, 30, tzinfo=UTC).timestamp()
    assert clock.surge_windows() == [(at, at + 600)]
    assert [s["name"] for s in clock.as_dict()["schedule"]] == ["Kick-off", "Anthem"]
    assert clock.game is None and clock.label == ""


def test_game_minutes_wait_for_the_game_clock_then_map_to_the_wall_clock():
    halftime = ScheduleItem(name="Halftime", minute=170, minutes=12)
    assert EventClock.build(event(halftime)).surge_windows() == []
    clock = EventClock.build(event(halftime), {"clock": GAME, "detail": "Blackout · game minute 171"})
    start = START + 10 * 60 / 24  # ten game minutes after 160 at 24x
    assert clock.surge_windows() == [(start, pytest.approx(start + 12 * 60 / 24))]
    assert clock.label == "Blackout · game minute 171"
    assert clock.as_dict()["game"]["speedup"] == 24.0


def test_a_looping_game_clock_repeats_the_schedule_every_cycle():
    clock = EventClock.build(event(ScheduleItem(name="Ad", minute=170, minutes=5)), {"clock": GAME | {"loop": True}})
    starts = [s for s, _ in clock.surge_windows()]
    cycle = 240 * 60 / 24
    first = START + 10 * 60 / 24
    assert starts == [pytest.approx(first + k * cycle) for k in (-1, 0, 1, 2)]
