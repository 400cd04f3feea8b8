"""Detection delay end to end: how long after the simulated blackout starts does the room see it?

Everything is the real pipeline against a private embedded Valkey in a temp dir (var/ is never touched):
the simulator source (`streams.sources.simulator.run`) writing posts in real time, two processor worker
processes (`Processor.run`) and one `Aggregator.run` at the default tick, all spawned processes. The event
file is config/superbowl.yaml with only the simulator's `start_minute` (and `seed`) changed, so the
simulation opens `LEAD_MIN` game minutes before the blackout: at speedup 24 that is LEAD_MIN * 2.5 s of
wall-clock warm-up, enough for the spike detector's `spike_warmup_s` (60 s) to pass before the lights go
out. Thresholds are the production ones unless `spike_warmup_s` is overridden (the test does; the figure
line then says so in `spike_warmup_s` and `warmup_ok`).

The truth is the simulator's own "start" line (`blackout_at`, wall clock). The parent polls
`snapshot:ver` every few ms and reads every new snapshot:

- `trend_blackout_delay_s`: built_at of the first snapshot whose trending[0].term == "blackout", minus
  blackout_at.
- `spike_blackout_delay_s`: raised_at of the first alert with kind "spike" and subject "Blackout" (the
  aggregator stamps raised_at = the built_at of the snapshot that raised it), minus blackout_at.
- `superbowl_top_trending_share`: fraction of snapshots with a non-empty trending list whose first
  term is the always-busy event tag "superbowl".
"""

from __future__ import annotations

import logging
import math
import multiprocessing as mp
import os
import shutil
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson
import yaml

from bench.pipeline_bench import ROOT, figure, temp_server

logger = logging.getLogger(__name__)

CTX = mp.get_context("spawn")
EVENT_FILE = ROOT / "config" / "superbowl.yaml"
WORKERS = 2
BLACKOUT_TERM = "Blackout"  # the series name in config/superbowl.yaml
BLACKOUT_TAG = "blackout"  # the hashtag that should top trending
EVENT_TAG = "superbowl"  # always busy: should rarely top trending
POLL_S = 0.005

SEEDS = [int(s) for s in os.environ.get("BENCH_DETECTION_SEEDS", "42,43,44").split(",") if s]
LEAD_MIN = float(os.environ.get("BENCH_DETECTION_LEAD_MIN", "28"))  # game minutes before the blackout
AFTER_S = float(os.environ.get("BENCH_DETECTION_AFTER_S", "40"))  # give up this long after it
GRACE_S = 2.0  # keep watching this long after both detections


def derived_event(
    dest: Path,
    *,
    seed: int,
    lead_min: float,
    spike_warmup_s: float | None = None,
    speedup: float | None = None,
    rate: float | None = None,
) -> Path:
    """config/superbowl.yaml with the simulator opening `lead_min` game minutes before the blackout."""
    from config.settings import load_event

    raw = yaml.safe_load(EVENT_FILE.read_text(encoding="utf-8"))
    sim = raw["sources"]["simulator"]
    sim["start_minute"] = (sim["blackout_minute"] - lead_min) % 240.0
    sim["seed"] = seed
    if speedup is not None:
        sim["speedup"] = speedup
    if rate is not None:
        sim["rate"] = rate
    if spike_warmup_s is not None:
        raw.setdefault("thresholds", {})["spike_warmup_s"] = spike_warmup_s
    dest.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    load_event(dest)  # fail here, not in a child, if the derived file is invalid
    return dest


def _settings(url: str, event_path: str):
    from config.settings import load_settings

    env = {**os.environ, "REDIS_URL": url, "WARROOM_EVENT": event_path}
    env.pop("WARROOM_TICK_S", None)  # the default tick, whatever the caller's environment says
    return load_settings(env)


def _child_main(role: str, name: str, url: str, event_path: str, truth_path: str | None, ready, go, stop) -> None:
    """One real pipeline process: "worker" (Processor.run), "aggregator" (Aggregator.run) or "simulator"."""
    logging.basicConfig(
        level=os.environ.get("BENCH_CHILD_LOG", "WARNING"),
        format="%(asctime)s bench-child %(levelname)s %(name)s: %(message)s",
    )
    from store.keys import Keys
    from store.server import connect

    settings = _settings(url, event_path)
    keys = Keys.of(settings.event)
    if role == "worker":
        from streams.processor import Processor

        proc = Processor(settings, connect(url, blocking=True), keys, consumer=name)
        proc.enricher.sentiment.compound("warm up the analyzer")
        ready.set()
        go.wait()
        proc.run(stop)
    elif role == "aggregator":
        from streams.aggregator import Aggregator

        agg = Aggregator(settings, connect(url), keys)
        ready.set()
        go.wait()
        agg.run(stop)
    else:
        from streams.sources import simulator

        r = connect(url)
        ready.set()
        go.wait()
        simulator.run(settings, r, keys, stop, truth_path=Path(truth_path))


def _start(role: str, name: str, url: str, event_path: Path, truth_path: Path | None, go, stop):
    ready = CTX.Event()
    p = CTX.Process(
        target=_child_main,
        args=(role, name, url, str(event_path), str(truth_path) if truth_path else None, ready, go, stop),
        daemon=True,
        name=f"bench-{name}",
    )
    p.start()
    return p, ready


def _truth_start(path: Path, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            with open(path, "rb") as f:
                line = f.readline()
            if line.endswith(b"\n"):
                start = orjson.loads(line)
                if start.get("kind") == "start":
                    return start
        time.sleep(0.01)
    raise RuntimeError(f"the simulator wrote no start line to {path}")


def measure_once(
    seed: int,
    *,
    lead_min: float = LEAD_MIN,
    after_s: float = AFTER_S,
    spike_warmup_s: float | None = None,
    speedup: float | None = None,
    rate: float | None = None,
) -> dict:
    """One end-to-end run on a fresh server; returns the per-run numbers (None where nothing was detected)."""
    from config.settings import load_event
    from store.keys import Keys
    from store.server import connect

    tmp = Path(tempfile.mkdtemp(prefix="warroom-detect-"))
    try:
        event_path = derived_event(
            tmp / "event.yaml", seed=seed, lead_min=lead_min, spike_warmup_s=spike_warmup_s, speedup=speedup, rate=rate
        )
        event = load_event(event_path)
        sim, th = event.sources.simulator, event.thresholds
        lead_s = lead_min * 60.0 / sim.speedup
        truth_path = tmp / "truth.jsonl"
        with temp_server() as url:
            r, keys = connect(url), Keys.of(event)
            go, stop = CTX.Event(), CTX.Event()
            started = [_start("worker", f"detect-w{i + 1}", url, event_path, None, go, stop) for i in range(WORKERS)]
            started.append(_start("aggregator", "detect-agg", url, event_path, None, go, stop))
            started.append(_start("simulator", "detect-sim", url, event_path, truth_path, go, stop))
            procs = [p for p, _ in started]
            try:
                deadline = time.monotonic() + 60
                for p, ready in started:
                    while not ready.wait(0.2):
                        if not p.is_alive() or time.monotonic() > deadline:
                            raise RuntimeError(f"bench process {p.name} did not start (exit code {p.exitcode})")
                go.set()
                truth = _truth_start(truth_path)
                result = _watch(r, keys, truth, after_s, procs, warm_s=th.spike_warmup_s)
            finally:
                stop.set()
                go.set()
                for p in procs:
                    p.join(15)
                    if p.is_alive():
                        p.kill()
                        p.join(5)
        result.update(
            seed=seed,
            lead_s=round(lead_s, 1),
            start_minute=sim.start_minute,
            speedup=sim.speedup,
            rate=sim.rate,
            spike_warmup_s=th.spike_warmup_s,
            warmup_ok=lead_s >= th.spike_warmup_s + 2 * th.spike_bin_s,
        )
        logger.info(
            "detection seed %d: trend %s s, spike %s s, superbowl top share %.3f (%d snapshots)",
            seed,
            result["trend_delay_s"],
            result["spike_delay_s"],
            result["superbowl_top_share"],
            result["snapshots"],
        )
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _watch(r, keys, truth: dict, after_s: float, procs: list, warm_s: float = 60.0) -> dict:
    """Read every new snapshot until both detections are seen (plus GRACE_S) or `after_s` past the blackout.

    The superbowl share is also counted over the snapshots built `warm_s` or more after the start only: the
    trend baselines start from an empty system and climb for about a minute, so early snapshots rank every
    busy tag high."""
    blackout_at, start_wall = truth["blackout_at"], truth["wall"]
    last_version = None
    snapshots = with_trending = superbowl_top = blackout_top_early = late = late_superbowl = 0
    tops: Counter = Counter()
    trend_at = listed_at = spike = None
    spike_other: list[dict] = []
    stop_at = blackout_at + after_s
    while time.time() < stop_at:
        v = r.get(keys.snapshot_version)
        if v == last_version:
            time.sleep(POLL_S)
            continue
        last_version = v
        raw = r.get(keys.snapshot)
        if not raw:
            continue
        snap = orjson.loads(raw)
        built = snap["built_at"]
        snapshots += 1
        trending = snap.get("trending") or []
        if trending:
            with_trending += 1
            top = trending[0]["term"]
            tops[top] += 1
            superbowl_top += top == EVENT_TAG
            if built - start_wall >= warm_s:
                late += 1
                late_superbowl += top == EVENT_TAG
            if top == BLACKOUT_TAG and built < blackout_at:
                blackout_top_early += 1
            if top == BLACKOUT_TAG and built >= blackout_at and trend_at is None:
                trend_at = built
            if listed_at is None and built >= blackout_at and any(t["term"] == BLACKOUT_TAG for t in trending):
                listed_at = built
        for a in snap.get("alerts") or []:
            if a.get("kind") != "spike":
                continue
            if a.get("subject") == BLACKOUT_TERM:
                if spike is None:
                    spike = {
                        "raised_at": a.get("raised_at", built),
                        "at": a["at"],
                        "moment": a.get("moment"),
                        "score": a.get("score"),
                        "seen_built_at": built,
                    }
            elif a["id"] not in {x["id"] for x in spike_other}:
                spike_other.append({"id": a["id"], "subject": a.get("subject"), "at": a["at"], "score": a.get("score")})
        if trend_at is not None and spike is not None:
            stop_at = min(stop_at, time.time() + GRACE_S)
        if not all(p.is_alive() for p in procs):
            raise RuntimeError("a pipeline process died during the detection run")

    def delay(t):
        return None if t is None else round(t - blackout_at, 3)

    return {
        "trend_delay_s": delay(trend_at),
        "trend_listed_delay_s": delay(listed_at),
        "spike_delay_s": delay(spike and spike["raised_at"]),
        "spike_bin_end_delay_s": delay(spike and spike["at"]),
        "spike_score": spike and spike["score"],
        "superbowl_top_share": round(superbowl_top / with_trending, 4) if with_trending else math.nan,
        "snapshots": snapshots,
        "snapshots_with_trending": with_trending,
        "superbowl_top_share_after_warmup": round(late_superbowl / late, 4) if late else math.nan,
        "snapshots_after_warmup": late,
        "blackout_top_before_blackout": blackout_top_early,
        "top_terms": dict(tops.most_common(5)),
        "other_spike_alerts": [{**x, "at_s": round(x["at"] - start_wall, 1)} for x in spike_other],
        "blackout_at_s": round(blackout_at - start_wall, 2),
    }


def _median(values: list) -> float:
    got = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return round(statistics.median(got), 3) if got else math.nan


def figures(runs: list[dict]) -> list[dict]:
    """The three figure lines from per-run results (median over the runs that detected; misses counted)."""
    common = {
        "runs": len(runs),
        "seeds": [x["seed"] for x in runs],
        "workers": WORKERS,
        "lead_s": runs[0]["lead_s"],
        "speedup": runs[0]["speedup"],
        "rate": runs[0]["rate"],
        "spike_warmup_s": runs[0]["spike_warmup_s"],
        "warmup_ok": all(x["warmup_ok"] for x in runs),
    }
    trend = [x["trend_delay_s"] for x in runs]
    spike = [x["spike_delay_s"] for x in runs]
    share = [x["superbowl_top_share"] for x in runs]
    return [
        figure(
            "trend_blackout_delay_s",
            _median(trend),
            "s",
            per_run=trend,
            missed=trend.count(None),
            listed_per_run=[x["trend_listed_delay_s"] for x in runs],
            basis="built_at of the first snapshot with trending[0].term == 'blackout' minus the simulator's "
            "blackout_at",
            **common,
        ),
        figure(
            "spike_blackout_delay_s",
            _median(spike),
            "s",
            per_run=spike,
            missed=spike.count(None),
            bin_end_per_run=[x["spike_bin_end_delay_s"] for x in runs],
            score_per_run=[x["spike_score"] for x in runs],
            basis="raised_at (= built_at of the snapshot that raised it) of the first kind=spike, "
            "subject=Blackout alert minus blackout_at",
            **common,
        ),
        figure(
            "superbowl_top_trending_share",
            _median(share),
            "fraction",
            per_run=share,
            snapshots_per_run=[x["snapshots_with_trending"] for x in runs],
            after_warmup_per_run=[x.get("superbowl_top_share_after_warmup") for x in runs],
            after_warmup_snapshots_per_run=[x.get("snapshots_after_warmup") for x in runs],
            top_terms_per_run=[x["top_terms"] for x in runs],
            basis="snapshots with a non-empty trending list whose first term is 'superbowl', from the first "
            "snapshot until the end of the run; after_warmup_*: only snapshots built spike_warmup_s or more "
            "after the simulator's start",
            **common,
        ),
    ]


def run() -> list[dict]:
    runs = [measure_once(seed) for seed in SEEDS]
    for x in runs:
        if x["other_spike_alerts"]:
            logger.info("seed %d: other spike alerts %s", x["seed"], x["other_spike_alerts"])
    return figures(runs)
