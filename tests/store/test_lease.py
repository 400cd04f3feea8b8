"""The aggregator's lease on the real server: one holder at a time, lapses when not renewed, fences writes."""

from __future__ import annotations

import time

import pytest

from store import snapshot
from store.lease import Lease, LeaseLost

pytestmark = pytest.mark.cluster  # on the single server and on a three-primary cluster


def test_one_holder_at_a_time_and_a_lapsed_lease_is_taken(r, keys):
    a = Lease(r, keys.aggregator_lease, 0.3, holder="a")
    b = Lease(r, keys.aggregator_lease, 0.3, holder="b")
    assert a.acquire() and a.renew()
    assert not b.acquire() and b.current() == "a"
    deadline = time.monotonic() + 5
    while not b.acquire():  # a stopped renewing: its lease lapses
        assert time.monotonic() < deadline, "the lease never lapsed"
        time.sleep(0.02)
    assert b.current() == "b" and not a.renew()


def test_release_hands_over_at_once_and_only_the_holder_can_release(r, keys):
    a = Lease(r, keys.aggregator_lease, 30, holder="a")
    b = Lease(r, keys.aggregator_lease, 30, holder="b")
    assert a.acquire()
    b.release()  # not b's: nothing happens
    assert a.current() == "a"
    a.release()
    assert b.acquire() and b.current() == "b"


def test_a_replaced_holder_cannot_write_a_snapshot(r, keys):
    a = Lease(r, keys.aggregator_lease, 30, holder="a")
    b = Lease(r, keys.aggregator_lease, 30, holder="b")
    assert a.acquire()
    snapshot.write(r, keys, {"from": "a"}, 1, a)
    with pytest.raises(LeaseLost):
        snapshot.write(r, keys, {"from": "b"}, 2, b)
    assert snapshot.read(r, keys) == {"from": "a"} and snapshot.version(r, keys) == 1
    r.delete(keys.aggregator_lease)  # a's lease lapses ...
    assert b.acquire()  # ... and b takes it: a's next write is refused
    with pytest.raises(LeaseLost):
        snapshot.write(r, keys, {"from": "a"}, 2, a)
    snapshot.write(r, keys, {"from": "b"}, 2, b)
    assert snapshot.read(r, keys) == {"from": "b"}


def test_a_dead_local_holder_is_replaced_at_once_a_live_or_remote_one_is_not(r, keys):
    import os
    import socket
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    host = socket.gethostname()
    r.set(keys.aggregator_lease, f"{host}:{gone.pid}:abc", px=30_000)
    me = Lease(r, keys.aggregator_lease, 30, holder="me")
    assert me.take_from_dead() and me.current() == "me"
    r.set(keys.aggregator_lease, f"{host}:{os.getpid()}:abc", px=30_000)  # alive: this very process
    assert not me.take_from_dead()
    r.set(keys.aggregator_lease, f"elsewhere:{gone.pid}:abc", px=30_000)  # another host: cannot know
    assert not me.take_from_dead()
