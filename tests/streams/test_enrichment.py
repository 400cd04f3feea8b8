"""Enricher fast paths (cached text features, deferred sentiment) agree with the plain definitions."""

from datetime import UTC, datetime

import pytest

from analytics import relevance
from analytics.dedupe import fold_key
from analytics.sentiment import Sentiment
from bench.pipeline_bench import scenario_posts
from config.settings import load_settings
from model.enriched import Context, Enriched
from model.post import Author, Engagement, Post
from streams.enrichment import Enricher, parse_all


@pytest.fixture(scope="module")
def event():
    return load_settings({}).event


def _posts(n=3000, seed=3):
    import orjson

    posts, invalid = parse_all([orjson.dumps(dict(p, received_at=1_000_000.0)) for p in scenario_posts(n, seed)])
    assert not invalid
    return posts


def test_batch_scores_match_the_signals_definition(event):
    enricher = Enricher(event)
    posts = _posts()
    ctx = Context(
        reposted={p.author.handle.lower(): 7 for p in posts[::5]},
        mentioned={p.author.handle.lower(): 30 for p in posts[::7]},
    )
    enriched, _ = enricher.batch(posts, 1_000_000.0, ctx)
    seen: dict[str, int] = {}
    for e in enriched:
        series = enricher.series.match(e.post.text + " " + " ".join("@" + m for m in e.post.mentions))
        extra = [(-3.0, r.split(" (")[0]) for r in e.reasons if r.startswith("copy-paste burst")]
        expected = relevance.score(enricher.signals(e.post, series, ctx), enricher.brand, extra)
        if not extra:  # a burst penalty's own points are not in its reason; checked by the count below
            assert (e.score, e.reasons) == (expected.score, expected.reasons)
        assert e.series == series == e.post.matched_terms
        assert e.watch_words == enricher.watch.match(e.post.text)
        assert e.fold == fold_key(e.post.text)
        assert e.first == (seen.get(e.fold, 0) == 0)
        seen[e.fold] = seen.get(e.fold, 0) + 1


def test_sentiment_is_deferred_until_used_and_then_exact(event):
    calls = []
    plain = Sentiment()

    class Counting(Sentiment):
        def __init__(self):
            super().__init__()
            inner = self.compound
            self.compound = lambda text: calls.append(text) or inner(text)

    enricher = Enricher(event, sentiment=Counting())
    post = Post(
        id="webhook:1",
        source="webhook",
        author=Author(handle="a"),
        text="what a great game, love it",
        created_at=datetime.now(UTC),
        engagement=Engagement(),
    )
    enriched, agg = enricher.batch([post], 1_000_000.0)
    assert calls == [] and not agg.sentiment  # no charted series, not in a feed yet: VADER not run
    assert enriched[0].sentiment == plain.compound(post.text)
    assert b'"sentiment":' in enriched[0].body() and len(calls) == 1


def test_brand_posts_sum_sentiment_per_series(event):
    enricher = Enricher(event)
    plain = Sentiment()
    posts = [p for p in _posts(2000, seed=5) if "oreo" in p.text.lower()][:50]
    enriched, agg = enricher.batch(posts, 1_000_000.0)
    expected: dict = {}
    for e in enriched:
        if "Oreo" in e.series:
            key = (int(e.at), "Oreo")
            expected[key] = expected.get(key, 0.0) + plain.compound(e.post.text)
    assert expected and all(agg.sentiment[k] == v for k, v in expected.items())


def test_enriched_needs_a_sentiment_or_a_scorer(event):
    post = Post(
        id="webhook:1", source="webhook", author=Author(handle="a"), text="hi there", created_at=datetime.now(UTC)
    )
    assert Enriched(post, 0.5, 1.0, [], [], [], 0.0).sentiment == 0.5
    with pytest.raises(ValueError):
        Enriched(post, None, 1.0, [], [], [], 0.0)
