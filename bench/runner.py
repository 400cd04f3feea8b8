"""`cli.py bench [--only group ...]`: run benchmark groups in order, one JSON line per figure on stdout.

Logs go to stderr. A group that fails is reported on stderr and the others still run; the process then
exits non-zero.
"""

from __future__ import annotations

import importlib
import logging
import math
import sys
import time
import traceback

import orjson

logger = logging.getLogger(__name__)

# group name -> module with `run() -> list[dict]`
GROUPS = {
    "pipeline": "bench.pipeline_bench",
    "web": "bench.web_bench",
    "analytics": "bench.analytics_bench",
    "learning": "bench.learning_bench",
    "detection": "bench.detection_bench",
    "care": "bench.care_bench",
    "decision": "bench.decision_bench",
    "push": "bench.push_bench",
    "cluster": "bench.cluster_bench",
}


def _clean(value):
    """JSON has no NaN/inf: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def emit(result: dict, out=None) -> None:
    out = out or sys.stdout
    out.write(orjson.dumps(_clean(result)).decode() + "\n")
    out.flush()


def run_groups(names: list[str], out=None) -> list[str]:
    """Run each group, printing its figures as they come; returns the names of the groups that failed."""
    failed = []
    for name in names:
        if name not in GROUPS:
            sys.stderr.write(f"bench: unknown group {name!r} (known: {', '.join(GROUPS)})\n")
            failed.append(name)
            continue
        t0 = time.monotonic()
        logger.info("bench group %s: start", name)
        try:
            results = importlib.import_module(GROUPS[name]).run()
            for result in results:
                if not isinstance(result, dict) or "metric" not in result or "value" not in result:
                    raise ValueError(f"group {name} returned a malformed figure: {result!r}")
                emit(result, out)
        except Exception as exc:  # noqa: BLE001 - one failing group must not hide the others
            sys.stderr.write(f"bench: group {name} failed: {type(exc).__name__}: {exc}\n")
            traceback.print_exc(file=sys.stderr)
            failed.append(name)
        logger.info("bench group %s: %.1fs", name, time.monotonic() - t0)
    return failed


def main(settings=None, only: list[str] | None = None) -> None:
    """Entry point of `cli.py bench`; raises SystemExit(1) when a group failed."""
    names = list(only) if only else list(GROUPS)
    failed = run_groups(names)
    if failed:
        sys.stderr.write(f"bench: {len(failed)} group(s) failed: {', '.join(failed)}\n")
        raise SystemExit(1)
