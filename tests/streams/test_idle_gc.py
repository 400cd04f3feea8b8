"""streams/idle_gc.py: cycles are still freed, but only when the aggregator says it is idle."""

from __future__ import annotations

import gc
import weakref

from streams.idle_gc import IdleGC


class Node:
    pass


def cycle() -> weakref.ref:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_automatic_collection_is_off_inside_and_restored_after():
    assert gc.isenabled()
    with IdleGC():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_cycle_left_by_a_tick_is_freed_at_the_next_idle_and_a_full_collection_waits_its_turn():
    now = [0.0]
    with IdleGC(full_every_s=30, clock=lambda: now[0]) as collector:
        ref = cycle()
        for _ in range(50):  # allocations that would have started a collection by themselves
            [Node() for _ in range(1000)]
        assert ref() is not None, "nothing is collected inside a tick"
        collector.idle()
        assert ref() is None, "the young generations are collected between ticks"
        assert collector.full == 0
        now[0] = 31.0
        collector.idle()
        assert collector.full == 1
