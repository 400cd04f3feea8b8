"""Storylines: the blackout is one conversation, retweets are folded, growth and labels mean what they say."""

from __future__ import annotations

from collections import Counter

import pytest

from analytics.storylines import storylines
from streams.scenario import Scenario

BLACKOUT_TOPICS = {"blackout", "brand_blackout"}
T0 = 1_700_000_000.0


def post(i: int, text: str, at: float, score: float = 0.0) -> dict:
    return {"id": f"x:{i}", "text": text, "received_at": at, "score": score, "author": {"handle": f"fan{i}"}}


@pytest.fixture(scope="module")
def blackout_window():
    """2,000 relevant (grade >= 1) simulator posts from the first seconds of the blackout, with their topics."""
    sc = Scenario(rate=150, speedup=24, seed=42, blackout_minute=170, blackout_minutes=34, start_minute=165, loop=False)
    start = sc.blackout_offsets()
    rows = [r for i in range(int(start / 0.1), int(start / 0.1) + 200) for r in sc.step(i)]
    rel = [(dict(p, received_at=T0 + p["created_at"]), t.topic) for p, t in rows if t.grade >= 1][:2000]
    return [p for p, _ in rel], {p["id"]: topic for p, topic in rel}


def test_the_blackout_comes_out_as_one_storyline(blackout_window):
    posts, topic = blackout_window
    now = max(p["received_at"] for p in posts)
    lines = storylines(posts, now)
    total = sum(t in BLACKOUT_TOPICS for t in topic.values())
    per_line = [sum(topic[i] in BLACKOUT_TOPICS for i in s["post_ids"]) for s in lines]
    best = lines[per_line.index(max(per_line))]
    assert total > 1000
    assert max(per_line) >= 0.9 * total  # nearly all of the blackout in one storyline
    assert max(per_line) >= 0.9 * best["size"]  # and that storyline is mostly the blackout
    assert sum(n > 0.5 * s["size"] for n, s in zip(per_line, lines, strict=True)) == 1  # not twenty
    assert "blackout" in best["label"]


def test_storyline_fields_and_limits(blackout_window):
    posts, _ = blackout_window
    lines = storylines(posts, max(p["received_at"] for p in posts), k_max=3, min_size=20)
    assert 1 <= len(lines) <= 3
    ids = [i for s in lines for i in s["post_ids"]]
    assert len(ids) == len(set(ids))
    for s in lines:
        assert s["size"] == len(s["post_ids"]) >= 20
        assert 1 <= len(s["posts"]) <= 3 and all(p["id"] in s["post_ids"] for p in s["posts"])
        assert 1 <= len(s["label"]) <= 3 and len(s["id"]) == 12
    assert [s["size"] for s in lines] == sorted((s["size"] for s in lines), reverse=True)


def test_a_retweet_storm_counts_in_size_but_shows_one_representative():
    storm = [
        post(i, f"RT @fan{i}: The lights went out at the stadium, whole dome dark #blackout", T0 + i) for i in range(50)
    ]
    original = post(99, "The lights went out at the stadium, whole dome dark #blackout", T0, score=9.0)
    others = [
        post(100 + i, text, T0 + i)
        for i, text in enumerate(
            [
                "Still dark in the stadium #blackout",
                "lights out in the dome #blackout",
                "Power outage, dome dark #blackout",
            ]
        )
    ]
    (line,) = storylines(storm + [original] + others, T0 + 60)
    texts = [p["text"] for p in line["posts"]]
    assert line["size"] == 54
    assert original in line["posts"]  # the highest-scored copy stands for its retweets
    assert len(texts) == len({t.removeprefix("RT @")[t.find(":") + 1 :] if t.startswith("RT") else t for t in texts})


@pytest.mark.parametrize(("recent_share", "low", "high"), [(1 / 3, 0.95, 1.05), (0.9, 2.6, 2.8), (0.0, 0.0, 0.0)])
def test_growth_compares_the_last_third_of_the_window_with_a_third_of_all(recent_share, low, high):
    n, recent = 60, int(60 * recent_share)
    # Window: oldest post (T0 + 10) .. now (T0 + 240); its last third starts at T0 + 163.3.
    times = [T0 + 10 + i * (150 / (n - recent)) for i in range(n - recent)] + [T0 + 170 + i for i in range(recent)]
    posts = [post(i, f"Oreo in the dark number {i} during the #blackout dunk", at) for i, at in enumerate(times)]
    (line,) = storylines(posts, T0 + 240)
    assert low <= line["growth"] <= high


def test_distinct_conversations_stay_apart_and_get_their_own_labels():
    blackout = [post(i, f"the stadium lights went out {w} #blackout", T0 + i) for i, w in enumerate("abcdefgh")]
    recall = [
        post(20 + i, f"is there an oreo recall {w}? cookies pulled #recall", T0 + i) for i, w in enumerate("abcdefgh")
    ]
    lines = storylines(blackout + recall, T0 + 10)
    assert len(lines) == 2
    assert {frozenset(s["post_ids"]) for s in lines} == {
        frozenset(p["id"] for p in blackout),
        frozenset(p["id"] for p in recall),
    }
    assert any("blackout" in s["label"] for s in lines) and any("recall" in s["label"] for s in lines)


def test_id_depends_on_label_not_on_which_posts():
    a = storylines([post(i, f"stadium lights out, blackout {i}", T0 + i) for i in range(6)], T0 + 10)
    b = storylines([post(i, f"stadium lights out, blackout {i}", T0 + i) for i in range(3, 12)], T0 + 20)
    assert a[0]["id"] == b[0]["id"]


@pytest.mark.parametrize(
    "posts",
    [
        [],
        [post(1, "lights out #blackout", T0)] * 4,
        [post(i, "🔥🔥", T0) for i in range(10)],
        [post(i, f"word{i}", T0) for i in range(10)],
    ],
)
def test_too_few_or_empty_posts_make_no_storylines(posts):
    assert storylines(posts, T0 + 1) == []


def test_iso_created_at_is_read_when_received_at_is_missing():
    posts = [
        {"id": f"x:{i}", "text": "stadium lights out #blackout", "created_at": f"2024-02-11T23:0{i}:00+00:00"}
        for i in range(6)
    ]
    (line,) = storylines(posts, 1_707_692_700.0)
    assert line["size"] == 6 and Counter(line["post_ids"]).most_common(1)[0][1] == 1


def test_a_competitors_ad_is_its_own_storyline_labelled_by_what_sets_it_apart():
    moods = ["again", "now", "honestly", "lol", "wow", "finally", "tbh", "yay"]
    places = ["party", "couch", "bar", "office", "dorm"]
    brand = [
        dict(post(i, f"#SuperBowl dunking an Oreo in milk at the {p} {m} tonight", T0 + i), series=["Oreo"])
        for i, (m, p) in enumerate((m, p) for m in moods for p in places)
    ]
    verdicts = ["hilarious", "genius", "weird", "great", "so good"]
    rival = [
        dict(
            post(100 + i, f"#SuperBowl that Chips Ahoy ad with the cookie robot was {v} {m}", T0 + i),
            series=["Chips Ahoy"],
        )
        for i, (v, m) in enumerate((v, m) for v in verdicts for m in moods[:4])
    ]
    lines = storylines(brand + rival, T0 + 60)
    (chips,) = [s for s in lines if s["series"] == "Chips Ahoy"]
    assert chips["size"] == 20
    assert "superbowl" not in chips["label"] and {"chips", "ahoy", "robot", "cookie"} & set(chips["label"])
    assert all("superbowl" not in s["label"] for s in lines)


def test_posts_naming_a_competitor_feed_the_storylines(event=None):
    from config.settings import ROOT, load_event
    from model.post import parse_post
    from streams.enrichment import Enricher

    enricher = Enricher(load_event(ROOT / "config" / "superbowl.yaml"))
    p = parse_post(
        {
            "id": "bluesky:1",
            "source": "bluesky",
            "author": {"handle": "did:plc:abc"},
            "text": "That Chips Ahoy ad with the cookie robot was genius",
            "created_at": T0,
        }
    )
    _, agg = enricher.batch([p], T0)
    assert len(agg.storyline) == 1 and b'"series":["Chips Ahoy"' in agg.storyline[0]
