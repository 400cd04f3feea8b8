"""The simulated Super Bowl as a source: plays streams/scenario.py against the real clock."""

from __future__ import annotations

import logging
import threading
import time
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

import orjson
import redis

from config.settings import Settings, SimulatorSource
from store import posts as post_store
from store.keys import Keys
from streams.scenario import GAME_MINUTES, STEP_S, Scenario
from streams.sources.base import CONNECTED, Pressure, Sink

logger = logging.getLogger(__name__)


def make_scenario(
    cfg: SimulatorSource, start_wall: float, rate: float | None = None, speedup: float | None = None
) -> Scenario:
    return Scenario(
        rate=rate or cfg.rate,
        speedup=speedup or cfg.speedup,
        seed=cfg.seed,
        blackout_minute=cfg.blackout_minute,
        blackout_minutes=cfg.blackout_minutes,
        start_minute=cfg.start_minute,
        loop=cfg.loop,
        start_wall=start_wall,
    )


def run(
    settings: Settings,
    r: redis.Redis,
    keys: Keys,
    stop: threading.Event,
    *,
    rate: float | None = None,
    speedup: float | None = None,
    truth_path: Path | None = None,
    duration_s: float | None = None,
) -> None:
    """Emit the scenario's posts in real time until `stop` (or `duration_s`); optionally write the truth as JSONL."""
    start = time.time()
    scenario = make_scenario(settings.event.sources.simulator, start, rate, speedup)
    sink = Sink(r, keys, "simulator", pressure=Pressure(r, keys, settings.event.backlog), stop=stop)
    sink.health.extra["clock"] = {
        "start_wall": start,
        "start_minute": scenario.start_minute,
        "speedup": scenario.speedup,
        "loop": scenario.loop,
        "game_minutes": GAME_MINUTES,
    }
    truth_file = open(truth_path, "ab") if truth_path else nullcontext()  # noqa: SIM115 - closed by the with
    with sink.running("simulator stopped"), truth_file as truth:
        if truth:
            blackout_at = start + (scenario.blackout_offsets() or 0)
            truth.write(orjson.dumps({"kind": "start", "wall": start, "blackout_at": blackout_at}) + b"\n")
        sink.state(CONNECTED, "simulated event")
        step = 0
        while not stop.is_set() and (duration_s is None or step * STEP_S < duration_s):
            due = start + (step + 1) * STEP_S
            if (wait := due - time.time()) > 0:
                stop.wait(wait)
            batch = scenario.step(step)
            step += 1
            now = time.time()
            posts = [p for p, _ in batch]
            # Waits while the backlog is over budget (the simulated event slows down); stamped when written.
            sink.write_waiting(lambda posts=posts: post_store.append_dicts(r, keys, posts), len(posts))
            sink.health.count(len(batch), now)
            minute = scenario.game_minute(step * STEP_S)
            sink.health.detail = f"{scenario.phase(minute)} · game minute {minute:.0f}"
            sink.flush()
            if truth:
                truth.write(b"".join(orjson.dumps(asdict(t)) + b"\n" for _, t in batch))
