"""store/sentiment.py on the real embedded server: a correction, its fix, the brand's sentiment sum and its audit
entry land together; the tick reads them back; the model is saved and loaded."""

from __future__ import annotations

import orjson
import pytest

from analytics.sentiment_learning import SentimentModel
from store import aggregates, audit
from store import sentiment as sentiment_store

pytestmark = [pytest.mark.cluster, pytest.mark.partitions]  # single server and cluster; one partition and three

SEC = 1_770_000_000
POST = {
    "id": "x:1",
    "source": "x",
    "text": "that oreo ad is sick",
    "sentiment": -0.51,
    "received_at": SEC + 0.4,
    "series": ["Oreo", "Blackout"],
    "author": {"handle": "fan"},
}


def entry(who: str = "sam") -> dict:
    return audit.entry(who, "post.sentiment", "post", POST["id"], after={"label": "positive"})


def brand_sum(r, keys) -> dict:
    return aggregates.volume_window(r, keys, SEC, SEC)


def test_a_correction_lands_with_its_fix_its_audit_entry_and_the_sums(r, keys):
    volume = keys.part_of(POST["id"]).volume(SEC // 60)  # where the post was counted
    r.hset(volume, mapping={f"Oreo~s|{SEC}": -0.51, f"Oreo|{SEC}": 1})
    fix = sentiment_store.correct(r, keys, POST, "positive", "sam", entry(), {"Oreo"}, now=5.0)
    assert fix == {"label": "positive", "value": 0.6, "was": -0.51, "by": "sam", "at": 5.0}
    assert orjson.loads(r.hget(keys.sentiment_fixes, "x:1")) == fix
    window = brand_sum(r, keys)
    assert window["Oreo~s"][SEC] == pytest.approx(0.6)
    assert "Blackout~s" not in window, "only charted series carry sentiment"
    assert r.ttl(volume) > 0
    (item,) = audit.query(r, keys, action="post.sentiment")
    assert item["who"] == "sam" and item["before"] == {"sentiment": -0.51} and item["after"] == {"label": "positive"}

    sentiment_store.correct(r, keys, POST, "negative", "kim", entry("kim"), {"Oreo"}, now=6.0)
    assert brand_sum(r, keys)["Oreo~s"][SEC] == pytest.approx(-0.6), "moved from the last correction's value"
    latest = audit.query(r, keys, action="post.sentiment")[0]
    assert latest["who"] == "kim" and latest["before"]["label"] == "positive"

    tick = sentiment_store.read_tick(r, keys, "0-0")
    assert tick.texts == [POST["text"]] * 2 and tick.lexicon == ["negative"] * 2
    assert tick.labels == ["positive", "negative"] and tick.fixes["x:1"]["by"] == "kim"
    assert sentiment_store.read_tick(r, keys, tick.cursor).texts == [], "read once past the cursor"


def test_an_unknown_label_writes_nothing(r, keys):
    with pytest.raises(ValueError):
        sentiment_store.correct(r, keys, POST, "great", "sam", entry(), {"Oreo"})
    assert r.keys("*") == []


def test_the_model_is_saved_with_its_cursor_and_a_bad_one_is_ignored(r, keys):
    assert sentiment_store.load_model(r, keys) is None and sentiment_store.load_cursor(r, keys) == "0-0"
    model = SentimentModel()
    model.learn(["that oreo ad is sick"], ["negative"], ["positive"])
    assert sentiment_store.save_model(r, keys, model, "7-0") == 1
    loaded = sentiment_store.load_model(r, keys)
    assert loaded.corrections == 1 and sentiment_store.load_cursor(r, keys) == "7-0"
    assert sentiment_store.model_version(r, keys) == 1
    r.hset(keys.sentiment_model, "model", b"garbage")
    assert sentiment_store.load_model(r, keys) is None
