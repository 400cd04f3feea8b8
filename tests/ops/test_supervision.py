"""Supervision with real processes: back-off that resets, a configuration error that stops `up`, and the embedded
Valkey restarted after kill -9 on its port, password and data (the children carry on)."""

from __future__ import annotations

import json
import sys
import time

import psutil
import pytest

import supervisor as sup
from config.settings import load_settings
from store import audit, cards
from store.keys import GROUP, Keys
from store.server import connect, running_embedded_url
from supervisor import Child, Supervisor
from tests.web.stack import ROOT, Stack, event_file


class Scripted(Supervisor):
    """The real supervisor, running children given as Python snippets instead of `cli.py` commands."""

    def __init__(self, settings, scripts: dict[str, str]):
        super().__init__(settings, ROOT)
        self.scripts = scripts

    def plan(self) -> list[Child]:
        return [Child(name, []) for name in self.scripts]

    def command(self, child: Child) -> list[str]:
        return [sys.executable, "-c", self.scripts[child.name]]


@pytest.fixture
def settings(redis_url, tmp_path):
    return load_settings({"REDIS_URL": redis_url, "WARROOM_VAR": str(tmp_path / "var")})


def test_a_child_exiting_with_a_configuration_error_stops_up_with_its_message(settings, capfd):
    crash = "import sys, time; time.sleep(0.2); sys.stderr.write('warroom: WARROOM_ALERT_WEBHOOK_URL is not a URL\\n'); sys.exit(2)"
    s = Scripted(settings, {"aggregator": crash, "web": "import time; time.sleep(60)"})
    began = time.monotonic()
    code = s.run()
    assert code == 2
    assert time.monotonic() - began < 15, "a configuration error is not retried"
    assert all(c.proc is None or c.proc.poll() is not None for c in s.children), "a child outlived `up`"
    assert s.children[0].restarts == 0
    err = capfd.readouterr().err
    assert "aggregator stopped with a configuration error: warroom: WARROOM_ALERT_WEBHOOK_URL is not a URL" in err


def run_watching(s: Supervisor, until, timeout: float) -> None:
    s.children = s.plan()
    for child in s.children:
        s._start(child, {})
    deadline = time.monotonic() + timeout
    try:
        while not until() and time.monotonic() < deadline:
            time.sleep(0.05)
            s._watch({})
    finally:
        s._shutdown()


def test_back_off_doubles_for_a_crash_loop_and_a_crash_after_a_stable_run_restarts_at_once(settings, monkeypatch):
    monkeypatch.setattr(sup, "STABLE_S", 1.0)
    s = Scripted(
        settings,
        {"flaky": "raise SystemExit(1)", "steady": "import time; time.sleep(1.2); raise SystemExit(3)"},
    )
    delays: dict[str, list[float]] = {"flaky": [], "steady": []}
    real_watch = s._watch

    def watch(env):
        before = {c.name: c.restarts for c in s.children}
        real_watch(env)
        for c in s.children:
            if c.restarts > before[c.name]:
                delays[c.name].append(round(c.next_start - time.monotonic(), 1))

    s._watch = watch
    run_watching(s, lambda: len(delays["flaky"]) >= 3 and len(delays["steady"]) >= 3, 30)
    assert delays["flaky"][:3] == [1.0, 2.0, 4.0], delays
    assert delays["steady"][:3] == [0.0, 0.0, 0.0], delays  # ran 1.2 s > STABLE_S each time: back at once


def test_embedded_valkey_killed_is_restarted_with_its_data_and_the_stack_carries_on(tmp_path):
    stack = Stack(tmp_path / "var", event_file(tmp_path, rate=60)).start(timeout=120)
    try:
        info_path = stack.var / "redis" / "server.json"
        before = json.loads(info_path.read_text())
        r = connect(running_embedded_url(stack.var / "redis"))
        card = cards.save(
            r,
            Keys("superbowl"),
            {"title": "Before the crash", "type": "threat", "status": "new"},
            audit.entry("tester", "card.create", "card", ""),
        )
        assert card["durable"]
        r.close()
        processed = stack.get("/api/health")["pipeline"]["processed"]

        psutil.Process(before["pid"]).kill()  # kill -9 the server
        killed_at = time.monotonic()
        back_at = None
        while time.monotonic() - killed_at < 20:
            try:
                now = json.loads(info_path.read_text())
            except (OSError, ValueError):
                now = before
            if now["pid"] != before["pid"] and running_embedded_url(stack.var / "redis"):
                back_at = time.monotonic()
                break
            time.sleep(0.05)
        assert back_at is not None, "the embedded server was not restarted within 20 s"
        assert (now["port"], now["password"]) == (before["port"], before["password"]), "clients hold the old URL"
        restart_s = back_at - killed_at

        def reachable():
            try:
                return stack.get("/api/health")["redis"]["reachable"]
            except OSError:  # 503 while the snapshot is stale is still an answer
                return False

        web_s = wait_for(reachable, 10)
        assert web_s is not None and web_s < 2.0, f"the web reconnected {web_s}s after the server was back"
        r = connect(running_embedded_url(stack.var / "redis"))
        try:
            assert r.hget(Keys("superbowl").cards, card["id"]), "the AOF was not replayed"
        finally:
            r.close()

        def health():
            try:
                return stack.get("/api/health")
            except OSError:
                return {}

        back_wall = time.time() - (time.monotonic() - back_at)
        seen = (health().get("snapshot") or {}).get("version") or 0
        keys = Keys("superbowl")
        r = connect(running_embedded_url(stack.var / "redis"))
        try:
            # A worker is back once its consumer has read from the group since the server returned.
            def last_read() -> float:
                consumers = r.xinfo_consumers(keys.stream, GROUP)
                return time.time() - min(c["idle"] for c in consumers) / 1000 if consumers else 0.0

            worker_s = wait_for(lambda: last_read() > back_wall, 30)
        finally:
            r.close()
        aggregator_s = wait_for(lambda: (health().get("snapshot") or {}).get("version", 0) > seen + 1, 30)
        ingest_s = wait_for(lambda: health().get("pipeline", {}).get("processed", 0) > processed, 60)
        timings = {"restart": restart_s, "web": web_s, "worker": worker_s, "aggregator": aggregator_s}
        timings["ingest"] = ingest_s
        print("after kill -9 of Valkey, seconds:", {k: None if v is None else round(v, 2) for k, v in timings.items()})
        assert worker_s is not None and worker_s < 2.0, timings
        assert aggregator_s is not None and aggregator_s < 2.0, timings
        assert ingest_s is not None, timings  # a source that crashed with the server is restarted by `up`
        assert stack.proc.poll() is None, "`up` died with its server"
    finally:
        stack.stop()


def wait_for(cond, timeout: float) -> float | None:
    """Seconds until `cond()` held, or None if it did not within `timeout`."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            if cond():
                return time.monotonic() - began
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    return None


def test_up_plans_one_aggregator_unless_told_more_and_standbys_get_their_own_names():
    one = [c.name for c in Supervisor(load_settings({}), ROOT).plan()]
    assert one.count("aggregator") == 1 and not any(n.startswith("aggregator-") for n in one)
    two = [c for c in Supervisor(load_settings({"WARROOM_AGGREGATORS": "2"}), ROOT).plan() if "aggregate" in c.args]
    assert [c.name for c in two] == ["aggregator", "aggregator-2"]


def test_up_plans_one_web_process_unless_told_more_and_then_they_share_the_port():
    one = [c for c in Supervisor(load_settings({}), ROOT).plan() if "serve" in c.args]
    assert [(c.name, c.args) for c in one] == [("web", ["serve"])], "one web binds its port alone"
    three = [c for c in Supervisor(load_settings({"WARROOM_WEB_PROCESSES": "3"}), ROOT).plan() if "serve" in c.args]
    assert [c.name for c in three] == ["web", "web-2", "web-3"]
    assert all(c.args == ["serve", "--reuse-port"] for c in three)
