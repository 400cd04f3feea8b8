"""CPU per post of one in-process Processor over N preloaded scenario posts, optionally under cProfile.

`.venv/bin/python -m bench.worker_profile [N] [--prof|--stages]`: client CPU (process_time) and Valkey CPU (INFO
cpu) per post on a private embedded Valkey; with --prof, the cumulative and own-time tables of `Processor.handle`;
with --stages, the CPU per post of each stage of a batch, unprofiled (a few timer calls per batch). The cyclic
collector runs between batches as in Processor.run; until 6 Dec it ran automatically here, inside the reads,
which put 5-11 us/post of collection in `read_batch`.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time

from bench.pipeline_bench import preloaded, scenario_posts


def _valkey_cpu(r) -> float:
    info = r.info("cpu")
    return info["used_cpu_user"] + info["used_cpu_sys"]


def _timed(spent: dict, name: str, fn):
    def timed(*args, **kwargs):
        t = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - t

    return timed


def _stages(proc) -> dict[str, float]:
    """Wrap each stage Processor._handle calls (and the stream read) in a CPU timer; returns the totals."""
    from streams import processor as module

    spent: dict[str, float] = {}
    for name in ("parse_all", "lookups"):
        setattr(module, name, _timed(spent, name, getattr(module, name)))
    for name in ("prepare", "write_batch"):
        setattr(module.aggregates, name, _timed(spent, name, getattr(module.aggregates, name)))
    module.post_store.read_batch = _timed(spent, "read_batch", module.post_store.read_batch)
    module.feed.admit = _timed(spent, "feed admit", module.feed.admit)
    proc.enricher.batch = _timed(spent, "enrich", proc.enricher.batch)
    proc.triager.batch = _timed(spent, "care triage", proc.triager.batch)
    return spent


def main(argv: list[str]) -> None:
    from store import posts as post_store
    from store.server import connect
    from streams.idle_gc import IdleGC
    from streams.processor import BATCH, Processor

    n = int(next((a for a in argv if a.isdigit()), "40000"))
    with preloaded(scenario_posts(n)) as (url, settings, r, keys):
        proc = Processor(settings, connect(url, blocking=True), keys, consumer="profile")
        proc.enricher.sentiment.compound("warm up the analyzer")
        prof = cProfile.Profile() if "--prof" in argv else None
        spent = _stages(proc) if "--stages" in argv else None
        valkey0, cpu0, t0 = _valkey_cpu(r), time.process_time(), time.perf_counter()
        if prof:
            prof.enable()
        done = 0
        with IdleGC() as collector:  # as Processor.run: the collector runs between batches, never inside a read
            while done < n and (entries := post_store.read_batch(proc.r, keys, "profile", BATCH, 100)):
                proc.handle(entries)
                done += len(entries)
                collector.idle()
        if prof:
            prof.disable()
        wall, cpu, valkey = time.perf_counter() - t0, time.process_time() - cpu0, _valkey_cpu(r) - valkey0
    print(
        f"{done} posts: client {cpu / done * 1e6:.1f} us/post, valkey {valkey / done * 1e6:.1f} us/post, "
        f"wall {done / wall:.0f} posts/s"
    )
    if spent is not None:
        for name, cpu_s in sorted(spent.items(), key=lambda kv: -kv[1]):
            print(f"  {name:12} {cpu_s / done * 1e6:6.1f} us/post")
    if prof:
        stats = pstats.Stats(prof)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main(sys.argv[1:])
