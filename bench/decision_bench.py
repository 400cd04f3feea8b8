"""Decision bench (issue 10): the fast lane from an alert to a post on X, driven in real headless Chromium.

The real stack (`cli.py up`, publishing live) posts to a local server speaking X API v2 (tests/publish/servers.py).
Each run: an influencer's post arrives through POST /api/ingest and raises an alert; the strategist (sam) frames
the alert's post, saves the card (its title suggested), opens Respond, picks a pre-approved template and submits;
an approver (ann) follows the link approvers are sent and approves; sam publishes; the card shows it published.

Figures:
- `decision_ui_actions`: the strategist's clicks and keystrokes from the alert on screen to submitted (each
  selenium click, selection or key counts one; goal at most 6).
- `decision_server_ms_p95` per step: the slowest Dash callback answer the step caused, as the server timed it
  (its Server-Timing header: from the first request hook to the response), p95 over the runs.
- `decision_step_on_screen_s` per step: from the action to its result on the person's screen (median).
- `publish_to_card_s`: from the Publish click to the card on the strategist's screen saying published (median).
- `alert_to_submitted_s`, `alert_to_published_s`: the whole loop in seconds (median), people's think time excluded.
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

from bench.pipeline_bench import ROOT, figure, pct

logger = logging.getLogger(__name__)

RUNS = int(os.environ.get("BENCH_DECISION_RUNS", "5"))
TEMPLATE = "dunk-in-the-dark"
STEPS = ("frame", "save", "respond", "template", "submit", "approve", "publish")
X_ENV = ("X_API_BASE_URL", "X_API_KEY", "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")


class Actor:
    """One person's browser; counts every action it performs and marks where each step's answers start."""

    def __init__(self, driver):
        self.driver, self.actions = driver, 0

    def since(self) -> float:
        return self.driver.execute_script("return performance.now()")

    def slowest_answer_ms(self, since: float) -> float | None:
        """The step's server time: the slowest of the Dash answers it caused (asked since `since`, screens'
        ticks excepted), as the server timed itself (its Server-Timing header, web/timing.py)."""
        return self.driver.execute_script(
            """const t = window.__warroom;
            const mine = t.answers.filter(a => !a.screen && a.sent >= arguments[0] && a.server !== null);
            return mine.length ? Math.max(...mine.map(a => a.server)) : null;""",
            since,
        )


def _event(tmp: Path) -> Path:
    from tests.web.stack import event_file

    path = event_file(tmp, rate=20)
    event = yaml.safe_load(path.read_text())
    event["publishing"].update(
        mode="live", templates_file=str(ROOT / "config" / "superbowl-templates.yaml"), sensitive_words=[]
    )
    event["alerts"]["watch_words"] = []  # no sensitive moment: this is the fast lane (one approver)
    path.write_text(yaml.safe_dump(event))
    return path


def _alert_for(stack, handle: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for a in stack.get("/api/snapshot").get("alerts", []):
            if handle in a.get("title", "") or any(
                p.get("handle") == handle for p in a.get("why", {}).get("posts", [])
            ):
                return a["id"]
        time.sleep(0.2)
    raise TimeoutError(f"no alert for @{handle} within {timeout}s")


def one_decision(stack, sam: Actor, ann: Actor, x_server, n: int) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from tests.web.stack import click, count, hold_still, open_page, text, wait

    d = sam.driver
    # X refuses a second post with the same text (the local server too): each run starts as a fresh account.
    with x_server.lock:
        x_server.posts.clear()
    open_page(d, stack.url + "/")
    handle = f"bigfan{n}x{int(time.time())}"
    post = {
        "id": f"webhook:decision-{handle}",
        "source": "webhook",
        "author": {"handle": handle, "followers": 4_000_000, "verified": True},
        "text": f"The lights are out and Oreo is quiet? Come on {n}",
        "created_at": time.time(),
    }
    status, body = stack.post("/api/ingest", [post])
    assert status == 202, body
    alert_id = _alert_for(stack, handle)
    frame = f'[data-alert-id="{alert_id}"] .frame-alert-btn'
    wait(d, 60).until(lambda dr: count(dr, frame) == 1)
    shown_at = time.monotonic()
    hold_still(d, "#alerts", "alerts")  # like a person: point at the alert, so its row holds still under the click
    steps: dict[str, float] = {}  # step -> the server's time for it (ms)
    seen: dict[str, float] = {}  # step -> from the action to its result on screen (s)
    actions0 = sam.actions

    def step(actor: Actor, name: str, act, done, timeout: float = 60) -> None:
        since, started = actor.since(), time.monotonic()
        act()
        actor.actions += 1
        wait(actor.driver, timeout).until(done)
        steps[name] = actor.slowest_answer_ms(since)
        seen[name] = time.monotonic() - started

    step(sam, "frame", lambda: click(d, frame), lambda dr: dr.find_element(By.ID, "card-title").get_attribute("value"))
    title = d.find_element(By.ID, "card-title").get_attribute("value")
    step(sam, "save", lambda: d.find_element(By.ID, "card-save").click(), lambda dr: "Saved" in text(dr, "#card-saved"))
    card_id = next(c["id"] for c in stack.get("/api/cards")["cards"] if c["title"] == title)
    respond = f'[data-card-id="{card_id}"] button[id*="respond-open"]'
    wait(d, 60).until(lambda dr: count(dr, respond) == 1)
    step(sam, "respond", lambda: click(d, respond), lambda dr: count(dr, "#respond-drawer.show") == 1)

    def has_template(dr) -> bool:
        options = dr.find_elements(By.CSS_SELECTOR, "#respond-template option")
        return TEMPLATE in [o.get_attribute("value") for o in options]

    wait(d, 60).until(has_template)
    step(
        sam,
        "template",
        lambda: Select(d.find_element(By.ID, "respond-template")).select_by_value(TEMPLATE),
        lambda dr: bool(dr.find_element(By.ID, "respond-text").get_attribute("value")),
    )
    step(
        sam,
        "submit",
        lambda: d.find_element(By.ID, "respond-submit").click(),
        lambda dr: "Submitted." in text(dr, "#respond-message"),
    )
    submitted_at = time.monotonic()
    actions = sam.actions - actions0

    a = ann.driver
    open_page(a, stack.url + f"/?respond={card_id}")  # the link the approvers' message carries
    approve = '#respond-drafts button[id*="respond-approve"]'
    wait(a, 60).until(lambda dr: count(dr, approve) == 1)
    step(ann, "approve", lambda: click(a, approve), lambda dr: "Approved" in text(dr, "#respond-message"))

    publish = '#respond-drafts button[id*="respond-publish"]'
    wait(d, 60).until(lambda dr: count(dr, publish) == 1)
    posts_before = len(x_server.posts)
    clicked_at = [0.0]

    def press_publish():
        clicked_at[0] = time.monotonic()
        click(d, publish)

    on_card = f'[data-card-id="{card_id}"] .card-response'
    step(sam, "publish", press_publish, lambda dr: "published" in text(dr, on_card).lower(), timeout=180)
    published_at = time.monotonic()
    assert len(x_server.posts) == posts_before + 1, "the post reached the local X server once"
    return {
        "actions": actions,
        "steps": steps,
        "seen": seen,
        "publish_to_card_s": published_at - clicked_at[0],
        "alert_to_submitted_s": submitted_at - shown_at,
        "alert_to_published_s": published_at - shown_at,
    }


def run() -> list[dict]:
    from tests.publish.conftest import x_env
    from tests.publish.servers import XServer
    from tests.web.stack import Stack, browser, sign_in

    x_server = XServer().start()
    saved = {k: os.environ.get(k) for k in X_ENV}
    os.environ.update(x_env(x_server))  # the stack's web process publishes with these
    tmp = Path(tempfile.mkdtemp(prefix="warroom-decision-"))
    stack = drivers = None
    try:
        stack = Stack(tmp / "var", _event(tmp)).start(timeout=180)
        drivers = [browser(), browser()]
        sam, ann = Actor(drivers[0]), Actor(drivers[1])
        sign_in(sam.driver, stack, "sam")
        sign_in(ann.driver, stack, "ann")
        runs = []
        for n in range(RUNS):
            runs.append(one_decision(stack, sam, ann, x_server, n))
            logger.info("decision run %d: %s", n + 1, runs[-1])
    finally:
        for drv in drivers or []:
            drv.quit()
        if stack is not None:
            stack.stop()
        x_server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(tmp, ignore_errors=True)
    per_step = defaultdict(list)
    for one in runs:
        for name, ms in one["steps"].items():
            if ms is not None:
                per_step[name].append(ms)
    out = [figure("decision_ui_actions", max(one["actions"] for one in runs), "actions", goal_max=6, runs=len(runs))]
    out += [
        figure("decision_server_ms_p95", round(pct(per_step[name], 95), 1), "ms", step=name, runs=len(per_step[name]))
        for name in STEPS
        if per_step[name]
    ]
    for name in STEPS:
        values = [one["seen"][name] for one in runs if name in one["seen"]]
        if values:
            out.append(figure("decision_step_on_screen_s", round(statistics.median(values), 2), "s", step=name))
    for metric in ("publish_to_card_s", "alert_to_submitted_s", "alert_to_published_s"):
        values = [one[metric] for one in runs]
        out.append(
            figure(metric, round(statistics.median(values), 2), "s", p95=round(pct(values, 95), 2), runs=len(runs))
        )
    return out
