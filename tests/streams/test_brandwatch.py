"""The real-shaped, low-rate recording (data/scenarios/brandwatch.jsonl, ~3 posts/s) through the real pipeline:
sources' normalisation, a real Processor and the Aggregator's tick on the embedded Valkey, second by second.

What a strategist needs from it: the moments trend, the blackout spikes, the sentiment line shows and the
backlash is an alert, the rival's ad is a storyline, real fans' app shares are not spam, the feed stopping is a dip.
"""

from __future__ import annotations

import dataclasses
import time

import orjson
import pytest

from config.settings import ROOT, load_settings
from model.post import source_post
from store import posts as post_store
from store.keys import Keys
from store.server import connect
from streams import brandwatch
from streams.aggregator import Aggregator
from streams.processor import Processor

FIXTURE = ROOT / "data" / "scenarios" / "brandwatch.jsonl"


def test_the_shipped_recording_is_what_the_generator_makes():
    lines = FIXTURE.read_bytes().splitlines()
    assert [orjson.loads(x) for x in lines] == [orjson.loads(orjson.dumps(p)) for p in brandwatch.posts()]


@pytest.fixture(scope="module")
def run(redis_server):
    """Play the recording second by second; keep every snapshot and the posts as the processor saw them."""
    r, keys = connect(redis_server.url), Keys("brandwatch-test")
    r.flushall()
    settings = load_settings({"WARROOM_EVENT": str(ROOT / "config" / "brandwatch.yaml")})
    raw = [orjson.loads(x) for x in FIXTURE.read_bytes().splitlines()]
    t0 = int(time.time()) - brandwatch.DURATION_S - 30
    t0 -= t0 % 5
    by_sec: dict[int, list[dict]] = {}
    for p in raw:
        offset = p["created_at"] - brandwatch.START
        at = t0 + offset
        post = source_post({**p, "created_at": at}).model_dump(mode="json", exclude_none=True)
        post["received_at"] = at
        by_sec.setdefault(int(offset), []).append(post)
    post_store.ensure_group(r, keys)
    proc = Processor(settings, r, keys, consumer="bw")
    agg = Aggregator(settings, r, keys)
    snaps, seen = [], {}
    for sec in range(brandwatch.DURATION_S + 20):
        now = t0 + sec + 1.0
        if batch := by_sec.get(sec):
            post_store.append_dicts(r, keys, batch, now=now)
            while entries := post_store.read_batch(r, keys, "bw", 500, 10):
                proc.handle(entries, now=now)
        snap = agg.tick(now)
        snaps.append((sec + 1.0, snap))
    for p in r.hvals(keys.bodies):
        body = orjson.loads(p)
        seen[body["id"]] = body
    r.flushall()
    r.close()
    return dataclasses.make_dataclass("Run", ["snaps", "bodies", "settings"])(snaps, seen, settings)


def _first(run, since: float, until: float, pred) -> float | None:
    return next((t for t, s in run.snaps if since <= t <= until and pred(s)), None)


def test_the_blackout_trends_within_ten_seconds(run):
    b0, b1 = brandwatch.MOMENTS["blackout"]
    at = _first(run, b0, b1, lambda s: s["trending"] and s["trending"][0]["term"] in ("blackout", "lights", "stadium"))
    assert at is not None and at - b0 <= 10, [s["trending"][:3] for t, s in run.snaps if b0 <= t <= b0 + 12]


def test_the_rivals_ad_trends_and_becomes_a_storyline(run):
    r0, r1 = brandwatch.MOMENTS["rival_ad"]
    terms = {"robot", "cookie robot", "chips ahoy", "chips", "ahoy", "chipsahoy"}
    assert _first(run, r0, r1 + 10, lambda s: any(t["term"] in terms for t in s["trending"])) is not None
    last = run.snaps[-1][1]
    assert any(line.get("series") == "Chips Ahoy" for line in last["storylines"]), last["storylines"]


def test_the_blackout_is_a_spike_alert(run):
    b0, _ = brandwatch.MOMENTS["blackout"]
    alerts = {a["id"]: a for _, s in run.snaps for a in s["alerts"]}.values()
    spikes = [a for a in alerts if a["kind"] == "spike" and a["subject"] in ("Blackout", "all")]
    assert spikes, "no spike on the blackout"
    first = min(spikes, key=lambda a: a["raised_at"])
    t0 = run.snaps[0][1]["built_at"] - 1.0
    assert 0 <= first["raised_at"] - (t0 + b0) <= 15
    assert first["why"]["terms"] and first["why"]["sources"]


def test_the_sentiment_line_shows_and_the_backlash_alerts(run):
    last = run.snaps[-1][1]
    line = last["sentiment"]["series"]["Oreo"]
    assert sum(v is not None for v in line) >= 6, line  # bins on ~0.4 brand posts/s
    alerts = {a["id"]: a for _, s in run.snaps for a in s["alerts"]}.values()
    drops = [a for a in alerts if a["kind"] == "sentiment_drop" and a["subject"] == "Oreo"]
    t0 = run.snaps[0][1]["built_at"] - 1.0
    k0, k1 = brandwatch.MOMENTS["backlash"]
    assert drops and all(t0 + k0 <= a["at"] <= t0 + k1 + 60 for a in drops)


def test_real_fans_app_shares_are_not_spam_and_cjk_counts_for_the_brand(run):
    shares = [b for b in run.bodies.values() if "winning #SB49" in b["text"]]
    assert shares and all("copy-paste" not in " ".join(b["reasons"]) for b in shares)
    cjk = [b for b in run.bodies.values() if "奥利奥" in b["text"] or "オレオ" in b["text"]]
    assert cjk and all("Oreo" in b["series"] for b in cjk)
    assert not [b for b in run.bodies.values() if "&amp;" in b["text"] or "&gt;" in b["text"]]


def test_the_feed_stopping_is_a_dip_on_all_posts(run):
    alerts = {a["id"]: a for _, s in run.snaps for a in s["alerts"]}.values()
    t0 = run.snaps[0][1]["built_at"] - 1.0
    s0, _ = brandwatch.MOMENTS["feed_stops"]
    dips = [a for a in alerts if a["kind"] == "dip" and a["subject"] == "all"]
    assert dips and all(a["at"] >= t0 + s0 for a in dips)
