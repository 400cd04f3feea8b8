"""Pure render functions, called directly: charts, feed, status, and the screen response cache."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import orjson
import pytest
from dash import html
from dash._utils import to_json

from callbacks.response_cache import ResponseCache
from layouts import ids
from layouts.feed import feed_item, feed_items, feed_rows, trending_rows
from layouts.render import age, memo_rows, rows_json
from layouts.status import alert_list, alert_rows, freshness
from layouts.storylines import storyline_list, storyline_rows
from layouts.volume import volume_figure
from web.services import screen_cache

T0 = 1_770_000_000  # a whole second, epoch


def snap(**extra) -> dict:
    """A minimal snapshot: ten minutes of per-second volume for the brand, a term and the total."""
    t = list(range(T0, T0 + 600))
    base = {
        "version": 7,
        "built_at": T0 + 600,
        "volume": {
            "t": t,
            "series": {"Oreo": [1] * 600, "Blackout": [2] * 600, "all": [5] * 600},
            "kinds": {"Oreo": "brand", "Blackout": "term", "all": "all"},
        },
        "gaps": [],
        "alerts": [],
    }
    return base | extra


def components(node):
    """Every Dash component in a tree (children lists and single children)."""
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            yield from components(child)


def texts(node) -> list[str]:
    """Each component's text: its string children joined, and a live age (layouts.render.ago) as it would start."""
    out = []
    for c in components(node):
        children = getattr(c, "children", None)
        parts = children if isinstance(children, list) else [children]
        text = "".join(p if isinstance(p, str) else aged(p) for p in parts if p is not None)
        if text or isinstance(children, str):
            out.append(text)
    return out


def aged(c, now: float | None = None) -> str:
    """What assets/warroom.js writes into an `ago` span at `now` (T0 + 30 by default, as the tests render)."""
    props = c.to_plotly_json()["props"]
    if "data-at" not in props:
        return ""
    return f"{props['data-before']}{age((now or T0 + 30) - float(props['data-at']))}{props['data-after']}"


# Volume chart --------------------------------------------------------------------------------------------
def test_volume_series_use_x0_and_dx_not_an_x_array():
    fig = volume_figure(snap(), [])
    assert [tr["name"] for tr in fig["data"]] == ["Oreo", "Blackout"], "the total is off unless asked for"
    for tr in fig["data"]:
        assert "x" not in tr and tr["x0"] == T0 * 1000 and tr["dx"] == 1000 and len(tr["y"]) == 600
    assert len(volume_figure(snap(), [], show_total=True)["data"]) == 3


def test_source_gaps_are_shaded_over_their_range():
    gaps = [[T0 + 100, T0 + 160], [T0 + 500, None], [T0 - 900, T0 - 800]]  # closed, still open, before the window
    fig = volume_figure(snap(gaps=gaps), [])
    rects = [s for s in fig["layout"]["shapes"] if s["type"] == "rect"]
    assert [(s["x0"], s["x1"]) for s in rects] == [
        ((T0 + 100) * 1000, (T0 + 160) * 1000),
        ((T0 + 500) * 1000, (T0 + 599) * 1000),
    ]
    assert sum(n["text"] == "source gap" for n in fig["layout"]["annotations"]) == 2


def test_card_moments_are_marked_with_escaped_titles():
    cards = [
        {"title": "<b>x</b> dunk", "type": "opportunity", "moment": T0 + 300},
        {"title": "out of range", "type": "threat", "moment": T0 - 3600},
    ]
    fig = volume_figure(snap(), cards)
    lines = [s for s in fig["layout"]["shapes"] if s["type"] == "line"]
    assert [(s["x0"], s["x1"]) for s in lines] == [((T0 + 300) * 1000, (T0 + 300) * 1000)]
    notes = [n["text"] for n in fig["layout"]["annotations"]]
    assert notes == ["&lt;b&gt;x&lt;/b&gt; dunk"]
    assert "<b>" not in orjson.dumps(fig).decode()


def test_spike_alerts_are_marked_and_their_titles_escaped():
    alert = {"id": "a1", "kind": "spike", "moment": T0 + 200, "title": "Spike: <img src=x onerror=alert(1)>"}
    fig = volume_figure(snap(alerts=[alert]), [])
    (mark,) = [n for n in fig["layout"]["annotations"] if n["text"] == "⚠"]
    assert mark["x"] == (T0 + 200) * 1000 and "<img" not in mark["hovertext"] and "&lt;img" in mark["hovertext"]


def test_focus_narrows_the_x_range_around_the_moment():
    fig = volume_figure(snap(), [], focus=T0 + 300)
    lo, hi = fig["layout"]["xaxis"]["range"]
    assert lo < (T0 + 300) * 1000 < hi and hi - lo <= 5 * 60 * 1000
    assert "range" not in volume_figure(snap(), [])["layout"]["xaxis"]


def test_a_young_window_starts_a_minute_before_the_first_post():
    quiet = snap()
    quiet["volume"]["series"] = {name: [0] * 300 + ys[300:] for name, ys in quiet["volume"]["series"].items()}
    for tr in volume_figure(quiet, [])["data"]:
        assert tr["x0"] == (T0 + 240) * 1000 and len(tr["y"]) == 360


def test_empty_volume_says_waiting():
    fig = volume_figure({"volume": {"t": []}}, [])
    assert fig["data"] == [] and "Waiting" in fig["layout"]["annotations"][0]["text"]


# Feed ----------------------------------------------------------------------------------------------------
HOSTILE = '<script>window.__xss=1</script><img src=x onerror="alert(1)">'


def feed_post(url: str | None) -> dict:
    return {
        "id": "webhook:1",
        "source": "webhook",
        "url": url,
        "text": f"Oreo {HOSTILE}",
        "score": 3.2,
        "reasons": ["mentions Oreo (+3.0)"],
        "sentiment": 0.1,
        "received_at": T0,
        "author": {"handle": "attacker", "name": HOSTILE, "followers": 10},
    }


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>x</script>", " javascript:alert(1)", None],
)
def test_feed_item_never_links_unsafe_urls(url):
    item = feed_item(feed_post(url), with_controls=True)
    assert not [c for c in components(item) if isinstance(c, html.A)]


def test_feed_item_links_http_urls_safely():
    item = feed_item(feed_post("https://example.com/p/1"), with_controls=False)
    (link,) = [c for c in components(item) if isinstance(c, html.A)]
    assert link.href == "https://example.com/p/1" and "noopener" in link.rel


def test_feed_item_keeps_hostile_text_as_plain_strings():
    item = feed_item(feed_post(None), with_controls=True)
    shown = texts(item)
    assert f"Oreo {HOSTILE}" in shown and HOSTILE in shown  # the text and the author name, as string children
    assert not [c for c in components(item) if getattr(c, "dangerously_allow_html", False)]
    assert not [c for c in components(item) if type(c).__name__ in ("Script", "Img", "Iframe")]


def test_trending_rows_say_new_without_a_baseline():
    rows = trending_rows(
        [
            {
                "term": "blackout",
                "count": 90,
                "rate_per_min": 80.0,
                "baseline_per_min": 0.0,
                "significance": 9.0,
                "rising_since": T0,
            },
            {
                "term": "oreo",
                "count": 40,
                "rate_per_min": 30.0,
                "baseline_per_min": 10.0,
                "significance": 3.0,
                "rising_since": None,
            },
        ],
        T0 + 30,
    )
    meta = [t for t in texts(rows[0]) if t.startswith("baseline")] + [
        t for t in texts(rows[1]) if t.startswith("baseline")
    ]
    assert "×new" in meta[0] and "rising 30s" in meta[0]
    assert "×3" in meta[1] and "new" not in meta[1]


# Status --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data_age", "stale", "banner"),
    [
        (1.0, False, ""),
        (5.0, False, ""),
        (12.0, True, "STALE: no new posts processed for 12s"),
        (None, True, "STALE: no posts processed yet"),
    ],
)
def test_freshness_is_stale_with_a_banner_past_stale_after(data_age, stale, banner):
    out = freshness({"version": 3, "pipeline": {"data_age_s": data_age}}, stale_after=5.0)
    assert out["stale"] is stale and out["v"] == 3 and out["stale_after"] == 5.0
    assert out["banner"].startswith(banner) if banner else out["banner"] == ""


# Response cache ------------------------------------------------------------------------------------------
def request(tick: int, seen: int, cards_seen: int = 2, source: str = "all") -> bytes:
    """The screen callback's request body, as Dash's renderer sends it."""
    return orjson.dumps(
        {
            "output": f"..{ids.SNAP_VERSION}.data...{ids.LAST_SEEN}.data..",
            "inputs": [{"id": ids.TICK, "property": "n_intervals", "value": tick}],
            "state": [
                {"id": ids.SNAP_VERSION, "property": "data", "value": seen},
                {"id": ids.CARDS_VERSION, "property": "data", "value": cards_seen},
                {"id": ids.FEED_SOURCE, "property": "value", "value": source},
            ],
        }
    )


@pytest.fixture
def current():
    return {"version": 5, "cards_version": 2}


@pytest.fixture
def cache(current) -> ResponseCache:
    """The app's own cache set-up (its canonical rules), over a snapshot reader that returns `current`."""
    reader = SimpleNamespace(
        get=lambda: (current["version"], {"cards_version": current["cards_version"]}), expect=lambda _v: None
    )
    return screen_cache(reader)


def test_identical_questions_share_one_answer(cache):
    key = cache.key(request(tick=1, seen=4))
    assert key == cache.key(request(tick=99, seen=4)), "the tick counter is not part of the question"
    assert cache.get(key) is None  # the first asker computes
    cache.put(key, (200, b'{"answer": 1}', b"", "application/json"))
    assert cache.get(cache.key(request(tick=2, seen=4)))[1] == b'{"answer": 1}'
    assert (cache.hits, cache.misses) == (1, 1)
    assert cache.key(request(tick=1, seen=4, source="x")) != key, "a different filter is a different question"


def test_older_seen_versions_share_an_answer_and_the_current_one_does_not(cache):
    assert cache.key(request(1, seen=1)) == cache.key(request(1, seen=4)) == cache.key(request(1, seen=None))
    assert cache.key(request(1, seen=5)) != cache.key(request(1, seen=4))
    assert cache.key(request(1, seen=4, cards_seen=1)) == cache.key(request(1, seen=4, cards_seen=0))
    assert cache.key(request(1, seen=4, cards_seen=2)) != cache.key(request(1, seen=4, cards_seen=1))


def test_the_snapshot_version_is_part_of_the_key(cache, current):
    before = cache.key(request(1, seen=4))
    cache.put(before, (200, b"old", b"", "application/json"))
    current["version"] = 6
    after = cache.key(request(1, seen=4))
    assert after != before and after.endswith(":6")
    assert cache.get(after) is None, "a new snapshot is never answered from the old one"


def test_other_callbacks_and_bad_bodies_are_not_cached(cache):
    other = orjson.dumps({"output": f"{ids.CARD_SAVED}.children", "inputs": [], "state": []})
    assert cache.key(other) is None and cache.key(b"not json") is None


def test_plain_cache_without_canonical_rules_keys_on_raw_values():
    cache = ResponseCache({ids.SNAP_VERSION: {f"{ids.TICK}.n_intervals"}}, lambda: 1)
    assert cache.key(request(1, seen=3)) != cache.key(request(1, seen=4))
    assert cache.key(request(1, seen=3)) == cache.key(request(2, seen=3))


def test_the_executive_view_says_customer_care_in_one_line_with_safety_first():
    from layouts.exec import care_line

    m = {"backlog": 4, "breaches": 1, "first_response_p50_s": 300.0, "first_response_p95_s": 1260.0, "safety_open": 2}
    line = str(care_line(m))
    assert "2 safety" in line and line.index("2 safety") < line.index("care backlog")
    assert "'4'" in line and "'1'" in line and "5 min" in line and "21 min" in line
    quiet = str(care_line({**m, "safety_open": 0, "first_response_p50_s": None}))
    assert "safety" not in quiet and "–" in quiet
    assert care_line(None) is None


def test_the_walls_line_labels_never_sit_on_each_other():
    from layouts.wall import spread

    assert spread([1.5, 1.6, 14.0], 1.0) == [1.5, 2.5, 14.0]  # Milano and Chips Ahoy ended at the same height
    assert spread([3.0, 1.0, 1.2], 1.0) == [3.0, 1.0, 2.0]  # in order, the lower one stays
    assert spread([], 1.0) == []


def test_rows_json_is_what_dashs_own_encoder_gives():
    rows = [
        feed_item(
            {
                "id": "x:1",
                "text": "<b>hi</b>",
                "author": {"handle": "a", "followers": 5},
                "received_at": T0,
                "score": 2.5,
                "reasons": ["r"],
                "url": "https://x.example/1",
                "similar": 2,
            },
            True,
            True,
        ),
        "a string row",
    ]
    assert orjson.loads(rows_json(rows)) == orjson.loads(to_json(rows))


def _counted_row(item: dict, tag: str) -> html.Div:
    DRAWN.append(item["id"])
    return html.Div([item["text"], html.Span(tag)], className="r")


DRAWN: list = []


def test_memo_rows_draws_each_distinct_row_once_and_gives_rows_json():
    run = uuid.uuid4().hex  # rows are remembered process-wide: these are new in every run
    a, b = {"id": "m:a", "text": "<i>a</i>", "run": run}, {"id": "m:b", "text": "b", "run": run}
    assert memo_rows([a, b], _counted_row, "t") == rows_json([_counted_row(a, "t"), _counted_row(b, "t")])
    DRAWN.clear()
    changed = {**b, "text": "b, edited"}
    out = memo_rows([a, b, changed], _counted_row, "t")
    assert DRAWN == ["m:b"]  # only the edited row is drawn again: its JSON differs
    assert orjson.loads(out)[2]["props"]["children"][0] == "b, edited"
    memo_rows([a], _counted_row, "other flag")
    assert DRAWN == ["m:b", "m:a"]  # flags are part of the row


def test_feed_rows_are_the_feed_items():
    posts = [feed_post("https://example.com/p/1"), {**feed_post(None), "id": "x:2", "received_at": None}]
    assert orjson.loads(feed_rows(posts, True, True)) == orjson.loads(rows_json(feed_items(posts, True, True)))
    assert orjson.loads(feed_rows([])) == orjson.loads(rows_json(feed_items([])))


def test_alert_and_storyline_lists_are_their_rows():
    alerts = [{"id": "a1", "severity": "high", "title": "<b>spike</b>", "at": T0, "detail": "d", "acked_by": "sam"}]
    lines = [{"id": "s1", "label": ["lights", "out"], "size": 12, "growth": 2.0, "examples": []}]
    for listed, drawn in (
        (alert_list(alerts, True, True), alert_rows(alerts, True, True)),
        (alert_list([], True), alert_rows([], True)),
        (storyline_list(lines, True), storyline_rows(lines, True)),
        (storyline_list([], False), storyline_rows([], False)),
    ):
        assert orjson.loads(listed) == orjson.loads(rows_json(drawn))
