"""Python's cycle collector run between the aggregator's ticks and the workers' batches, never inside one.

Left automatic, a full collection (every generation, over the models, the trend state and scikit-learn's
modules) starts whenever an allocation crosses the threshold, so about once every few seconds one tick took
100 to 190 ms longer at 10,000 posts/s: that was the tick's p95. Here automatic collection is off while the
aggregator runs; after each tick the young generations are collected (a few ms: only what the tick left), and a
full collection runs every FULL_EVERY_S in the idle rest of a tick. Reference counting frees almost everything
at once anyway: this only schedules the cycles. A worker (streams/processor.py) collects the same way after
each batch: left automatic, collections fell inside its stream reads and doubled their CPU.

The aggregator's and the workers' processes first `freeze` what exists when they start (modules, models, the
analyzers' tables: it lives as long as the process), so a full collection walks only what came after: a worker's
took 120 ms before. Only a process's entry point does (cli.py): frozen objects are never collected.
"""

from __future__ import annotations

import gc
import time

FULL_EVERY_S = 30.0


def freeze() -> None:
    """Move every object alive now out of the collector's sight: a full collection no longer walks it."""
    gc.collect()
    gc.freeze()


class IdleGC:
    def __init__(self, full_every_s: float = FULL_EVERY_S, clock=time.monotonic):
        self.full_every_s = full_every_s
        self.clock = clock
        self.last_full = clock()
        self.was_enabled = gc.isenabled()
        self.full = 0  # full collections run (for tests and the curious)

    def __enter__(self) -> IdleGC:
        gc.disable()
        return self

    def __exit__(self, *exc) -> None:
        if self.was_enabled:
            gc.enable()

    def idle(self) -> None:
        """Between ticks: the young generations, and every generation once FULL_EVERY_S has passed."""
        now = self.clock()
        if now - self.last_full >= self.full_every_s:
            gc.collect()
            self.last_full = now
            self.full += 1
        else:
            gc.collect(1)
