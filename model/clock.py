"""The event clock: when the expected surges (kick-off, halftime, ads) happen on the wall clock.

A real event's schedule gives wall-clock times (`at`); the simulator's gives game minutes, which its game
clock (the `clock` it reports in its health row) maps to the wall clock, repeating when the simulation loops.
Pure: built from the event file and that health row, put into every snapshot as `snap["clock"]`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only read here; model/ imports nothing else at run time
    from config.settings import EventConfig

LOOP_CYCLES = range(-1, 3)  # a looping game clock: the cycle before this one and the two after


@dataclass(frozen=True)
class Slot:
    """One scheduled moment on the wall clock (epoch seconds)."""

    name: str
    start: float
    end: float
    expect_surge: bool


@dataclass(frozen=True)
class GameClock:
    """The simulator's game clock: game minute `start_minute` at wall time `start_wall`, `speedup` x real time."""

    start_wall: float
    start_minute: float
    speedup: float
    loop: bool
    game_minutes: float

    @classmethod
    def from_row(cls, row: dict) -> GameClock:
        return cls(
            float(row["start_wall"]),
            float(row["start_minute"]),
            float(row["speedup"]),
            bool(row.get("loop")),
            float(row["game_minutes"]),
        )

    @property
    def wall_s_per_minute(self) -> float:
        return 60.0 / self.speedup

    def walls(self, minute: float) -> list[float]:
        """Wall times of a game minute: once, or once per cycle around now when the clock loops."""
        start = self.start_wall + (minute - self.start_minute) * self.wall_s_per_minute
        cycle = self.game_minutes * self.wall_s_per_minute if self.loop else 0.0
        return [start + k * cycle for k in LOOP_CYCLES] if cycle else [start]


@dataclass(frozen=True)
class EventClock:
    """The schedule on the wall clock, and what the screens show as the clock (`label`: the simulator's phase and
    game minute; empty for a real event)."""

    slots: tuple[Slot, ...] = ()
    game: GameClock | None = None
    label: str = ""

    @classmethod
    def build(cls, event: EventConfig, simulator: dict | None = None) -> EventClock:
        """From the event file and, when the simulator runs, its health row (`clock` and `detail`)."""
        row = (simulator or {}).get("clock")
        game = GameClock.from_row(row) if row else None
        slots = []
        for item in event.schedule:
            if item.at is not None:
                at = item.at if item.at.tzinfo else item.at.replace(tzinfo=UTC)  # naive times are UTC
                slots.append(Slot(item.name, at.timestamp(), at.timestamp() + item.minutes * 60, item.expect_surge))
            elif game is not None:
                length = item.minutes * game.wall_s_per_minute
                slots += [Slot(item.name, s, s + length, item.expect_surge) for s in game.walls(item.minute)]
        return cls(tuple(slots), game, (simulator or {}).get("detail", ""))

    def surge_windows(self) -> list[tuple[float, float]]:
        """(start, end) of every moment a surge is expected: the spike detectors stay quiet inside them."""
        return [(s.start, s.end) for s in self.slots if s.expect_surge]

    def as_dict(self) -> dict:
        return {
            "label": self.label,
            "game": asdict(self.game) if self.game else None,
            "schedule": [asdict(s) for s in self.slots],
        }
