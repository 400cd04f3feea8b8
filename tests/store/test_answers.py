"""Screen answers shared between web processes (store/answers.py under callbacks/response_cache.py), on the real
server: two caches with their own clients stand for two web processes. Many screens of one role set asking at
once cost one computation between them; role sets and builds never share; a failed or dead computer is not waited
for longer than it must be."""

from __future__ import annotations

import threading
import time

import orjson
import pytest

from callbacks.response_cache import SHARED_WAIT_S, ResponseCache
from layouts import ids
from store.answers import SharedAnswers
from store.keys import ANSWER_LOCK_S, ANSWER_TTL_S, Keys
from store.server import connect

pytestmark = pytest.mark.cluster  # on the single server and on a three-primary cluster

KEYS = Keys("test")
ANSWER = (200, b'{"answer": 1}', b"\x1f\x8bzipped", "application/json")
COMPUTE_S = 0.05  # what Dash takes to render the answer (the computation itself is not under test here)


def body(tick: int) -> bytes:
    return orjson.dumps(
        {
            "output": f"..{ids.SNAP_VERSION}.data...{ids.LAST_SEEN}.data..",
            "inputs": [{"id": ids.TICK, "property": "n_intervals", "value": tick}],
            "state": [{"id": ids.SNAP_VERSION, "property": "data", "value": None}],
        }
    )


@pytest.fixture
def processes(r, redis_url):
    """A factory of "web processes": a ResponseCache over its own Redis client, at snapshot version 7."""
    clients = []

    def make(shared: bool = True, audience=("strategist",), namespace: str = "build-a") -> ResponseCache:
        client = connect(redis_url)
        clients.append(client)
        layer = SharedAnswers(client, KEYS, namespace=namespace) if shared else None
        return ResponseCache(
            {ids.SNAP_VERSION: {f"{ids.TICK}.n_intervals"}}, lambda: 7, audience=lambda: audience, shared=layer
        )

    yield make
    for c in clients:
        c.close()


def screens(caches: list[ResponseCache], n: int) -> list[str]:
    """`n` screens at once, spread over `caches`; each computes what its cache says it must. Returns the sources."""
    sources, start = [], threading.Barrier(n)

    def screen(i: int) -> None:
        cache = caches[i % len(caches)]
        key = cache.key(body(tick=i))
        start.wait()
        item, source = cache.lookup(key)
        if item is None:
            time.sleep(COMPUTE_S)
            cache.put(key, ANSWER)
        sources.append(source)

    threads = [threading.Thread(target=screen, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return sources


def test_forty_screens_on_two_processes_cost_one_computation_and_without_sharing_two(processes):
    shared = [processes(), processes()]
    sources = screens(shared, 40)
    assert sources.count("computed") == 1, sources
    assert sources.count("shared") == 1, "the other process took the answer from Redis once, then from itself"
    assert sum(c.computed for c in shared) == 1
    alone = [processes(shared=False), processes(shared=False)]
    assert screens(alone, 40).count("computed") == 2, "each process computes its own without the shared layer"


def test_the_shared_answer_is_the_bytes_computed_and_lapses_after_its_ttl(r, processes):
    one, two = processes(), processes()
    key = one.key(body(1))
    assert one.lookup(key) == (None, "computed")
    one.put(key, ANSWER)
    assert two.lookup(key) == (ANSWER, "shared")
    stored = [k for k in r.scan_iter(match="*answer:*")]
    assert stored == [KEYS.answer(f"build-a:{key}").encode()], "the lock is gone with the answer stored"
    assert 0 < r.pttl(stored[0]) <= ANSWER_TTL_S * 1000


def test_role_sets_and_builds_never_share_an_answer(processes):
    strategist, viewer = processes(audience=("strategist",)), processes(audience=("viewer",))
    other_build = processes(namespace="build-b")
    key = strategist.key(body(1))
    strategist.lookup(key)
    strategist.put(key, ANSWER)
    assert viewer.key(body(1)) != key
    assert viewer.lookup(viewer.key(body(1))) == (None, "computed")
    assert other_build.lookup(key) == (None, "computed"), "another build renders its own answers"


def test_a_failed_computation_releases_the_lock_and_a_dead_one_is_waited_for_only_so_long(processes):
    one, two = processes(), processes()
    key = one.key(body(1))
    assert one.lookup(key)[1] == "computed"
    one.put(key, None)  # Dash failed: the next asker computes at once
    locked = time.monotonic()
    assert two.lookup(key)[1] == "computed"
    assert time.monotonic() - locked < 0.5
    # `two` holds the lock and dies without answering: a third process waits SHARED_WAIT_S, then computes itself
    # (sooner if the lock lapses first: it was taken ANSWER_LOCK_S before, and starting `three` takes a while).
    three = processes()
    began = time.monotonic()
    assert three.lookup(key)[1] == "computed"
    waited = time.monotonic() - began
    assert min(SHARED_WAIT_S, ANSWER_LOCK_S - (began - locked)) <= waited < SHARED_WAIT_S + 1, waited


def test_every_answer_key_carries_the_events_hash_tag():
    assert KEYS.answer("q").startswith(KEYS.tag) and KEYS.answer_lock("q").startswith(KEYS.tag)
