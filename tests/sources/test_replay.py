"""Record the stream to JSONL and replay it, against the real embedded server."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from model.post import Author, Post
from store import posts as post_store
from streams.sources.replay import record, replay
from tests.sources.servers import stream_posts, wait_for

T0 = datetime(2026, 2, 8, 1, 38, tzinfo=UTC)


def make(i: int, source: str = "x", seconds: float = 0.0, **kw) -> Post:
    return Post(
        id=f"{source}:{i}",
        source=source,
        author=Author(handle=f"u{i}"),
        text=f"post {i}",
        created_at=T0 + timedelta(seconds=seconds),
        **kw,
    )


def test_record_from_now_then_replay_keeps_relative_timing(r, keys, tmp_path):
    post_store.append(r, keys, [make(0)])  # before the recording starts: not recorded
    path, stop = tmp_path / "game.jsonl", threading.Event()
    recorder = threading.Thread(target=lambda: record(r, keys, path, stop, limit=3))
    recorder.start()
    time.sleep(0.2)
    post_store.append(
        r, keys, [make(1, seconds=0), make(2, "bluesky", seconds=0.4), make(3, seconds=0.8, reply_to="x:1")]
    )
    recorder.join(5)
    assert not recorder.is_alive()
    lines = path.read_bytes().splitlines()
    assert len(lines) == 3 and b'"id":"x:1"' in lines[0]

    r.delete(keys.stream)
    before = time.time()
    assert replay(r, keys, path, speed=2.0, stop=threading.Event(), tag="t1") == 3
    posts = stream_posts(r, keys)
    assert [p["id"] for p in posts] == ["replay:t1:x:1", "replay:t1:bluesky:2", "replay:t1:x:3"]
    assert posts[2]["reply_to"] == "replay:t1:x:1" and {p["source"] for p in posts} == {"replay"}
    gaps = [posts[i + 1]["received_at"] - posts[i]["received_at"] for i in range(2)]
    assert all(0.15 <= g <= 0.35 for g in gaps), gaps  # 0.4 s apart at 2x speed
    stamped = [datetime.fromisoformat(p["created_at"]).timestamp() for p in posts]
    assert before - 0.01 <= stamped[0] and abs(stamped[2] - stamped[0] - 0.4) < 0.1  # now-relative


def test_record_filters_by_source_from_a_given_id(r, keys, tmp_path):
    first = post_store.append(r, keys, [make(1), make(2, "bluesky"), make(3)])[0]
    path = tmp_path / "x.jsonl"
    assert record(r, keys, path, threading.Event(), source="x", limit=1, start_id=first) == 1
    assert b'"id":"x:3"' in path.read_bytes()


def test_replay_at_speed_zero_is_immediate_and_dead_letters_bad_lines(r, keys, tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = [make(i, seconds=i * 60).to_json() for i in range(3)]
    path.write_bytes(b"\n".join([good[0], b"{broken", good[1], b"", good[2]]) + b"\n")
    started = time.time()
    assert replay(r, keys, path, speed=0, stop=threading.Event(), keep_source=True) == 3
    assert time.time() - started < 1.0
    assert {p["source"] for p in stream_posts(r, keys)} == {"x"}
    assert post_store.stats(r, keys)["dead"] == 1
    assert "line 2" in post_store.dead_letters(r, keys)[0]["reason"]


def test_stop_interrupts_a_slow_replay(r, keys, tmp_path):
    path = tmp_path / "slow.jsonl"
    path.write_bytes(b"\n".join(make(i, seconds=i * 3600).to_json() for i in range(3)) + b"\n")
    stop = threading.Event()
    worker = threading.Thread(target=lambda: replay(r, keys, path, 1.0, stop))
    worker.start()
    assert wait_for(lambda: len(stream_posts(r, keys)) == 1)
    stop.set()
    worker.join(2)
    assert not worker.is_alive() and len(stream_posts(r, keys)) == 1
