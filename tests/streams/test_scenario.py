"""The simulated Super Bowl: deterministic, phased, with a blackout burst and the truth about each post."""

from collections import Counter

from model.post import parse_post
from streams.scenario import STEP_S, Scenario


def make(seed=42, **kw):
    args = dict(rate=200, speedup=24, seed=seed, blackout_minute=170, blackout_minutes=34, start_minute=160)
    return Scenario(**(args | kw))


def run(s: Scenario, seconds: float):
    return [item for i in range(int(seconds / STEP_S)) for item in s.step(i)]


def test_same_seed_same_posts_other_seed_other_posts():
    a, b, c = run(make(), 5), run(make(), 5), run(make(seed=7), 5)
    assert [p["text"] for p, _ in a] == [p["text"] for p, _ in b]
    assert [p["text"] for p, _ in a] != [p["text"] for p, _ in c]


def test_blackout_bursts_then_fades_and_truth_knows_when():
    s = make()
    start = s.blackout_offsets()
    assert start == 10 * 60 / 24  # minute 170 is 10 game minutes after 160, at 24x
    posts = run(s, start + 60)
    before = sum(1 for _, t in posts if start - 10 <= t.at < start)
    during = sum(1 for _, t in posts if start <= t.at < start + 10)
    assert during > 2.5 * before
    topics = Counter(t.topic for _, t in posts if t.at >= start)
    assert topics["blackout"] > topics["game"]
    assert any(t.grade == 3 and t.topic == "brand_blackout" for _, t in posts)


def test_every_simulated_post_is_a_valid_post_with_variety():
    posts = run(make(rate=500), 30)
    parsed = [parse_post(p) for p, _ in posts]
    assert {p.lang for p in parsed} >= {"en", "es"}
    assert any(p.repost_of for p in parsed) and any(p.reply_to for p in parsed) and any(p.links for p in parsed)
    assert max(p.author.followers for p in parsed) > 1_000_000
    assert any(t.spam for _, t in posts)
