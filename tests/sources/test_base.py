"""The shared opening of every source (Sink.open / running), its health under threads, and the id memory."""

from __future__ import annotations

import sys
import threading

import orjson
import pytest

from streams.sources import bluesky, mastodon, reddit, rss, simulator, x
from streams.sources.backoff import until_stopped
from streams.sources.base import CONNECTED, NOT_CONFIGURED, RECONNECTING, STOPPED, Health, Recent, Sink
from tests.sources.servers import health


@pytest.mark.parametrize(
    "module, event_update, env, state, words",
    [
        (x, None, {}, NOT_CONFIGURED, "X_BEARER_TOKEN"),
        (x, {"x": {"enabled": False}}, {"X_BEARER_TOKEN": "t"}, STOPPED, "sources.x.enabled"),
        (mastodon, None, {"MASTODON_ACCESS_TOKEN": "t"}, NOT_CONFIGURED, "MASTODON_BASE_URL"),
        (rss, {"rss": {"feeds": []}}, {}, NOT_CONFIGURED, "sources.rss.feeds"),
        (rss, {"rss": {"feeds": ["http://127.0.0.1:9/f"], "enabled": False}}, {}, STOPPED, "sources.rss.enabled"),
        (bluesky, {"bluesky": {"enabled": False}}, {}, STOPPED, "sources.bluesky.enabled"),
        (reddit, {"reddit": {"enabled": True, "subreddits": []}}, {"REDDIT_CLIENT_ID": "i", "REDDIT_CLIENT_SECRET": "s"},
         STOPPED, "list subreddits"),
    ],
)  # fmt: skip
def test_a_source_with_nothing_to_do_says_why_and_returns(
    r, keys, make_settings, module, event_update, env, state, words
):
    stop = threading.Event()  # never set: run() must return on its own
    done = threading.Thread(target=module.run, args=(make_settings(event_update, **env), r, keys, stop), daemon=True)
    done.start()
    done.join(10)
    assert not done.is_alive()
    h = health(r, keys, module.NAME)
    assert h["state"] == state and words in h["detail"]


def test_running_marks_the_source_stopped_even_when_its_body_raises(r, keys):
    sink = Sink(r, keys, "probe")
    with pytest.raises(RuntimeError), sink.running("gone"):
        sink.state(CONNECTED, "up")
        raise RuntimeError("boom")
    assert health(r, keys, "probe")["state"] == STOPPED and health(r, keys, "probe")["detail"] == "gone"


def test_simulator_runs_inside_the_shared_opening(r, keys, make_settings, tmp_path):
    truth = tmp_path / "truth.jsonl"
    simulator.run(make_settings(), r, keys, threading.Event(), rate=200, duration_s=0.3, truth_path=truth)
    h = health(r, keys, "simulator")
    assert h["state"] == STOPPED and h["detail"] == "simulator stopped" and h["clock"]["game_minutes"] == 240
    lines = [orjson.loads(line) for line in truth.read_bytes().splitlines()]
    assert lines[0]["kind"] == "start"
    assert r.xlen(keys.stream) == h["posts"] == len(lines) - 1 > 0


def test_until_stopped_waits_what_each_attempt_asks_and_ends_on_none_or_stop():
    stop, calls = threading.Event(), []

    def attempt():
        calls.append(1)
        return None if len(calls) == 3 else 0.0

    until_stopped(stop, attempt)
    assert len(calls) == 3

    def stopping():
        calls.append(1)
        stop.set()
        return 3600.0  # the wait is cut short by stop

    until_stopped(stop, stopping)
    assert len(calls) == 4


def test_health_is_consistent_under_concurrent_writers_and_readers():
    """Web threads share the webhook's Health: without its lock a reader summing the rate while a writer
    appends raised "deque mutated during iteration" (this reproduced it on the unlocked class)."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    h = Health("webhook")
    errors: list[BaseException] = []
    writers, per_writer = 4, 5000

    def write():
        try:
            for i in range(per_writer):
                h.count(1, 1000.0)
                h.set_state(CONNECTED if i % 2 else RECONNECTING, 1000.0)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    def read():
        try:
            for _ in range(300):
                assert h.as_dict(1001.0)["posts"] <= writers * per_writer  # iterates what the writers append to
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(writers)] + [
        threading.Thread(target=read) for _ in range(2)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        sys.setswitchinterval(previous)
    assert not errors
    d = h.as_dict(1001.0)
    assert d["posts"] == writers * per_writer and d["rate_per_s"] == writers * per_writer / 10


def test_recent_forgets_the_oldest_and_knows_the_newest():
    recent = Recent(size=3)
    assert recent.newest is None
    assert [recent.first_time(k) for k in ["a", "b", "a", "c", "d"]] == [True, True, False, True, True]
    assert len(recent) == 3 and recent.newest == "d"
    assert recent.first_time("a")  # forgotten: the oldest went when "d" came
    assert not recent.first_time("d")
