"""Push benchmarks (issue 14.1): what 1, 200 and 1,000 pushed screens cost the web and push processes, how long a
snapshot takes to reach a real Chromium screen, and the post-to-screen freshness that gives.

Runs the real product (`cli.py up` with push on, the simulator at ~200 posts/s, tests/web/stack.py) and a load
client in its own process holding N real WebSocket connections, each signed in with a strategist's session
cookie and asking the strategists' screen question (the largest answer), counting every frame it gets. CPU is
user+system time of the web (`serve`) and `push` processes (psutil) over the phase. The screen figure watches
the snapshot version in Redis every 2 ms (when it was written) and reads, in two Chromium screens (the
command center and the wall), when each pushed answer was handed to Dash (assets/push.js `log`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import orjson
import psutil
import requests

from bench.pipeline_bench import figure, pct

logger = logging.getLogger(__name__)

SCREENS = int(os.environ.get("BENCH_PUSH_SCREENS", "1000"))
RATIO_SCREENS = 200
PHASE_S = float(os.environ.get("BENCH_PUSH_PHASE_S", "20"))
BROWSER_S = float(os.environ.get("BENCH_PUSH_BROWSER_S", "20"))
SIM_RATE = 130  # x the game's phase multiplier: ~200 posts/s, as the web bench
CTX = multiprocessing.get_context("spawn")
# The load client's sockets, a phase's last ones still closing and the Chromium screens all come from 127.0.0.1:
# the push server's per-address cap (500 by default) is raised above them for the stack this bench starts.
CAP_VAR, PER_ADDRESS = "WARROOM_PUSH_CONNECTIONS_PER_ADDRESS", 2 * SCREENS + 100


# The load client (its own process: its CPU is not the servers') ---------------------------------------------


def _load_main(url: str, cookie: str, body: dict, n: int, duration_s: float, go, out) -> None:
    from websockets.asyncio.client import connect

    async def main():
        frames = [0] * n
        nbytes = [0] * n
        versions: list[set] = [set() for _ in range(n)]
        counting = asyncio.Event()
        sockets = []
        gate = asyncio.Semaphore(50)

        async def opened(i):
            async with gate:
                ws = await connect(url, additional_headers={"Cookie": cookie}, open_timeout=60, max_size=None)
            await ws.send(orjson.dumps({"n": 1, "q": body}).decode())
            sockets.append(ws)
            return ws

        async def read(i, ws):
            async for msg in ws:
                if isinstance(msg, bytes) and counting.is_set():
                    frames[i] += 1
                    nbytes[i] += len(msg)
                    versions[i].add(int(msg[: msg.index(b" ")]))

        conns = await asyncio.gather(*(opened(i) for i in range(n)))
        readers = [asyncio.ensure_future(read(i, ws)) for i, ws in enumerate(conns)]
        out.put("ready")
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        counting.set()
        await asyncio.sleep(duration_s)
        counting.clear()
        all_versions = set().union(*versions)
        out.put({"frames": sum(frames), "bytes": sum(nbytes), "versions": len(all_versions), "screens": n})
        for r in readers:
            r.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

    asyncio.run(main())


def _question(session: requests.Session, base: str) -> dict:
    """The strategists' screen callback request, as Dash's renderer sends it."""
    from layouts import ids
    from tests.web.stack import screen_question

    values = {ids.TICK: 1, ids.URL: "/", ids.FEED_SOURCE: "all", ids.FEED_MIN_SCORE: 0, ids.CARDS_VERSION: -1}
    return screen_question(session, base, ids.SNAP_VERSION, values)


def _cpu(procs: list[psutil.Process]) -> list[float]:
    return [p.cpu_times().user + p.cpu_times().system for p in procs]


def _phase(stack, cookie: str, body: dict, n: int) -> dict:
    """n pushed screens for PHASE_S: CPU of the web and push processes, frames received."""
    url = f"ws://127.0.0.1:{stack.push_port}/push"
    go, out = CTX.Event(), CTX.Queue()
    client = CTX.Process(target=_load_main, args=(url, cookie, body, n, PHASE_S, go, out), daemon=True)
    client.start()
    try:
        if out.get(timeout=180) != "ready":
            raise RuntimeError("the load client did not connect")
        time.sleep(2.0)  # every socket has its first answer and its group before the clock starts
        procs = [stack.child("serve"), stack.child("push")]
        c0, w0 = _cpu(procs), time.monotonic()
        go.set()
        result = out.get(timeout=PHASE_S + 120)
        c1, w1 = _cpu(procs), time.monotonic()
    finally:
        client.join(30)
        if client.is_alive():
            client.kill()
    web_s, push_s = c1[0] - c0[0], c1[1] - c0[1]
    result.update(web_cpu_s=web_s, push_cpu_s=push_s, wall_s=w1 - w0)
    logger.info(
        "%d pushed screens: web %.2f + push %.2f CPU-s over %.1fs, %d frames (%d versions), %.1f MB",
        n,
        web_s,
        push_s,
        w1 - w0,
        result["frames"],
        result["versions"],
        result["bytes"] / 1e6,
    )
    return result


# Real screens ------------------------------------------------------------------------------------------------


def _watch_versions(r, keys, stop: threading.Event, written: dict) -> None:
    from store import snapshot

    last = None
    while not stop.is_set():
        v = snapshot.version(r, keys)
        if v != last:
            written.setdefault(v, time.time())
            last = v
        time.sleep(0.002)


def _screen_delays(stack, session: requests.Session, paths: tuple[str, ...]) -> dict[str, list[dict]]:
    """Per page, each new snapshot's seconds from written to handed to Dash (`handed`; by push: also to its bytes
    arriving, `arrived`; `polled` when the screen asked the web for it), in real Chromium screens of those pages
    open together. A page with ?push=0 polls as without push."""
    from tests.web.stack import browser, wait

    r, keys = stack.store()
    written: dict[int, float] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_versions, args=(r, keys, stop, written), daemon=True)
    drivers = []
    try:
        for path in paths:
            d = browser()
            drivers.append(d)
            d.get(f"{stack.url}/login")
            for c in session.cookies:
                d.add_cookie({"name": c.name, "value": c.value, "path": "/"})
            d.get(f"{stack.url}{path}")
            wait(d, 60).until(lambda dr: dr.execute_script("return !!window.__warroomPush"))
            d.execute_script("window.__warroomPush.logging = true")
            wait(d, 120).until(
                lambda dr: dr.execute_script("const p = window.__warroomPush; return p && p.log.length > 1")
            )
            d.execute_script("window.__warroomPush.log = []")
        watcher.start()
        time.sleep(BROWSER_S)  # the screens run by themselves; this is the measuring window
        logs = [d.execute_script("return window.__warroomPush.log") for d in drivers]
    finally:
        stop.set()
        for d in drivers:
            d.quit()
        r.close()
    return {
        path: [
            {
                "handed": e["handed"] / 1000 - written[e["v"]],
                "arrived": e["got"] / 1000 - written[e["v"]] if "got" in e else None,
                "polled": bool(e.get("polled")),
            }
            for e in log
            if e["v"] in written
        ]
        for path, log in zip(paths, logs, strict=True)
    }


@contextlib.contextmanager
def _env(name: str, value: str):
    """`name` set in the environment the stack's `up` (and so its push process) inherits, only meanwhile."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def run() -> list[dict]:
    from bench import pipeline_bench
    from tests.web.stack import Stack, event_file, signed_in

    if not pipeline_bench.LATENCIES:  # run alone: measure post-to-snapshot at 1,000/s first (the pipeline group does)
        pipeline_bench.freshness_run(1000, pipeline_bench.FRESHNESS_WARMUP_S, pipeline_bench.FRESHNESS_MEASURE_S)
    tmp = Path(tempfile.mkdtemp(prefix="warroom-push-bench-"))
    stack = None
    try:
        with _env(CAP_VAR, str(PER_ADDRESS)):
            stack = Stack(tmp / "var", event_file(tmp, rate=SIM_RATE), push=True).start(timeout=180)
        session = signed_in(stack.url, "sam")
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        body = _question(session, stack.url)
        phases = {n: _phase(stack, cookie, body, n) for n in (1, RATIO_SCREENS, SCREENS)}
        # The room's screens together (what a thousand open screens mostly are), then a strategist's page alone;
        # each pushed, then polling (?push=0) for comparison on the same stack.
        delays = {}
        for pages in (("/wall", "/exec"), ("/wall?push=0", "/exec?push=0"), ("/",), ("/?push=0",)):
            delays |= _screen_delays(stack, session, pages)
    finally:
        if stack is not None:
            stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return figures(phases, delays, pipeline_bench.LATENCIES)


def figures(phases: dict[int, dict], screens: dict[str, list], latencies: dict[int, dict]) -> list[dict]:
    def cpu(n):
        return phases[n]["web_cpu_s"] + phases[n]["push_cpu_s"]

    def detail(n):
        p = phases[n]
        return {
            f"web_cpu_s_{n}": round(p["web_cpu_s"], 2),
            f"push_cpu_s_{n}": round(p["push_cpu_s"], 2),
            f"frames_{n}": p["frames"],
            f"versions_{n}": p["versions"],
            f"missed_{n}": p["versions"] * n - p["frames"],
            f"mb_{n}": round(p["bytes"] / 1e6, 1),
        }

    big = phases[SCREENS]
    out = [
        figure(
            f"viewers_{SCREENS}_cpu_cores",
            round(cpu(SCREENS) / big["wall_s"], 3),
            "cores",
            target_max=0.25,
            phase_s=round(big["wall_s"], 1),
            runs=1,
            what="web + push process CPU over the phase / its length, every screen a real WebSocket",
            **detail(SCREENS),
        ),
        figure(
            f"viewers_{RATIO_SCREENS}_cpu_ratio",
            round(cpu(RATIO_SCREENS) / max(cpu(1), 1e-9), 2),
            "x",
            target_max=2,
            runs=1,
            **detail(1),
            **detail(RATIO_SCREENS),
        ),
    ]
    delays = [e["handed"] for path in ("/wall", "/exec") for e in screens.get(path, [])]  # the room's screens
    for name, pages in (
        ("screen_push_p95_s", ("/wall", "/exec")),
        ("screen_poll_p95_s", ("/wall?push=0", "/exec?push=0")),
        ("screen_push_p95_s_command_center", ("/",)),
        ("screen_poll_p95_s_command_center", ("/?push=0",)),
    ):
        seen = [e for p in pages for e in screens.get(p, [])]
        if not seen:
            continue
        handed = [e["handed"] for e in seen]
        arrived = [e["arrived"] for e in seen if e["arrived"] is not None]
        out.append(
            figure(
                name,
                round(pct(handed, 95), 3),
                "s",
                target_max=0.15 if "push" in name else None,
                p50=round(pct(handed, 50), 3),
                max=round(max(handed), 3),
                arrived_p95=round(pct(arrived, 95), 3) if arrived else None,
                by_push=sum(not e["polled"] for e in seen),
                by_poll=sum(e["polled"] for e in seen),
                pages=list(pages),
                runs=1,
                what="snapshot version written (seen in Redis every 2 ms) -> its answer handed to Dash in Chromium"
                " (arrived: its bytes reached the page)",
            )
        )
    for rate, sample in sorted(latencies.items()):
        if not delays or not sample["latencies"]:
            continue
        rng = random.Random(7)
        total = [x + rng.choice(delays) for x in sample["latencies"]]
        out.append(
            figure(
                f"freshness_p95_s_at_{rate}_screen",
                round(pct(total, 95), 3),
                "s",
                target_max=0.6,
                rate_achieved=sample["achieved"],
                samples=len(total),
                runs=1,
                model="post XADD -> snapshot (measured at this rate) + snapshot -> the wall or exec view in Chromium "
                "by push (measured), paired at random",
                median_push_s=round(statistics.median(delays), 3),
            )
        )
    return out
