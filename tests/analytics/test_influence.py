"""Influence: followers, reposts and mentions each add bounded points and are named in the reason."""

from __future__ import annotations

import pytest

from analytics.influence import MAX_POINTS, influence_points, reposted_handle


@pytest.mark.parametrize(
    ("followers", "reposted", "mentioned", "low", "high", "reason"),
    [
        (0, 0, 0, 0.0, 0.0, ""),
        (1_000, 0, 0, 0.0, 0.0, ""),
        (100_000, 0, 0, 0.99, 1.01, "100k followers"),
        (2_100_000, 340, 0, 3.1, 3.3, "2.1M followers, reposted 340x"),
        (250, 40, 12, 1.4, 1.6, "reposted 40x, mentioned 12x"),
        (20_000_000, 10**6, 10**6, MAX_POINTS, MAX_POINTS, "20M followers, reposted 1Mx, mentioned 1Mx"),
    ],
)
def test_points_and_reason(followers, reposted, mentioned, low, high, reason):
    points, why = influence_points(followers, reposted, mentioned)
    assert low <= points <= high
    assert why == reason


def test_a_small_account_everyone_reposts_outranks_a_big_one_nobody_does():
    # Cha et al.: audience size and resonance are different things; resonance should be able to win.
    resonant, _ = influence_points(800, 300, 40)
    big_silent, _ = influence_points(200_000, 0, 0)
    assert resonant > big_silent


@pytest.mark.parametrize("field", ["followers", "reposted", "mentioned"])
def test_more_of_anything_never_lowers_influence(field):
    base = {"followers": 5_000, "reposted": 10, "mentioned": 10}
    more = dict(base, **{field: base[field] * 10})
    assert influence_points(**more)[0] > influence_points(**base)[0]


def test_points_stay_bounded():
    assert influence_points(10**12, 10**12, 10**12)[0] == pytest.approx(MAX_POINTS) == pytest.approx(4.5)


@pytest.mark.parametrize(
    ("text", "repost_of", "handle"),
    [
        ("RT @BigSportsDesk: What a catch!!!", None, "bigsportsdesk"),
        ("RT @nfl.news: lights out", "x:123", "nfl.news"),
        ("  rt @snack_reviewer : dunk", None, "snack_reviewer"),
        ("What a catch, RT @someone: not at the start", None, None),
        ("plain post", None, None),
        ("", "at://did:plc:abc123/app.bsky.feed.post/3k", "did:plc:abc123"),
        ("quoted", "simulator:42-17", None),
    ],
)
def test_reposted_handle_from_rt_text_or_at_uri(text, repost_of, handle):
    assert reposted_handle(text, repost_of) == handle
