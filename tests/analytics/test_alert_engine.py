"""The alert engine on low-rate series: counts per bin, the whole stream, per-rule sensitivity, the reasons."""

from __future__ import annotations

import numpy as np

from analytics.alerts import ALL, AlertBook, AlertEngine
from config.settings import ROOT, AlertRule, load_event

T0 = 1_700_000_000  # a multiple of 5


def engine(**rules) -> AlertEngine:
    event = load_event(ROOT / "config" / "superbowl.yaml")
    if rules:
        alerts = event.alerts.model_copy(update={"rules": {k: AlertRule(**v) for k, v in rules.items()}})
        event = event.model_copy(update={"alerts": alerts})
    return AlertEngine(event, AlertBook(event.alerts.cooldown_s))


def window_of(per_second: dict[str, list[int]], start: int = T0) -> dict:
    return {name: {start + i: n for i, n in enumerate(counts) if n} for name, counts in per_second.items()}


def low_rate(seconds: int, per_5s: float, seed: int = 1) -> list[int]:
    """Poisson posts per second at `per_5s` posts per 5 s."""
    return list(np.random.default_rng(seed).poisson(per_5s / 5.0, seconds))


def run(eng: AlertEngine, window: dict, seconds: int, **kw) -> list[dict]:
    out = []
    for now in range(T0 + 1, T0 + seconds + 2):
        out += eng.volume(window, float(now), **kw)
    return out


def test_a_burst_of_15_posts_after_1_per_5s_is_a_spike():
    """The issue's case: z 2.1 when fed as posts per second, 5.5 as counts per bin."""
    quiet = [1 if i % 5 == 0 else 0 for i in range(300)]
    burst = [3] * 5  # 15 posts in one 5 s bin
    brand = quiet + burst + quiet[:20]
    eng = engine()
    alerts = run(eng, window_of({"Oreo": brand, ALL: brand}), len(brand))
    spikes = [a for a in alerts if a["kind"] == "spike" and a["subject"] == "Oreo"]
    assert len(spikes) == 1 and spikes[0]["moment"] == T0 + 300
    assert spikes[0]["score"] > 5 and "15 posts in 5s" in spikes[0]["detail"]
    assert "3/s" in spikes[0]["title"]  # shown per second, judged per bin


def test_a_handful_on_a_silent_series_is_not_a_spike():
    quiet = [0] * 300
    blip = [1, 1, 1, 0, 0]  # 3 posts: under spike_min_count
    eng = engine()
    assert [a for a in run(eng, window_of({"Milano": quiet + blip + quiet[:20]}), 325) if a["kind"] == "spike"] == []


def test_the_whole_stream_stopping_is_a_dip_on_all_posts():
    live = low_rate(300, 15)  # 3 posts/s
    stopped = [0] * 30
    eng = engine()
    window = window_of({ALL: live + stopped, "src:x": live + stopped})
    dips = [a for a in run(eng, window, 330) if a["kind"] == "dip"]
    assert [(a["subject"], a["title"].split(" at ")[0]) for a in dips] == [(ALL, "Dip: all posts")]
    assert T0 + 300 <= dips[0]["moment"] <= T0 + 315  # two quiet bins confirm it


def test_one_quiet_bin_is_not_a_dip():
    live = low_rate(300, 15)
    eng = engine()
    series = live + [0] * 5 + low_rate(30, 15, seed=2)
    assert [a for a in run(eng, window_of({ALL: series}), 335) if a["kind"] == "dip"] == []


def test_sensitivity_per_rule_comes_from_the_event_file():
    quiet = [1 if i % 5 == 0 else 0 for i in range(300)]
    brand = quiet + [3] * 5 + quiet[:20]
    window = window_of({"Oreo": brand})
    assert not [a for a in run(engine(spike={"threshold": 8.0}), window, 325) if a["kind"] == "spike"]
    assert not [a for a in run(engine(spike={"enabled": False}), window, 325) if a["kind"] == "spike"]
    assert [a for a in run(engine(spike={"threshold": 3.0}), window, 325) if a["kind"] == "spike"]


def test_a_volume_alert_says_why():
    quiet = [1 if i % 5 == 0 else 0 for i in range(300)]
    brand = quiet + [4] * 5 + quiet[:20]
    window = window_of({"Oreo": brand, ALL: brand, "src:bluesky": brand})
    feed = [
        {"id": "bluesky:1", "text": "Oreo blackout ad", "series": ["Oreo"], "received_at": T0 + 302, "score": 5},
        {"id": "bluesky:2", "text": "game", "series": [], "received_at": T0 + 302, "score": 9},
    ]
    trending = [{"term": "blackout"}, {"term": "dunk in the dark"}]
    (spike,) = [
        a
        for a in run(engine(), window, 325, trending=trending, feed=feed)
        if a["kind"] == "spike" and a["subject"] == "Oreo"
    ]
    assert spike["why"]["terms"] == ["blackout", "dunk in the dark"]
    assert spike["why"]["sources"] == {"bluesky": 20}
    assert [p["id"] for p in spike["why"]["posts"]] == ["bluesky:1"]
    assert "rising: blackout" in spike["detail"] and "sources: bluesky 20" in spike["detail"]
