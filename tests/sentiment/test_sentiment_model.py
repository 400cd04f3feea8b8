"""The sentiment model alone: it learns a systematic mistake from a few corrections (and nothing else), keeps the
lexicon where it was right, and survives its byte envelope."""

from __future__ import annotations

import pytest

from analytics.sentiment import Sentiment, label
from analytics.sentiment_learning import LABEL_VALUE, InvalidModel, SentimentModel, column
from tests.sentiment.test_sentiment_flow import CONTEXT, CONTROLS, NEW_SLANG, SLANG

LEXICON = Sentiment()


def lex(text: str) -> str:
    return label(LEXICON.compound(text))


def taught(n: int = len(SLANG)) -> SentimentModel:
    model = SentimentModel()
    texts = SLANG[:n]
    model.learn(texts, [lex(t) for t in texts], ["positive"] * n, CONTEXT)
    return model


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return taught()


def test_an_untaught_model_changes_nothing():
    model = SentimentModel()
    assert not model.ready and model.corrections == 0
    assert model.apply(NEW_SLANG[0], LEXICON.compound(NEW_SLANG[0])) == (LEXICON.compound(NEW_SLANG[0]), "")


def test_after_six_corrections_the_slang_reads_positive_on_new_posts(model):
    assert model.corrections == len(SLANG)
    for text in [*NEW_SLANG, "the oreo ad at halftime was sick tbh"]:
        assert lex(text) == "negative", "the lexicon alone gets it wrong"
        value, why = model.apply(text, LEXICON.compound(text))
        assert (value, why) == (LABEL_VALUE["positive"], "learned: 'sick' → positive"), text


@pytest.mark.parametrize("text", list(CONTROLS))
def test_what_the_lexicon_got_right_stays(model, text):
    compound = LEXICON.compound(text)
    assert label(compound) == CONTROLS[text]
    assert model.apply(text, compound) == (compound, "")


def test_one_correction_is_not_enough_to_override():
    """A single click does not relabel every post with that word: the evidence has to add up."""
    one = taught(1)
    text = NEW_SLANG[1]
    assert one.corrections == 1 and one.apply(text, LEXICON.compound(text)) == (LEXICON.compound(text), "")


def test_the_model_round_trips_and_keeps_learning(model):
    restored = SentimentModel.from_bytes(model.to_bytes())
    assert restored.corrections == model.corrections
    for text in NEW_SLANG + list(CONTROLS):
        assert restored.apply(text, LEXICON.compound(text)) == pytest.approx(model.apply(text, LEXICON.compound(text)))
    restored.learn(["oreo ad is mid, honestly nothing special tonight"], ["neutral"], ["negative"], CONTEXT)
    assert restored.corrections == model.corrections + 1


def test_bad_bytes_and_labels_are_refused():
    with pytest.raises(InvalidModel):
        SentimentModel.from_bytes(b"nope")
    with pytest.raises(ValueError):
        SentimentModel().learn(["x"], ["negative"], ["great"])


def test_columns_are_sklearns_hashing_vectorizer_columns():
    from sklearn.feature_extraction.text import HashingVectorizer

    vec = HashingVectorizer(n_features=2**16, analyzer=lambda d: d, alternate_sign=False, norm=None)
    for token in ["sick", "lex:negative", "oreo ad", "日本語"]:
        assert vec.transform([[token]]).indices[0] == column(token, 2**16)


@pytest.mark.parametrize("n", range(1, len(SLANG) + 1))
def test_how_many_corrections_it_takes(n):
    """The measure: held-out posts with the slang are labelled right from the fourth correction on (none before
    the third), and what the lexicon got right is kept at every step."""
    model = taught(n)
    held = [*NEW_SLANG, "the oreo ad at halftime was sick tbh"]
    right = sum(label(model.apply(t, LEXICON.compound(t))[0]) == "positive" for t in held)
    assert right == (len(held) if n >= 4 else right)
    if n <= 2:
        assert right == 0
    assert all(label(model.apply(t, LEXICON.compound(t))[0]) == want for t, want in CONTROLS.items())


def test_the_tick_waits_for_the_anchors_instead_of_building_them(monkeypatch):
    """Building the anchors takes seconds: a tick that finds them missing learns nothing (the cursor stays, so the
    corrections are read again) and leaves them building in the background."""
    from analytics import sentiment_learning
    from store.sentiment import SentimentInputs
    from streams.tick import TickInputs, learn_sentiment

    monkeypatch.setattr(sentiment_learning, "ensure_warm", lambda: False)
    monkeypatch.setattr("streams.tick.ensure_warm", lambda: False)
    model = SentimentModel()
    inputs = TickInputs(0, 0, {}, {}, {}, {}, {}, [], {}, [], "0-0", [])
    inputs.sentiment = SentimentInputs(texts=["that ad is sick"], lexicon=["negative"], labels=["positive"])
    assert learn_sentiment(model, inputs) == 0 and model.corrections == 0
    monkeypatch.setattr("streams.tick.ensure_warm", lambda: True)
    assert learn_sentiment(model, inputs) == 1 and model.corrections == 1
