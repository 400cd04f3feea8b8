"""How long one aggregator tick takes, by step, over the state N simulated posts leave (no other load).

`.venv/bin/python -m bench.tick_profile [N]`: N preloaded scenario posts (default 50,000) processed by one
in-process Processor on a private embedded Valkey, then the mean over 10 ticks of `Aggregator.read`, `build`
and `write`, and the Redis commands one tick sends.
"""

from __future__ import annotations

import sys
import time

from bench.pipeline_bench import preloaded, scenario_posts


def main(argv: list[str]) -> None:
    from store import posts as post_store
    from store.server import connect
    from streams import aggregator as module
    from streams.processor import BATCH, Processor

    n = int(next((a for a in argv if a.isdigit()), "50000"))
    with preloaded(scenario_posts(n)) as (url, settings, r, keys):
        proc = Processor(settings, connect(url, blocking=True), keys, consumer="profile")
        while entries := post_store.read_batch(proc.r, keys, "profile", BATCH, 100):
            proc.handle(entries)
        agg = module.Aggregator(settings, r, keys)
        agg.tick()
        agg.tick()  # warm: the first ticks restore state and import what they use
        spent, ticks = {"read": 0.0, "build": 0.0, "write": 0.0}, 10
        calls0 = r.info("stats")["total_commands_processed"]
        for _ in range(ticks):
            t0 = time.perf_counter()
            inputs = agg.read(time.time())
            t1 = time.perf_counter()
            built = module.build(agg.event, inputs, agg.state, time.time())
            t2 = time.perf_counter()
            agg.write(inputs, built)
            t3 = time.perf_counter()
            spent["read"] += t1 - t0
            spent["build"] += t2 - t1
            spent["write"] += t3 - t2
        calls = r.info("stats")["total_commands_processed"] - calls0 - 1  # the INFO itself
    print(
        f"{n} posts: tick {sum(spent.values()) / ticks * 1000:.1f} ms ("
        + ", ".join(f"{k} {v / ticks * 1000:.1f}" for k, v in spent.items())
        + f"), {calls / ticks:.0f} Redis commands per tick"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
