"""Web benchmarks: server CPU of 200 open dashboards vs 1, and card propagation to a second screen.

Runs the real stack as subprocesses of `cli.py` (simulate, process, aggregate, serve) against a private
embedded Valkey, then plays viewers: the same Dash callback requests a browser sends each second
(POST /_dash-update-component), built from the app's own /_dash-dependencies, signed in as one strategist
through the real /login form (every screen sends that session's cookie and CSRF header; the screen cache
shares answers per role set, so this is what a room of strategists' screens costs). CPU is the web server
process's user+system time (psutil).
"""

from __future__ import annotations

import logging
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import psutil
import requests

from bench.pipeline_bench import ROOT, figure, pct, temp_server
from layouts import ids
from layouts.command_center import TICK_MS

logger = logging.getLogger(__name__)

SIM_RATE = float(os.environ.get("BENCH_WEB_SIM_RATE", "130"))  # x the game's phase multiplier: ~200 posts/s
PHASE_S = float(os.environ.get("BENCH_WEB_PHASE_S", "20"))
VIEWERS = int(os.environ.get("BENCH_WEB_VIEWERS", "200"))
CARD_SAMPLES = int(os.environ.get("BENCH_WEB_CARD_SAMPLES", "15"))
CLIENT_THREADS = 48
TICK_S = TICK_MS / 1000  # dcc.Interval(id=ids.TICK, interval=TICK_MS)
PATHNAME = "/"  # the strategists' page
BENCH_USER, BENCH_PASSWORD = "bench", "bench screens password"  # a strategist every simulated screen signs in as


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """simulate + process + aggregate + serve, as `make run` starts them, on a private server."""

    def __init__(self, url: str, workdir: Path):
        self.port = _free_port()
        self.env = {
            **os.environ,
            "REDIS_URL": url,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "WARROOM_VAR": str(workdir),
            "LOG_LEVEL": os.environ.get("BENCH_CHILD_LOG", "WARNING"),
        }
        self.procs: dict[str, subprocess.Popen] = {}
        self.base = f"http://127.0.0.1:{self.port}"
        self.session: requests.Session | None = None  # signed in as BENCH_USER; screens copy its cookies

    def people(self) -> None:
        """The strategist the screens sign in as, made in the store as `cli.py users add` would."""
        from auth.identity import cli_actor
        from config.settings import load_settings
        from store import users
        from store.keys import Keys
        from store.server import connect

        r = connect(self.env["REDIS_URL"])
        try:
            keys = Keys.of(load_settings(self.env).event)
            if users.get(r, keys, BENCH_USER) is None:
                users.create(r, keys, BENCH_USER, ["strategist"], actor=cli_actor(), password=BENCH_PASSWORD)
        finally:
            r.close()

    def sign_in(self) -> requests.Session:
        """A browser's session: the real /login form; Dash's renderer sends the CSRF cookie back as a header."""
        from tests.web.stack import signed_in

        return signed_in(self.base, BENCH_USER, BENCH_PASSWORD)

    def start(self) -> Stack:
        self.people()
        for name, args in (
            ("simulate", ["simulate", "--rate", str(SIM_RATE)]),
            ("process", ["process"]),
            ("aggregate", ["aggregate"]),
            ("serve", ["serve"]),
        ):
            self.procs[name] = subprocess.Popen(
                [sys.executable, str(ROOT / "cli.py"), *args],
                env=self.env,
                cwd=ROOT,
                stdout=sys.stderr,
                stderr=sys.stderr,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise RuntimeError(f"`cli.py {name}` exited with {p.returncode}")
            try:
                self.session = self.session or self.sign_in()
                if self.session.get(self.base + "/api/snapshot", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("the web server did not serve a snapshot within 60 s")

    @property
    def web(self) -> psutil.Process:
        return psutil.Process(self.procs["serve"].pid)

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


# The browser's requests ------------------------------------------------------------------------------------


def _outputs(output: str) -> list[dict] | dict:
    if output.startswith(".."):
        parts = output[2:-2].split("...")
        return [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    cid, prop = output.rsplit(".", 1)
    return {"id": cid, "property": prop}


class Callbacks:
    """The per-second callbacks of a strategist's screen, from the app's /_dash-dependencies."""

    def __init__(self, base: str, session: requests.Session):
        self.signed_in = session
        deps = session.get(base + "/_dash-dependencies", timeout=10).json()

        def find(first_output: str, first_input: str) -> dict:
            for d in deps:
                if d.get("clientside_function"):
                    continue
                outs = _outputs(d["output"])
                first = outs[0] if isinstance(outs, list) else outs
                if f"{first['id']}.{first['property']}" == first_output and d["inputs"][0]["id"] == first_input:
                    return d
            raise LookupError(f"no callback with output {first_output} and input {first_input}")

        # One request per tick per screen (callbacks/live.py `screen`): freshness, and every panel when
        # the snapshot is new.
        self.screen = find(f"{ids.SNAP_VERSION}.data", ids.TICK)
        self.url = base + "/_dash-update-component"

    @staticmethod
    def body(dep: dict, values: dict, changed: str) -> bytes:
        def fill(items):
            return [
                {"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                for i in items
            ]

        return orjson.dumps(
            {
                "output": dep["output"],
                "outputs": _outputs(dep["output"]),
                "inputs": fill(dep["inputs"]),
                "state": fill(dep.get("state", [])),
                "changedPropIds": [changed],
            }
        )


class Viewer:
    """One open dashboard: each second the heartbeat and cards callbacks; on a new version, the panels."""

    def __init__(self, cbs: Callbacks, session: requests.Session | None = None):
        self.cbs = cbs
        # Viewers of one client thread share a keep-alive connection: waitress's default connection_limit
        # (100) would otherwise refuse the 101st screen (see docs/benchmarks.md).
        self.session = session or signed_in_copy(cbs.signed_in)
        self.values = {
            f"{ids.TICK}.n_intervals": 0,
            f"{ids.SNAP_VERSION}.data": 0,
            f"{ids.CARDS_VERSION}.data": -1,
            f"{ids.URL}.pathname": PATHNAME,
            f"{ids.FEED_SOURCE}.value": "all",
            f"{ids.FEED_MIN_SCORE}.value": 0,
            f"{ids.HOLD}.data": None,
            f"{ids.FOCUS}.data": None,
        }
        self.requests = 0
        self.errors = 0
        self.bytes = 0

    def _post(self, dep: dict, changed: str) -> dict:
        try:
            resp = self.session.post(
                self.cbs.url,
                data=self.cbs.body(dep, self.values, changed),
                headers={"Content-Type": "application/json"},
                timeout=30,
            )
        except requests.RequestException as exc:
            self.errors += 1
            logger.warning("viewer request failed: %s", type(exc).__name__)
            return {}
        self.requests += 1
        self.bytes += len(resp.content)
        if resp.status_code == 204:  # every output no_update
            return {}
        if resp.status_code != 200:
            self.errors += 1
            return {}
        return resp.json().get("response", {})

    def tick(self) -> dict:
        """One interval tick; returns the screen callback's response."""
        self.values[f"{ids.TICK}.n_intervals"] += 1
        screen = self._post(self.cbs.screen, f"{ids.TICK}.n_intervals")
        if (v := screen.get(ids.SNAP_VERSION, {}).get("data")) is not None:
            self.values[f"{ids.SNAP_VERSION}.data"] = v
        if (v := screen.get(ids.CARDS_VERSION, {}).get("data")) is not None:
            self.values[f"{ids.CARDS_VERSION}.data"] = v
        return screen


def signed_in_copy(session: requests.Session) -> requests.Session:
    """Another connection of the same signed-in browser session (its cookies and CSRF header)."""
    copy = requests.Session()
    copy.cookies.update(session.cookies)
    copy.headers.update({"X-CSRFToken": session.headers["X-CSRFToken"]})
    return copy


def play(cbs: Callbacks, n: int, duration_s: float) -> dict:
    """`n` viewers ticking once a second for `duration_s`, spread over the second like real screens."""
    threads = min(CLIENT_THREADS, n)
    sessions = [signed_in_copy(cbs.signed_in) for _ in range(threads)]
    viewers = [Viewer(cbs, sessions[i % threads]) for i in range(n)]
    with ThreadPoolExecutor(threads) as pool:  # first render, outside the measurement
        list(pool.map(lambda i: [v.tick() for v in viewers[i::threads]], range(threads)))
    stop = time.monotonic() + duration_s
    late = [0]
    ticks = [0]
    lock = threading.Lock()

    def loop(group: list[tuple[float, Viewer]]) -> None:
        k = 0
        start = time.monotonic()
        while True:
            for phase, v in group:
                due = start + k * TICK_S + phase
                if due >= stop:
                    return
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                elif wait < -TICK_S:
                    with lock:
                        late[0] += 1
                    continue  # a screen whose request is this late just misses a tick
                v.tick()
                with lock:
                    ticks[0] += 1
            k += 1

    rng = random.Random(n)
    groups = [
        sorted(((rng.random() * TICK_S, v) for v in viewers[i::threads]), key=lambda x: x[0]) for i in range(threads)
    ]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(loop, groups))
    return {
        "ticks": ticks[0],
        "missed": late[0],
        "requests": sum(v.requests for v in viewers),
        "errors": sum(v.errors for v in viewers),
        "mb": sum(v.bytes for v in viewers) / 1e6,
    }


def cpu_of(proc: psutil.Process, fn):
    t = proc.cpu_times()
    c0, w0 = t.user + t.system, time.monotonic()
    result = fn()
    t = proc.cpu_times()
    return (t.user + t.system) - c0, time.monotonic() - w0, result


def viewer_figures(stack: Stack, cbs: Callbacks) -> list[dict]:
    web = stack.web
    idle_cpu, idle_wall, _ = cpu_of(web, lambda: time.sleep(PHASE_S))
    phases = {}
    for n in (1, VIEWERS):
        cpu, wall, res = cpu_of(web, lambda n=n: play(cbs, n, PHASE_S))
        phases[n] = (cpu, wall, res)
        logger.info(
            "%d viewer(s): web CPU %.2fs over %.1fs, %d ticks (%d missed), %d requests (%d errors), %.1f MB",
            n,
            cpu,
            wall,
            res["ticks"],
            res["missed"],
            res["requests"],
            res["errors"],
            res["mb"],
        )
    (c1, _w1, r1), (cn, wn, rn) = phases[1], phases[VIEWERS]
    per_viewer_s_ms = (cn / wn - idle_cpu / idle_wall) / max(1e-9, rn["ticks"] / wn) * 1000
    common = {
        "viewers": VIEWERS,
        "phase_s": PHASE_S,
        "runs": 1,
        "sim_rate_posts_per_s": SIM_RATE,
        "cpu_s_idle": round(idle_cpu, 2),
        "cpu_s_1": round(c1, 2),
        f"cpu_s_{VIEWERS}": round(cn, 2),
        "ticks_1": r1["ticks"],
        f"ticks_{VIEWERS}": rn["ticks"],
        f"missed_ticks_{VIEWERS}": rn["missed"],
        f"requests_{VIEWERS}": rn["requests"],
        f"errors_{VIEWERS}": rn["errors"],
        f"mb_sent_{VIEWERS}": round(rn["mb"], 1),
    }
    return [
        figure(f"viewers_{VIEWERS}_cpu_ratio", round(cn / max(c1, 1e-9), 1), "x", **common),
        figure(
            "viewer_cpu_ms_per_viewer_second",
            round(per_viewer_s_ms, 2),
            "ms",
            **common,
            model="(web CPU/s at N viewers - idle CPU/s) / viewer-ticks per s",
        ),
        figure(f"viewers_{VIEWERS}_web_cpu_cores", round(cn / wn, 2), "cores", **common),
    ]


def card_figures(stack: Stack, cbs: Callbacks) -> list[dict]:
    from callbacks.framing import new_card
    from config.settings import load_settings
    from layouts.framing import PRIORITIES, STATUSES, TYPES
    from store import audit
    from store import cards as card_store
    from store.keys import Keys
    from store.server import connect

    settings = load_settings(stack.env)
    r, keys = connect(stack.env["REDIS_URL"]), Keys.of(settings.event)
    viewer = Viewer(cbs)
    viewer.tick()
    waits: list[float] = []
    rng = random.Random(3)
    for i in range(CARD_SAMPLES):
        next_tick = time.monotonic() + TICK_S
        save_at = time.monotonic() + rng.random() * TICK_S
        saved = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            now = time.monotonic()
            if saved is None and now >= save_at:
                card = new_card(
                    f"bench card {i}", "propagation probe", TYPES[0], PRIORITIES[2][0], "bench", STATUSES[0], None
                )
                t_save = time.time()
                saved = card_store.save(r, keys, card, audit.entry("bench", "card.create", "card", ""))
                continue
            if now >= next_tick:
                next_tick += TICK_S
                response = viewer.tick()
                if saved is not None and saved["id"].encode() in orjson.dumps(response):
                    waits.append(time.time() - t_save)
                    break
            time.sleep(max(0.0, min(next_tick, save_at if saved is None else next_tick) - time.monotonic()))
        else:
            raise RuntimeError(f"card {i} never reached the second screen")
    logger.info("card propagation: %s", [round(w, 3) for w in waits])
    common = {
        "samples": len(waits),
        "poll_interval_s": TICK_S,
        "runs": 1,
        "p50": round(pct(waits, 50), 3),
        "max": round(max(waits), 3),
        "mean": round(statistics.mean(waits), 3),
    }
    return [
        figure(
            "card_propagation_p95_s",
            round(pct(waits, 95), 3),
            "s",
            **common,
            what="store.cards.save (with WAITAOF) returns -> a second screen's cards callback returns the card",
        )
    ]


def run() -> list[dict]:
    with temp_server() as url, tempfile.TemporaryDirectory(prefix="warroom-web-bench-") as work:
        stack = Stack(url, Path(work)).start()
        try:
            cbs = Callbacks(stack.base, stack.session)
            out = card_figures(stack, cbs)
            out = viewer_figures(stack, cbs) + out
        finally:
            stack.stop()
    return out
