"""What one live page costs its browser: Dash store actions, script time and the web's answer time.

`.venv/bin/python -m bench.page_profile [PATH] [SECONDS]` (default `/`, 10 s): starts the stack on the simulated
event (as the push bench, ~200 posts/s), opens PATH in headless Chromium as a strategist and, over the window,
counts the page's Redux store notifications and top-level actions by type (Dash 4 runs every mounted component's
selector on each), reads Chrome's script and task time (CDP Performance metrics), and, with `?push=0`, the web's
own time per screen answer (its Server-Timing). Prints one JSON object. Docs: benchmarks.md, "The strategists' page".
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

COUNT = """window.__pp = {notes: 0, types: {}}; var S = window.dash_stores[0];
S.subscribe(function () { window.__pp.notes++; });
var D = S.dispatch; S.dispatch = function (a) {
  var t = (a && a.type) || typeof a; window.__pp.types[t] = (window.__pp.types[t] || 0) + 1; return D.apply(this, arguments);
};"""


def _metrics(d) -> dict:
    return {m["name"]: m["value"] for m in d.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}


def main(argv: list[str]) -> None:
    from bench import push_bench
    from tests.web.stack import Stack, browser, event_file, signed_in, wait

    path = next((a for a in argv if a.startswith("/")), "/")
    window = float(next((a for a in argv if a.replace(".", "").isdigit()), "10"))
    tmp = Path(tempfile.mkdtemp(prefix="warroom-page-profile-"))
    stack = Stack(tmp / "var", event_file(tmp, rate=push_bench.SIM_RATE)).start(timeout=180)
    d = None
    try:
        session = signed_in(stack.url, "sam")
        d = browser()
        d.get(f"{stack.url}/login")
        for c in session.cookies:
            d.add_cookie({"name": c.name, "value": c.value, "path": "/"})
        d.get(f"{stack.url}{path}{'&' if '?' in path else '?'}push=0")
        wait(d, 120).until(
            lambda dr: dr.execute_script(
                "return !!window.dash_stores && window.__warroom.answers.filter(a => a.screen && a.fresh).length > 3"
            )
        )
        d.execute_cdp_cmd("Performance.enable", {})
        before = _metrics(d)
        d.execute_script(COUNT + "window.__warroom.answers = [];")
        time.sleep(window)
        after = _metrics(d)
        counted = d.execute_script("return window.__pp")
        answers = d.execute_script(
            "return window.__warroom.answers.filter(a => a.screen && a.fresh && a.server !== null).map(a => a.server)"
        )
        served = sorted(answers)
        out = {
            "path": path,
            "window_s": window,
            "store_notifications": counted["notes"],
            "actions": dict(sorted(counted["types"].items(), key=lambda kv: -kv[1])),
            "script_s": round(after["ScriptDuration"] - before["ScriptDuration"], 2),
            "task_s": round(after["TaskDuration"] - before["TaskDuration"], 2),
            "dom_nodes": int(after["Nodes"]),
            "answers": len(served),
            "web_answer_ms_p50": round(served[len(served) // 2], 1) if served else None,
            "web_answer_ms_p95": round(served[int(len(served) * 0.95)], 1) if served else None,
        }
        print(json.dumps(out))
    finally:
        if d is not None:
            d.quit()
        stack.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
