"""Start the real product (`cli.py up`) for browser tests, and drive headless Chromium."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import requests
import yaml
from selenium import webdriver
from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-ingest-token-123"
PASSWORD = "correct horse battery staple"
# The people every stack has (created through the store, as `cli.py users add` does): name -> (roles, groups).
PEOPLE = {
    "sam": (["strategist"], []),
    "vic": (["viewer"], []),
    "ann": (["approver"], ["brand"]),
}
STRATEGIST = "sam"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def event_file(tmp: Path, **simulator) -> Path:
    """The demo event with only the simulator on (no outside network in tests)."""
    event = yaml.safe_load((ROOT / "config" / "superbowl.yaml").read_text())
    for name in ("x", "bluesky", "mastodon", "rss", "reddit"):
        event["sources"][name]["enabled"] = False
    event["sources"]["simulator"].update(simulator)
    # The templates file is relative to the event file, which is written elsewhere here.
    event["publishing"]["templates_file"] = str(ROOT / "config" / event["publishing"]["templates_file"])
    path = tmp / "event.yaml"
    path.write_text(yaml.safe_dump(event))
    return path


class Stack:
    """`cli.py up` in its own session, on a free port, with its data under `var`."""

    def __init__(self, var: Path, event: Path, workers: int = 1, web_processes: int = 1, push: bool = False):
        self.var, self.event, self.workers, self.web_processes = var, event, workers, web_processes
        self.port = free_port()
        # Screens poll unless a test asks for push (tests/web/test_push*.py): the poll is the fallback push keeps.
        self.push_port = free_port() if push else 0
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_token: str | None = None  # read + audit, for the tests' own API calls
        self.event_id = yaml.safe_load(event.read_text())["id"]

    def start(self, timeout: float = 60) -> Stack:
        env = {
            **os.environ,
            "WARROOM_VAR": str(self.var),
            "WARROOM_EVENT": str(self.event),
            "PORT": str(self.port),
            "WARROOM_WORKERS": str(self.workers),
            "WARROOM_WEB_PROCESSES": str(self.web_processes),
            "WARROOM_INGEST_TOKEN": TOKEN,
            "WARROOM_PUSH_PORT": str(self.push_port),
        }
        env.pop("REDIS_URL", None)
        self.log = open(self.var.parent / f"up-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "cli.py"), "up"],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.get("/api/health", token=None)["status"] == "ok":  # what anyone may know: it is up
                    self.people()
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"`up` exited with {self.proc.returncode}; see {self.log.name}")
            time.sleep(0.3)
        raise RuntimeError(f"stack not healthy within {timeout}s; see {self.log.name}")

    def store(self):
        """(a client of the stack's embedded server, its keys). Close the client when done."""
        from store.keys import Keys
        from store.server import connect, running_embedded_url

        return connect(running_embedded_url(self.var / "redis")), Keys(self.event_id)

    def people(self) -> None:
        """The test people (PEOPLE, password PASSWORD) and an API token, made once per data dir like an admin
        would (`cli.py users add`, `cli.py tokens create`), written through the store with their audit entries."""
        from auth.identity import Identity
        from store import tokens, users

        actor = Identity("cli:tests", frozenset({"admin"}), kind="cli", address="local")
        r, keys = self.store()
        try:
            for name, (roles, groups) in PEOPLE.items():
                if users.get(r, keys, name) is None:
                    users.create(r, keys, name, roles, groups, actor=actor, password=PASSWORD)
            self.api_token, _ = tokens.create_api_token(r, keys, "browser tests", ["read", "audit"], actor=actor)
        finally:
            r.close()

    def first_admin_link(self) -> str | None:
        """The one-time sign-in link `up` printed for the first admin (on the data dir's first start only)."""
        self.log.flush()
        log = (self.var.parent / f"up-{self.port}.log").read_text(errors="replace")
        found = re.search(r"(http://\S+/auth/link/\S+)", log)
        return found.group(1) if found else None

    def headers(self, token: str | None | bool = True) -> dict:
        token = self.api_token if token is True else token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path: str, token: str | None | bool = True) -> dict:
        """GET a JSON path with the stack's API token (token=None: as an outsider)."""
        req = urllib.request.Request(self.url + path, headers=self.headers(token))
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    def post(self, path: str, body, token: str = TOKEN) -> tuple[int, dict]:
        req = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def processes(self) -> list[psutil.Process]:
        """`up`, its children and the embedded server (which runs in a session of its own)."""
        procs = [psutil.Process(self.proc.pid)] + psutil.Process(self.proc.pid).children(recursive=True)
        info = self.var / "redis" / "server.json"
        if info.exists():
            procs.append(psutil.Process(json.loads(info.read_text())["pid"]))
        return procs

    def child(self, command: str) -> psutil.Process:
        return next(p for p in psutil.Process(self.proc.pid).children() if command in p.cmdline())

    def children(self, command: str) -> list[psutil.Process]:
        """Every child running `command` (several web processes: `serve`)."""
        return [p for p in psutil.Process(self.proc.pid).children() if command in p.cmdline()]

    def listening(self) -> list[psutil.Process]:
        """The web processes listening on the stack's port now (started and bound, not merely spawned)."""
        out = []
        for p in self.children("serve"):
            try:
                if any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port for c in p.net_connections()):
                    out.append(p)
            except psutil.Error:  # it just died
                pass
        return out

    def stop(self) -> int | None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.returncode if self.proc else None

    def kill9(self) -> None:
        """kill -9 every process of the stack, the Redis server included."""
        for p in self.processes():
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self.proc.wait(10)


def signed_in(url: str, name: str, password: str = PASSWORD) -> requests.Session:
    """A browser's session without a browser: the real /login form; the CSRF header Dash's renderer would send."""
    session = requests.Session()
    page = session.get(f"{url}/login", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    res = session.post(
        f"{url}/login",
        data={"name": name, "password": password, "csrf": csrf, "next": "/"},
        allow_redirects=False,
        timeout=30,
    )
    if res.status_code != 303:
        raise RuntimeError(f"{name} could not sign in: {res.status_code} {res.text[:200]}")
    session.headers["X-CSRFToken"] = session.cookies["_csrf_token"]
    return session


def screen_question(session: requests.Session, url: str, version_id: str, values: dict) -> dict:
    """The body Dash's renderer sends for the screen callback whose first output is `version_id` ("snap-version",
    "wall-version", "exec-version"), from the app's own /_dash-dependencies; `values` by component id."""
    deps = session.get(f"{url}/_dash-dependencies", timeout=10).json()
    dep = next(d for d in deps if d["output"].lstrip(".").startswith(f"{version_id}.data"))

    def fill(items):
        return [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])} for i in items]

    outputs = [
        {"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in dep["output"].strip(".").split("...")
    ]
    return {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": fill(dep["inputs"]),
        "state": fill(dep["state"]),
        "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"],
    }


def browser(width: int = 1920, height: int = 1080) -> webdriver.Chrome:
    options = Options()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(width, height)
    # Before any page script: record every Dash callback request, so tests wait on what the server answered.
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TRACKER})
    return driver


# Each Dash request: its output, the `hold` it carried (the panel the pointer holds still), when it was
# answered and whether the answer brought a new snapshot. `answers` keeps the last 1000, oldest first.
TRACKER = """
(function () {
  var t = window.__warroom = {seq: 0, pending: {}, answers: []};
  var original = window.fetch;
  window.fetch = function (input, init) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    if (url.indexOf("_dash-update-component") < 0) { return original.apply(this, arguments); }
    var body = {};
    try { body = JSON.parse((init && init.body) || "{}"); } catch (e) {}
    var hold = null;
    (body.state || []).forEach(function (s) { if (s.id === "hold" && s.property === "data") { hold = s.value; } });
    var req = {id: ++t.seq, output: body.output || "", hold: hold, sent: performance.now()};
    // A screen answer: the command center's, the wall's or the executive view's one request per tick.
    req.screen = /(^|\\.)(snap|wall|exec)-version\\.data/.test(req.output);
    t.pending[req.id] = req;
    var settle = function () { delete t.pending[req.id]; t.answers.push(req); if (t.answers.length > 1000) { t.answers.shift(); } };
    return original.apply(this, arguments).then(function (resp) {
      resp.clone().text().then(function (text) {
        req.status = resp.status;
        var timing = /app;dur=([0-9.]+)/.exec(resp.headers.get("Server-Timing") || "");
        req.server = timing ? parseFloat(timing[1]) : null;  // the server's own time (web/timing.py)
            req.fresh = resp.status === 200 && /"(snap|wall|exec)-version"/.test(text);
        req.done = performance.now();
        settle();
      }, settle);
      return resp;
    }, function (err) { settle(); throw err; });
  };
})();
"""


def open_page(driver, url: str, timeout: float = 60) -> None:
    """Load a page and wait until its route has rendered (the shell's first page is replaced by the route's)
    and a screen answer asked after that has brought a snapshot, so what tests find is what stays."""
    driver.get(url)
    wait(driver, timeout).until(
        lambda d: d.execute_script(
            """const t = window.__warroom; if (!t) return false;
            const route = t.answers.find(a => a.output.startsWith('page.children') && a.status === 200);
            return !!route && t.answers.some(a => a.screen && a.fresh && a.sent > route.done);"""
        )
    )


ANY = "*"


def fresh_answers(driver, hold: str | None = ANY) -> int:
    """Screen answers that brought a new snapshot so far; only those asked with `hold` unless it is ANY
    (None: asked with no panel held)."""
    return driver.execute_script(
        "const t = window.__warroom; return t.answers.filter(a => a.screen && a.fresh &&"
        " (arguments[0] === '*' || a.hold === arguments[0])).length",
        hold,
    )


def answers_to(driver, output: str) -> int:
    """Answers so far to callbacks whose output starts with `output` (e.g. '..card-context.data')."""
    return driver.execute_script(
        "return window.__warroom.answers.filter(a => a.output.startsWith(arguments[0])).length", output
    )


# A point of the panel that is really under the pointer there (not under the alert toast, which floats over
# the top right), as an offset from the panel's centre; null while the panel has no such point.
UNCOVERED_POINT = """
const panel = document.querySelector(arguments[0]); if (!panel) return null;
const r = panel.getBoundingClientRect();
for (let fy = 0.5; fy < 0.96; fy += 0.05) for (const fy2 of [fy, 1 - fy]) for (let fx = 0.5; fx < 0.96; fx += 0.1)
  for (const fx2 of [fx, 1 - fx]) {
    const x = r.left + r.width * fx2, y = r.top + r.height * fy2, hit = document.elementFromPoint(x, y);
    if (hit && panel.contains(hit)) return [Math.round(x - r.left - r.width / 2), Math.round(y - r.top - r.height / 2)];
  }
return null;"""


def hold_still(driver, css: str, hold: str, timeout: float = 60) -> None:
    """Point at a live panel like a person and wait until it is held still: every screen request still out
    carries the hold, and a new snapshot has been answered with it after the last one answered without it."""
    panel = f'[data-hold="{hold}"]'
    offset = wait(driver, timeout).until(lambda d: d.execute_script(UNCOVERED_POINT, panel))
    ActionChains(driver).move_to_element_with_offset(driver.find_element(By.CSS_SELECTOR, panel), *offset).perform()
    wait(driver, timeout).until(
        lambda d: d.execute_script(
            """const t = window.__warroom, hold = arguments[0];
            if (Object.values(t.pending).some(a => a.screen && a.hold !== hold)) return false;
            const last = t.answers.filter(a => a.screen && a.hold !== hold).map(a => a.done);
            const since = last.length ? Math.max(...last) : 0;
            return t.answers.some(a => a.screen && a.fresh && a.hold === hold && a.done > since);""",
            hold,
        )
    )


def wait_fresh_answers(driver, n: int, hold: str | None = ANY, timeout: float = 60) -> None:
    """Wait until `n` more new snapshots have been answered (asked with `hold`, unless ANY)."""
    start = fresh_answers(driver, hold)
    wait(driver, timeout).until(lambda d: fresh_answers(d, hold) >= start + n)


# The first match whose centre is not covered by something else (the alert toast), scrolled into view.
FIRST_UNCOVERED = """
const all = [...document.querySelectorAll(arguments[0])];
for (const el of all) {
  el.scrollIntoView({block: 'nearest'});
  const r = el.getBoundingClientRect(), hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (hit && el.contains(hit)) return el;
}
return null;"""


def drawer_open(driver, css: str) -> None:
    """The drawer `css` is open and has finished sliding in: `.show` comes at the start of the slide, while
    its fields are still off screen and a person (or send_keys) cannot type in them yet."""
    wait(driver).until(
        lambda d: d.execute_script(
            "const el = document.querySelector(arguments[0] + '.show'); if (!el) return false;"
            "const r = el.getBoundingClientRect();"
            "return r.width > 0 && r.left >= 0 && r.right <= innerWidth + 0.5 && !el.classList.contains('showing')",
            css,
        )
    )


def click(driver, css: str, attempts: int = 10) -> str:
    """A real click on the first match a person could click; returns the id of its row (alert, post or
    storyline). Found again if it was replaced or covered meanwhile (hold its panel first: `hold_still`)."""
    for attempt in range(attempts):
        try:
            button = wait(driver).until(lambda d: d.execute_script(FIRST_UNCOVERED, css))
            row_id = driver.execute_script(
                "const row = arguments[0].closest('[data-alert-id],[data-post-id],[data-story-id]');"
                "return row ? (row.dataset.alertId || row.dataset.postId || row.dataset.storyId) : '';",
                button,
            )
            button.click()
            return row_id
        except (StaleElementReferenceException, ElementClickInterceptedException):
            if attempt == attempts - 1:
                raise
    return ""


def sign_in(driver, stack: Stack, name: str = STRATEGIST, password: str = PASSWORD, next_path: str = "/") -> None:
    """Sign in through the real /login form, and wait until the server has sent the browser on."""
    driver.get(f"{stack.url}/login?next={next_path}")
    wait(driver).until(lambda d: d.find_elements(By.ID, "password"))
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver).until(lambda d: "/login" not in d.current_url)


def open_kiosk_link(driver, link: str) -> None:
    """Open a kiosk link on this browser and press "Make this the wall"."""
    driver.get(link)
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "button[type=submit]"))
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver).until(lambda d: d.current_url.rstrip("/").endswith("/wall"))


def retype(driver, element_id: str, value: str) -> None:
    """Replace what a field holds (framing suggests a card title) the way a person does: select all, type."""
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element(By.ID, element_id)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(value)


def wait(driver, timeout: float = 60) -> WebDriverWait:
    return WebDriverWait(driver, timeout, poll_frequency=0.1)


def count(driver, css: str) -> int:
    return driver.execute_script("return document.querySelectorAll(arguments[0]).length", css)


def text(driver, css: str) -> str:
    """innerText read in one step: live panels re-render, so element handles go stale."""
    return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", css)
