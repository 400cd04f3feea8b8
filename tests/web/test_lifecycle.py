"""The real stack's life: Ctrl-C stops everything, kill -9 loses no saved card, a crashed worker comes back,
and a bad event file starts nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
import yaml
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from auth.identity import Identity
from store import audit, cards
from store.keys import Keys
from store.server import connect, running_embedded_url
from tests.web.stack import (
    ROOT,
    STRATEGIST,
    Stack,
    answers_to,
    browser,
    click,
    count,
    event_file,
    free_port,
    hold_still,
    open_page,
    retype,
    sign_in,
    text,
    wait_fresh_answers,
)

pytestmark = pytest.mark.browser

EVENT_ID = "superbowl"


def gone(p: psutil.Process) -> bool:
    try:
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def describe(procs: list[psutil.Process]) -> list[str]:
    out = []
    for p in procs:
        try:
            out.append(f"{p.pid} {' '.join(p.cmdline()[-3:])}")
        except psutil.Error:
            out.append(str(p.pid))
    return out


def wait_until(cond, timeout: float, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(every)
    return bool(cond())


def valkey_of(stack: Stack) -> psutil.Process:
    return psutil.Process(json.loads((stack.var / "redis" / "server.json").read_text())["pid"])


@pytest.fixture
def stacks():
    """Stacks a test started; whatever is still running at the end is stopped (and killed if it will not stop)."""
    started: list[Stack] = []
    yield started
    for s in started:
        try:
            procs = s.processes() if s.proc and s.proc.poll() is None else []
        except psutil.Error:
            procs = []
        s.stop()
        for p in procs:
            if not gone(p):
                p.kill()


def start(stacks: list, var: Path, event: Path, **kw) -> Stack:
    s = Stack(var, event, **kw)
    stacks.append(s)
    return s.start(timeout=120)


# Ctrl-C ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["signal to up", "terminal ctrl-c (whole process group)"])
def test_ctrl_c_stops_every_child_and_the_embedded_server(stacks, tmp_path, how):
    stack = start(stacks, tmp_path / "var", event_file(tmp_path, rate=60))
    procs = stack.processes()
    commands = [" ".join(p.cmdline()) for p in procs]
    for part in ("collect simulator", "process", "aggregate", "serve"):
        assert any(f"cli.py {part}" in c for c in commands), (part, commands)
    server = valkey_of(stack)
    assert server in procs, describe(procs)
    assert "valkey" in server.name() and Path(server.cwd()) == stack.var / "redis", (server.name(), server.cwd())
    assert len(procs) >= 6, describe(procs)

    if how == "signal to up":
        stack.proc.send_signal(signal.SIGINT)
    else:
        os.killpg(stack.proc.pid, signal.SIGINT)  # what a terminal sends: every process in the foreground group
    code = stack.proc.wait(30)
    assert code in (0, 130), f"`up` exited with {code} on Ctrl-C"
    assert wait_until(lambda: all(gone(p) for p in procs), 15), (
        f"still running 15 s after Ctrl-C: {describe([p for p in procs if not gone(p)])}"
    )
    assert not (stack.var / "redis" / "server.json").exists(), "server.json left behind for a stopped server"
    assert running_embedded_url(stack.var / "redis") is None
    assert b"Traceback" not in (stack.var.parent / f"up-{stack.port}.log").read_bytes()


# Durability ------------------------------------------------------------------------------------------------


def frame_card_in_the_browser(stack: Stack, title: str) -> None:
    driver = browser()
    try:
        sign_in(driver, stack)
        open_page(driver, stack.url)
        until = WebDriverWait(driver, 60, poll_frequency=0.1).until
        until(lambda d: count(d, "#feed .frame-btn") > 0)
        for _ in range(3):
            hold_still(driver, "#feed", "feed")  # rows stop being replaced under the pointer
            picked = answers_to(driver, "..card-context.data")
            click(driver, "#feed .frame-btn")
            until(lambda d, picked=picked: answers_to(d, "..card-context.data") > picked)
            if until(lambda d: text(d, "#card-context-view")).startswith("Framing @"):
                break
            # The held row had left the feed meanwhile ("pick another"): like a person, look away and pick again.
            ActionChains(driver).move_to_element(driver.find_element(By.ID, "volume-chart")).perform()
            wait_fresh_answers(driver, 1, hold=None)
        assert text(driver, "#card-context-view").startswith("Framing @"), text(driver, "#card-context-view")
        retype(driver, "card-title", title)  # over the suggested title
        driver.find_element(By.ID, "card-summary").send_keys("Saved, then the power went out.")
        driver.find_element(By.ID, "card-owner").send_keys("Robin")
        until(lambda d: d.find_element(By.ID, "card-title").get_attribute("value") == title)
        driver.find_element(By.ID, "card-save").click()
        until(EC.text_to_be_present_in_element((By.ID, "card-saved"), "Saved"))
    finally:
        driver.quit()


def restart_after_kill9(stacks: list, stack: Stack) -> Stack:
    procs = stack.processes()
    stack.kill9()
    assert wait_until(lambda: all(gone(p) for p in procs), 15), describe([p for p in procs if not gone(p)])
    return start(stacks, stack.var, stack.event)


def audit_entries(stack: Stack, query: str) -> list[dict]:
    """GET /api/audit (JSON lines) with the stack's API token (it has the audit scope)."""
    req = urllib.request.Request(f"{stack.url}/api/audit?{query}", headers=stack.headers())
    with urllib.request.urlopen(req, timeout=10) as resp:
        return [json.loads(line) for line in resp.read().splitlines() if line.strip()]


def test_card_saved_in_the_ui_survives_kill9_of_everything_with_its_audit_entry(stacks, tmp_path):
    stack = start(stacks, tmp_path / "var", event_file(tmp_path, rate=60))
    title = f"Survives the blackout {time.time_ns()}"
    frame_card_in_the_browser(stack, title)
    again = restart_after_kill9(stacks, stack)  # the moment the room was told "Saved"
    cards_after = again.get("/api/cards")["cards"]
    assert title in [c["title"] for c in cards_after], cards_after
    card = next(c for c in cards_after if c["title"] == title)
    (entry,) = audit_entries(again, f"action=card.create&object=card:{card['id']}")
    assert entry["who"] == STRATEGIST and entry["roles"] == ["strategist"] and entry["after"]["title"] == title


def test_card_saved_through_the_store_survives_kill9_right_after(stacks, tmp_path):
    stack = start(stacks, tmp_path / "var", event_file(tmp_path, rate=60))
    r = connect(running_embedded_url(stack.var / "redis"))
    keys = Keys(EVENT_ID)
    actor = Identity("ana", frozenset({"strategist"}))
    saved = []
    for i in range(5):
        card = cards.save(
            r,
            keys,
            {
                "title": f"Store card {i}",
                "summary": "",
                "type": "threat",
                "priority": "P1",
                "owner": "Ana",
                "status": "new",
                "post_id": None,
            },
            audit.entry(actor, "card.create", "card", ""),
        )
        assert card["durable"] is True, "WAITAOF did not confirm the write on disk"
        saved.append(card["id"])
    r.close()
    again = restart_after_kill9(stacks, stack)  # straight after save() returned: no grace period
    ids = {c["id"] for c in again.get("/api/cards")["cards"]}
    assert set(saved) <= ids, (saved, ids)
    audited = {e["object_id"] for e in audit_entries(again, "action=card.create&who=ana")}
    assert set(saved) <= audited, (saved, audited)


# Supervision -----------------------------------------------------------------------------------------------


def test_a_crashed_worker_is_restarted_and_processing_goes_on(stacks, tmp_path):
    stack = start(stacks, tmp_path / "var", event_file(tmp_path, rate=60), workers=1)
    worker = stack.child("process")
    worker.kill()  # kill -9
    worker.wait(10)

    def new_worker():
        try:
            return next(
                (
                    p
                    for p in psutil.Process(stack.proc.pid).children()
                    if "process" in p.cmdline() and p.pid != worker.pid and not gone(p)
                ),
                None,
            )
        except psutil.Error:
            return None

    assert wait_until(lambda: new_worker() is not None, 60), "no new worker within 60 s of kill -9"
    replacement = new_worker()
    assert stack.proc.poll() is None, "`up` died with its worker"
    # Only the replacement can move the counter now.
    start_count = stack.get("/api/health")["pipeline"]["processed"]
    assert wait_until(lambda: stack.get("/api/health")["pipeline"]["processed"] > start_count + 20, 60), (
        "the pipeline did not resume after the worker was replaced"
    )
    assert not gone(replacement)
    health = stack.get("/api/health")
    assert health["status"] == "ok", health


# Bad event file --------------------------------------------------------------------------------------------


def bad_events(tmp: Path) -> list[tuple[Path, str]]:
    good = yaml.safe_load((ROOT / "config" / "superbowl.yaml").read_text())
    rate = json.loads(json.dumps(good))
    rate["sources"]["simulator"]["rate"] = 0
    unknown = json.loads(json.dumps(good))
    unknown["sources"]["myspace"] = {"enabled": True}
    out = []
    for name, event, field in (("rate", rate, "sources.simulator.rate"), ("unknown", unknown, "sources.myspace")):
        path = tmp / f"bad-{name}.yaml"
        path.write_text(yaml.safe_dump(event))
        out.append((path, field))
    broken = tmp / "broken.yaml"
    broken.write_text("id: superbowl\nbrand: [unclosed\n")
    out.append((broken, "not valid YAML"))
    return out


@pytest.mark.parametrize("case", range(3))
def test_up_with_an_invalid_event_file_exits_naming_the_field_and_starts_nothing(tmp_path, case):
    path, field = bad_events(tmp_path)[case]
    var = tmp_path / "var"
    env = {**os.environ, "WARROOM_VAR": str(var), "WARROOM_EVENT": str(path), "PORT": str(free_port())}
    env.pop("REDIS_URL", None)
    before = {p.pid for p in psutil.process_iter()}
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), "up"], env=env, cwd=ROOT, capture_output=True, timeout=60, check=False
    )
    err = done.stderr.decode()
    assert done.returncode != 0, err
    assert field in err and str(path.name) in err, err
    assert "Traceback" not in err, err
    assert "War Room is up" not in done.stdout.decode()
    assert not (var / "redis").exists(), "the embedded server's data dir was created"
    started = []
    for p in psutil.process_iter():
        if p.pid in before:
            continue
        try:
            if p.cwd().startswith(str(var)) or any(str(var) in part or str(path) in part for part in p.cmdline()):
                started.append(p)
        except psutil.Error:
            pass
    assert not started, describe(started)
