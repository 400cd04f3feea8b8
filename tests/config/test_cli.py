"""`cli.py` turns a bad start into one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta

from config.settings import ROOT

CLI = [sys.executable, str(ROOT / "cli.py")]


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "WARROOM_ALERT_WEBHOOK_URL"} | env
    return subprocess.run(CLI + args, env=environ, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def test_aggregate_with_a_malformed_webhook_url_exits_2_at_once(redis_url):
    done = run(["aggregate"], REDIS_URL=redis_url, WARROOM_ALERT_WEBHOOK_URL="hooks.slack.com/services/T/B/XYZ")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "WARROOM_ALERT_WEBHOOK_URL" in lines[0], done.stderr
    assert "XYZ" not in done.stderr, "the URL is a secret"


def test_detect_on_a_missing_file_exits_2_with_one_line(tmp_path):
    missing = tmp_path / "nope.csv"
    done = run(["detect", str(missing)])
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0] and "Traceback" not in done.stderr, done.stderr


def test_detect_on_a_csv_without_the_columns_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("when,count\n2015-02-26 21:42:53,10\n")
    done = run(["detect", str(bad)])
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_detect_still_writes_one_json_line_per_alert(tmp_path):
    csv = tmp_path / "ok.csv"
    t0 = datetime(
        2015, 2, 26
    )  # five-minute points like NAB's; a burst at points 500-501 (after the 12 h warm-up; confirmed on the second)
    rows = [
        f"{t0 + timedelta(minutes=5 * i):%Y-%m-%d %H:%M:%S},{500 if i in (500, 501) else 10 + i * 7 % 5}"
        for i in range(600)
    ]
    csv.write_text("timestamp,value\n" + "\n".join(rows) + "\n")
    done = run(["detect", str(csv)])
    assert done.returncode == 0 and done.stderr == ""
    assert any('"kind":"spike"' in line and "2015-02-27 17:45:00" in line for line in done.stdout.splitlines()), (
        done.stdout
    )
