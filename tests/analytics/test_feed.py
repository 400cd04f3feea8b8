"""Feed admission and order, decided in pure code before the store writes anything."""

import math

from analytics.feed import admit, hot
from model.enriched import FEED_ALL, Enriched
from model.post import Author, Post


def enriched(pid: str, score: float, *, at: float = 1_000.0, first: bool = True, spam: bool = False) -> Enriched:
    post = Post(id=f"webhook:{pid}", source="webhook", author=Author(handle="fan"), text=pid, created_at=at)
    return Enriched(post, 0.0, score, [], [], [], at, fold=f"f-{pid}", first=first, spam=spam)


def test_only_relevant_first_non_spam_posts_enter_both_feeds():
    posts = [
        enriched("ok", 2.0),
        enriched("low", -1.0),
        enriched("copy", 5.0, first=False),
        enriched("spam", 5.0, spam=True),
    ]
    out = admit(posts, {}, min_score=0.0)
    assert set(out.ranks) == {FEED_ALL, "webhook"}
    assert list(out.ranks[FEED_ALL]) == list(out.ranks["webhook"]) == ["webhook:ok"]
    assert out.ranks[FEED_ALL]["webhook:ok"] == hot(2.0, 1_000.0)
    assert list(out.bodies) == ["webhook:ok"] and out.folds == ["f-ok"]


def test_a_full_feed_takes_only_posts_above_its_floor():
    posts = [enriched("old", 1.0, at=0.0), enriched("new", 1.0, at=3_000.0)]
    floors = {FEED_ALL: hot(1.0, 1_500.0), "webhook": -math.inf}
    out = admit(posts, floors, min_score=0.0)
    assert list(out.ranks[FEED_ALL]) == ["webhook:new"]
    assert list(out.ranks["webhook"]) == ["webhook:old", "webhook:new"]
    assert list(out.bodies) == ["webhook:old", "webhook:new"]


def test_newer_posts_of_equal_relevance_rank_higher():
    assert hot(1.0, 2_000.0) > hot(1.0, 1_000.0)
    assert hot(2.0, 1_000.0) > hot(1.0, 1_000.0 + 299.0)
