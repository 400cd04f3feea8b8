"""`cli.py record` and `cli.py replay` as subprocesses against the real embedded server (REDIS_URL set)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import orjson
import yaml

from model.post import Author, Post
from store import posts as post_store
from store.keys import Keys
from tests.sources.servers import stream_posts

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, str(ROOT / "cli.py")]


def event_file(tmp: Path, event_id: str) -> Path:
    event = yaml.safe_load((ROOT / "config" / "superbowl.yaml").read_text())
    event["id"] = event_id
    path = tmp / f"{event_id}.yaml"
    path.write_text(yaml.safe_dump(event))
    return path


def env_for(redis_url: str, event: Path) -> dict:
    return {**os.environ, "REDIS_URL": redis_url, "WARROOM_EVENT": str(event), "LOG_LEVEL": "INFO"}


def make(i: int, source: str = "x") -> Post:
    return Post(
        id=f"{source}:{i}",
        source=source,
        author=Author(handle=f"fan{i}"),
        text=f"Oreo in the dark {i}",
        created_at=time.time() - 60 + i * 0.1,
    )


def test_record_from_cli_then_replay_from_cli_into_a_fresh_event(r, redis_url, tmp_path):
    live, fresh = Keys("cli-live"), Keys("cli-fresh")
    recording = tmp_path / "game.jsonl"
    post_store.append(r, live, [make(-1)])  # before the recorder starts: `record` starts from now
    recorder = subprocess.Popen(
        [*CLI, "record", str(recording), "--limit", "5"],
        env=env_for(redis_url, event_file(tmp_path, "cli-live")),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    appended: list[str] = []
    try:
        # Keep posting until the recorder has taken its 5 and exited (it may attach after the first few).
        deadline = time.monotonic() + 60
        i = 0
        while recorder.poll() is None and time.monotonic() < deadline:
            post = make(i, "bluesky" if i % 2 else "x")
            post_store.append(r, live, [post])
            appended.append(post.id)
            i += 1
            time.sleep(0.2)
        _, err = recorder.communicate(timeout=30)
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.wait()
    assert recorder.returncode == 0, err.decode()
    assert b"recorded 5 posts" in err, err.decode()
    recorded = [orjson.loads(line) for line in recording.read_bytes().splitlines()]
    ids = [p["id"] for p in recorded]
    assert len(ids) == 5
    assert "x:-1" not in ids, "a post from before the recording started was recorded"
    start = appended.index(ids[0])
    assert ids == appended[start : start + 5], "the recording is not the stream's consecutive posts in order"

    replayer = subprocess.run(
        [*CLI, "replay", str(recording), "--speed", "0"],
        env=env_for(redis_url, event_file(tmp_path, "cli-fresh")),
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert replayer.returncode == 0, replayer.stderr.decode()
    replayed = stream_posts(r, fresh)
    assert len(replayed) == 5
    assert all(p["id"].startswith("replay:") for p in replayed), [p["id"] for p in replayed]
    assert [p["id"].split(":", 2)[2] for p in replayed] == ids, "original ids are kept after the replay tag"
    assert {p["source"] for p in replayed} == {"replay"}
    assert [p["text"] for p in replayed] == [p["text"] for p in recorded]
    # Re-stamped to now, so the live chart shows them.
    stamped = [datetime.fromisoformat(p["created_at"]).timestamp() for p in replayed]
    assert all(abs(t - time.time()) < 120 for t in stamped), stamped
    assert all(abs(datetime.fromisoformat(p["created_at"]).timestamp() - time.time()) > 30 for p in recorded)
    assert len(stream_posts(r, live)) == len(appended) + 1, "replay into the fresh event left the live one alone"


def test_record_with_source_filter_from_cli(r, redis_url, tmp_path):
    live = Keys("cli-filter")
    recording = tmp_path / "x-only.jsonl"
    recorder = subprocess.Popen(
        [*CLI, "record", str(recording), "--source", "x", "--limit", "3"],
        env=env_for(redis_url, event_file(tmp_path, "cli-filter")),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline, i = time.monotonic() + 60, 0
        while recorder.poll() is None and time.monotonic() < deadline:
            post_store.append(r, live, [make(i, "bluesky" if i % 2 else "x")])
            i += 1
            time.sleep(0.2)
        _, err = recorder.communicate(timeout=30)
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.wait()
    assert recorder.returncode == 0, err.decode()
    sources = [orjson.loads(line)["source"] for line in recording.read_bytes().splitlines()]
    assert sources == ["x", "x", "x"]


def test_replay_of_a_missing_file_fails_with_a_message(redis_url, tmp_path):
    done = subprocess.run(
        [*CLI, "replay", str(tmp_path / "nope.jsonl"), "--speed", "0"],
        env=env_for(redis_url, event_file(tmp_path, "cli-missing")),
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert "nope.jsonl" in err, err
    assert "Traceback" not in err, f"a missing file should be one clear line, not a traceback:\n{err}"


def test_record_into_a_missing_folder_fails_with_a_message(redis_url, tmp_path):
    done = subprocess.run(
        [*CLI, "record", str(tmp_path / "no-such-dir" / "x.jsonl"), "--limit", "1"],
        env=env_for(redis_url, event_file(tmp_path, "cli-missing")),
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )
    err = done.stderr.decode()
    assert done.returncode == 1, err
    assert "no-such-dir" in err and "Traceback" not in err, err
