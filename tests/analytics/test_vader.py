"""FastVader (analytics/vader.py) returns exactly what vaderSentiment's polarity_scores returns.

The library itself is the oracle: both real implementations score the same texts and the dicts must match to the
bit (compared by repr, so key order and -0.0 count too). Texts: every distinct post of the simulated event, raw and
as `prepare` hands them to VADER; VADER's own examples; edge cases; and hypothesis texts built from the words that
drive each of VADER's rules.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import BOOSTER_DICT, NEGATE, SPECIAL_CASES, SentimentIntensityAnalyzer

from analytics.sentiment import Sentiment, prepare
from analytics.vader import FastVader

LIBRARY = SentimentIntensityAnalyzer()
FAST = FastVader()


def mismatches(texts) -> list[tuple[str, dict, dict]]:
    out = []
    for text in texts:
        want, got = LIBRARY.polarity_scores(text), FAST.polarity_scores(text)
        if repr(want) != repr(got):
            out.append((text, want, got))
    return out


def test_every_scenario_text_raw_and_prepared():
    from bench.pipeline_bench import scenario_posts

    raw = list(dict.fromkeys(p["text"] for p in scenario_posts(20_000)))
    texts = list(dict.fromkeys(raw + [prepare(t) for t in raw]))
    assert len(raw) > 10_000 and sum(not t.isascii() for t in texts) > 5_000
    assert mismatches(texts)[:5] == []


VADER_EXAMPLES = [  # from the bottom of vaderSentiment.py
    "VADER is smart, handsome, and funny.",
    "VADER is smart, handsome, and funny!",
    "VADER is very smart, handsome, and funny.",
    "VADER is VERY SMART, handsome, and FUNNY.",
    "VADER is VERY SMART, handsome, and FUNNY!!!",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "VADER is not smart, handsome, nor funny.",
    "The book was good.",
    "At least it isn't a horrible book.",
    "The book was only kind of good.",
    "The book was kind of good.",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today SUX!",
    "Today only kinda sux! But I'll get by, lol",
    "Make sure you :) or :D today!",
    "Catch utf-8 emoji such as such as 💘 and 💋 and 😁",
    "Not bad at all",
    "Sentiment analysis has never been good.",
    "Sentiment analysis has never been this good!",
    "Most automated sentiment analysis tools are shit.",
    "With VADER, sentiment analysis is the shit!",
    "Other sentiment analysis tools can be quite bad.",
    "On the other hand, VADER is quite bad ass",
    "VADER is such a badass!",
    "Without a doubt, excellent idea.",
    "Roger Dodger is one of the most compelling variations on this theme.",
    "Roger Dodger is at least compelling as a variation on the theme.",
    "Roger Dodger is one of the least compelling variations on this theme.",
    "Not such a badass after all.",
    "Without a doubt, an excellent idea.",
    "It was one of the worst movies I've seen, despite good reviews. Unbelievably bad acting!! Poor direction. "
    "VERY poor production. The movie was bad. Very bad movie. VERY BAD movie!",
]
EDGE_CASES = [
    "",
    "   ",
    "!!!???",
    "😁",
    "😁😁",
    " 😁 ",
    "good😁",
    "good 😁bad",
    "\t😁",
    "🔛 !",  # a description with "!" in it ("ON! arrow")
    "no no no good",
    "no good or bad",
    "no time nor good",
    "no way or bad",
    "not at least good",
    "never so very good",
    "this is kind of the bomb but not the shit",
    "kiss of death to die for",
    "but but good bad but",
    "GOOD bad GOOD bad",
    "Σ GOOD İ good",  # lower-casing that changes length or depends on context
    "ＧＯＯＤ ｎｏｔ good",
    "\u212a good",  # KELVIN SIGN lower-cases to ASCII "k"
]


@pytest.mark.parametrize("text", VADER_EXAMPLES + EDGE_CASES)
def test_vader_examples_and_edge_cases(text):
    assert FAST.polarity_scores(text) == LIBRARY.polarity_scores(text)
    assert repr(FAST.polarity_scores(text)) == repr(LIBRARY.polarity_scores(text))


# Hypothesis: texts from the words each rule looks at, in any case, with punctuation on them, and random spacing.
LEXICON = sorted(LIBRARY.lexicon)
CORE = [  # the words the rules test for
    *("no", "not", "isn't", "never", "nor", "without", "doubt", "but", "least", "at", "very", "kind", "of"),
    *("so", "this", "or", "the"),
]
RULE_WORDS = [*NEGATE, *BOOSTER_DICT, *SPECIAL_CASES]  # "kind of", "bad ass" ... come out as two words
PHRASES = [  # the rules that look two or three words back
    *("never so", "never this", "never so very", "without doubt", "without a doubt", "without any doubt"),
    *("at least", "very least", "the least", "no or", "no nor", "not so", "so this", "kind of", "but not"),
    *("no time nor", "no way or", "no one nor"),
]
COMMON = [  # lexicon words, some of them in SPECIAL_CASES
    *("good", "bad", "great", "love", "hate", "sux", "lol", "funny", "horrible", "excellent", "compelling"),
    *("ass", "shit", "bomb", "death", "die"),
]
EMOTICONS = [":)", ":(", ":D", "<3", ":-)", ";)", ":P", "xD"]
EMOJI = ["😁", "💘", "💋", "😡", "😂", "🔥", "💩", "🔛", "🆙", "❤️", "☺️", *sorted(FAST._emoji_chars)[::97]]
PUNCT = ["!", "!!", "?", "??", "???", "...", ",", "'", ".", "-", "(", ")"]
SPACES = st.sampled_from([" ", " ", " ", "  ", "   ", "\t", "\n", ""])  # "" glues tokens together


def cased(words):
    """Mostly as written, else lower, UPPER or Title: ALL CAPS words count only when some others are not."""
    return st.tuples(st.sampled_from(words), st.sampled_from([str, str, str.lower, str.upper, str.title])).map(
        lambda wf: wf[1](wf[0])
    )


WORD = st.one_of(cased(CORE), cased(PHRASES), cased(COMMON), cased(RULE_WORDS), cased(LEXICON))
PUNCTUATED = st.tuples(st.sampled_from(["", "", "(", "'", '"']), WORD, st.sampled_from(["", "", *PUNCT])).map("".join)
TOKEN = st.one_of(
    WORD,
    WORD,
    WORD,
    PUNCTUATED,
    st.sampled_from(EMOTICONS),
    st.sampled_from(EMOJI),
    st.sampled_from(PUNCT),
    st.text("abcdefghijklmnopqrstuvwxyzABCXYZ'!?.:-", min_size=1, max_size=8),
    st.text(min_size=1, max_size=4),  # any unicode
)
TEXT = st.tuples(SPACES, st.lists(st.tuples(TOKEN, SPACES), max_size=25)).map(
    lambda t: t[0] + "".join(tok + sep for tok, sep in t[1])
)


@settings(
    max_examples=2000,
    deadline=None,
    derandomize=True,  # the same texts on every run: CI never flakes on a new draw
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=TEXT)
def test_hypothesis_texts(text):
    assert repr(FAST.polarity_scores(text)) == repr(LIBRARY.polarity_scores(text)), text


def test_non_str_is_left_to_the_library():
    with pytest.raises(TypeError):
        LIBRARY.polarity_scores(None)
    with pytest.raises(TypeError):
        FAST.polarity_scores(None)


def test_sentiment_uses_it_by_default():
    assert isinstance(Sentiment()._analyzer, FastVader)
