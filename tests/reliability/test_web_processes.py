"""Two web processes on one port (`cli.py up` with WARROOM_WEB_PROCESSES=2), real processes on loopback.

- New connections are spread over both; many screens of one role set cost ONE computed answer per snapshot
  version between them (the other process takes the bytes from Redis), and each role set computes its own.
- kill -9 of one web process costs a screen at most one failed request, never a gap long enough to go stale,
  and `up` restarts it on the same port.
- In real Chromium: the wall never shows STALE across that kill and keeps getting new snapshots.

Each measurement is printed as a JSON line (`pytest -s`); docs/reliability.md quotes them.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import psutil
import pytest
import requests

from layouts import ids
from store import snapshot
from store.keys import Keys
from tests.web.stack import Stack, browser, event_file, sign_in, signed_in, text, wait

KEYS = Keys("superbowl")
BURST = 30  # screens of one role set asking at once, each on a new connection
STALE_AFTER_S = 5.0  # the event file's thresholds.stale_after_s: a screen goes STALE after this long without news


def wait_for(cond, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if value := cond():
                return value
        except (OSError, psutil.Error, requests.RequestException):  # between processes
            pass
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached within {timeout}s")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("webprocs")
    s = Stack(tmp / "var", event_file(tmp, rate=40), web_processes=2).start(timeout=180)
    wait_for(lambda: len(s.listening()) == 2, 90, "both web processes listening")
    yield s
    s.stop()


class Screen:
    """A signed-in browser's session asking the command center's screen question; every request on a new
    connection, so the kernel picks a web process for each (as it does for each new browser)."""

    def __init__(self, stack: Stack, name: str, source: str = "all"):
        self.url = stack.url
        with signed_in(self.url, name) as session:
            self.cookies = session.cookies.get_dict()
            deps = session.get(f"{self.url}/_dash-dependencies", timeout=10).json()
        self.dep = next(d for d in deps if d["output"].startswith(f"..{ids.SNAP_VERSION}.data..."))
        values = {ids.FEED_SOURCE: source, ids.FEED_MIN_SCORE: 0, ids.URL: "/"}  # the page's defaults; no snapshot
        self.state = [{**s, "value": values.get(s["id"])} for s in self.dep["state"]]

    def ask(self, tick: int, timeout: float = 10) -> requests.Response:
        outputs = [
            dict(zip(("id", "property"), part.rsplit(".", 1), strict=True))
            for part in self.dep["output"].strip(".").split("...")
        ]
        body = {
            "output": self.dep["output"],
            "outputs": outputs,
            "inputs": [  # the clock ticks; the push store (assets/push.js) stays empty: this screen polls
                {**i, "value": tick if i["id"] == ids.TICK else None} for i in self.dep["inputs"]
            ],
            "state": self.state,
            "changedPropIds": [f"{ids.TICK}.n_intervals"],
        }
        return requests.post(
            f"{self.url}/_dash-update-component",
            json=body,
            cookies=self.cookies,
            headers={"X-CSRFToken": self.cookies["_csrf_token"], "Connection": "close"},
            timeout=timeout,
        )


def burst(screen: Screen, n: int) -> list[tuple[str, int | None]]:
    """`n` requests at once: (X-Answer, the snapshot version answered) each."""
    out, start = [], threading.Barrier(n)

    def one(i: int) -> None:
        start.wait()
        res = screen.ask(i)
        assert res.status_code == 200, (res.status_code, res.text[:300])
        out.append((res.headers.get("X-Answer"), res.json()["response"][ids.SNAP_VERSION]["data"]))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(out) == n, "a request failed"
    return out


def answered_version(screen: Screen, tick: int) -> int | None:
    res = screen.ask(tick)
    return res.json()["response"][ids.SNAP_VERSION]["data"] if res.status_code == 200 else None


def test_two_web_processes_compute_each_answer_once_per_snapshot_version_per_role_set(stack):
    people = {"strategist": Screen(stack, "sam"), "viewer": Screen(stack, "vic")}
    probe = Screen(stack, "sam", source="x")  # another question: its answers say which version the web has read
    r, _ = stack.store()
    aggregator = stack.child("aggregate")
    rounds = []
    try:
        for _ in range(3):
            # The snapshot holds still while the screens ask (the aggregator paused), so one round is one version.
            before = snapshot.version(r, KEYS)
            wait_for(lambda before=before: snapshot.version(r, KEYS) > before, 30, "a new snapshot")
            aggregator.suspend()
            try:
                version = snapshot.version(r, KEYS)
                # Both web processes have read it: ten answers in a row, each on a new connection, carry it.
                wait_for(
                    lambda v=version: all(answered_version(probe, i) == v for i in range(10)), 30, "the web current"
                )
                results = {role: burst(screen, BURST) for role, screen in people.items()}
            finally:
                aggregator.resume()
            for role, answers in results.items():
                assert {v for _, v in answers} == {version}, (role, version, answers)
                sources = Counter(source for source, _ in answers)
                rounds.append({"version": version, "role": role, **sources})
                assert sources["computed"] == 1, (role, sources)
                assert sources["shared"] == 1, f"the other process answered {role} from Redis once: {sources}"
    finally:
        r.close()
    computed = [x["computed"] for x in rounds]
    print(json.dumps({"measure": "computed per version and role set, 2 web processes", "rounds": rounds}))
    assert computed == [1] * len(rounds)


class Poller(threading.Thread):
    """A screen asking every 0.1 s (five times the wall's rate, to see the kill closely): when each answer came,
    and which failed."""

    def __init__(self, screen: Screen):
        super().__init__(daemon=True)
        self.screen, self.stop = screen, threading.Event()
        self.ok: list[float] = []
        self.failed: list[tuple[float, str]] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                res = self.screen.ask(n, timeout=5)
                if res.status_code in (200, 204):
                    self.ok.append(time.monotonic())
                else:
                    self.failed.append((time.monotonic(), str(res.status_code)))
            except requests.RequestException as exc:
                self.failed.append((time.monotonic(), type(exc).__name__))
            self.stop.wait(0.1)


def test_kill_9_of_one_web_process_costs_a_screen_at_most_one_failed_request(stack):
    screens = [Poller(Screen(stack, "sam")) for _ in range(6)]
    for p in screens:
        p.start()
    try:
        wait_for(lambda: all(len(p.ok) >= 5 for p in screens), 60, "every screen answered")
        victim = stack.listening()[0]
        survivor = next(p for p in stack.listening() if p.pid != victim.pid)
        victim.kill()
        killed = time.monotonic()
        wait_for(lambda: all(any(t > killed + 1 for t in p.ok) for p in screens), 30, "answers after the kill")
        back = wait_for(
            lambda: len(pids := {p.pid for p in stack.listening()}) == 2 and victim.pid not in pids and pids,
            90,
            "`up` restarting the killed web process",
        )
        restarted_s = time.monotonic() - killed
        wait_for(lambda: all(any(t > time.monotonic() - 0.5 for t in p.ok) for p in screens), 30, "fresh answers")
    finally:
        for p in screens:
            p.stop.set()
        for p in screens:
            p.join(10)
    assert survivor.pid in back
    gaps = []
    for p in screens:  # the longest a screen went without an answer around the kill
        around = [t for t in p.ok if killed - 5 < t < killed + 10]
        gaps.append(max(b - a for a, b in zip(around, around[1:], strict=False)))
    failures = [len(p.failed) for p in screens]
    print(
        json.dumps(
            {
                "measure": "kill -9 of one of 2 web processes",
                "failed_requests_per_screen": failures,
                "failures": [f for p in screens for _, f in p.failed],
                "longest_gap_s": round(max(gaps), 3),
                "restarted_after_s": round(restarted_s, 1),
            }
        )
    )
    assert max(failures) <= 1, [p.failed for p in screens]
    assert max(gaps) < STALE_AFTER_S / 2, f"a screen went {max(gaps):.2f}s without an answer"


STALE_WATCH = """
window.__sawStale = false;
window.__staleWatch = setInterval(function () {
  var el = document.querySelector('#wall-live');
  if (el && el.innerText.indexOf('STALE') >= 0) { window.__sawStale = true; }
}, 50);"""
FAILED_SCREEN_ANSWERS = (
    "return window.__warroom.answers.filter(a => a.screen && a.status !== 200 && a.status !== 204).length"
)


@pytest.mark.browser
def test_the_wall_never_goes_stale_when_the_web_process_it_talks_to_is_killed(stack):
    driver = browser()
    try:
        sign_in(driver, stack)
        driver.get(stack.url + "/wall")
        wait(driver).until(lambda d: text(d, "#wall-live").startswith("● LIVE"))
        driver.execute_script(STALE_WATCH)
        # kill -9 the web process holding the browser's connections (the one its next request would go to)
        held = {
            p.pid: sum(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == stack.port for c in p.net_connections())
            for p in stack.listening()
        }
        victim = psutil.Process(max(held, key=held.get))
        assert held[victim.pid] > 0, held
        fresh = "return window.__warroom.answers.filter(a => a.screen && a.fresh).length"
        before, failed_before = driver.execute_script(fresh), driver.execute_script(FAILED_SCREEN_ANSWERS)
        victim.kill()
        killed = time.monotonic()
        wait(driver).until(lambda d: d.execute_script(fresh) >= before + 10)  # about 5 s of new snapshots
        seen_s = time.monotonic() - killed
        failed = driver.execute_script(FAILED_SCREEN_ANSWERS) - failed_before
        saw_stale = driver.execute_script("return window.__sawStale")
        gap_ms = driver.execute_script(  # the longest wait between new snapshots on the wall, across the kill
            "const d = window.__warroom.answers.filter(a => a.screen && a.fresh).map(a => a.done).slice(Math.max(0, arguments[0] - 2));"
            "return Math.max(...d.slice(1).map((t, i) => t - d[i]));",
            before,
        )
        print(json.dumps({"measure": "wall across kill -9 of its web process", "connections": held,
                          "failed_screen_requests": failed, "ten_new_snapshots_after_s": round(seen_s, 1),
                          "longest_gap_between_snapshots_s": round(gap_ms / 1000, 2),
                          "saw_stale": saw_stale}))  # fmt: skip
        assert not saw_stale, "the wall showed STALE"
        assert text(driver, "#wall-live").startswith("● LIVE")
        assert failed <= 1, f"{failed} screen requests failed"
    finally:
        driver.quit()
