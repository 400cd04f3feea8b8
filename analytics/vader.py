"""FastVader: vaderSentiment's `polarity_scores`, ported to do the same arithmetic with less waste.

The library (vaderSentiment 3.3.2) walks every text char by char to swap emoji for their descriptions, and lower-cases
the whole word list again inside `_negation_check` (up to three times) and `_special_idioms_check` for every lexicon
word, and `.lower()`s words again in every other rule. This port lower-cases once per text, finds emoji in C, and
only visits the words the lexicon knows: ~34 -> ~11 us a scenario text. It keeps the library's own `score_valence`,
`_but_check`, `scalar_inc_dec`, `allcap_differential` and constants, and repeats its rules in the library's order
(float operations included), so scores are bit-for-bit the same: tests/analytics/test_vader.py checks that against
the library itself on the scenario's texts, VADER's examples and hypothesis-made texts.
"""

from __future__ import annotations

import re
import string

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    allcap_differential,
    scalar_inc_dec,
)

# `negated([w])` for one word: the library lower-cases `w` again, a no-op on an already lower-cased word
# (str.lower is idempotent on every code point), then looks for it in NEGATE or for "n't" in it.
_NEGATE = frozenset(NEGATE)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# the words of SPECIAL_CASES' and BOOSTER_DICT's multi-word keys ("kiss of death", "kind of" ...)
_PHRASE_WORDS = frozenset(w for k in [*SPECIAL_CASES, *BOOSTER_DICT] if " " in k for w in k.split())


def _negated(lower_word: str) -> bool:
    return lower_word in _NEGATE or "n't" in lower_word


class FastVader(SentimentIntensityAnalyzer):
    """A SentimentIntensityAnalyzer (same lexicon and emoji loading) whose polarity_scores does less work."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The library looks emoji up one character at a time, so only one-character keys can ever match.
        self._emoji_chars = frozenset(k for k in self.emojis if len(k) == 1)
        if any(c.isascii() for c in self._emoji_chars):
            raise ValueError("an ASCII emoji key: the ASCII shortcut in polarity_scores would be wrong")

    def _replace_emoji(self, text: str) -> str:
        """The library's loop: a description replaces each emoji, after a space unless a ' ' precedes it."""
        if text.isascii():  # no emoji key is ASCII
            return text
        parts, last = [], 0
        # not a regex class of the 1,212 emoji: re tries non-BMP members one by one (~45 us a text). Find the
        # non-ASCII characters in C and look those up in the set.
        for m in _NON_ASCII.finditer(text):
            if m.group() not in self._emoji_chars:
                continue
            at = m.start()
            parts.append(text[last:at])
            if at > 0 and text[at - 1] != " ":  # the library's prev_space: only a plain ' ' counts, an emoji doesn't
                parts.append(" ")
            parts.append(self.emojis[m.group()])
            last = at + 1
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)

    def polarity_scores(self, text):
        if not isinstance(text, str):  # whatever the library does with it
            return super().polarity_scores(text)
        text = self._replace_emoji(text).strip()
        # SentiText._words_and_emoticons: strip punctuation off a token unless that leaves two chars or fewer
        words = [t if len(s := t.strip(string.punctuation)) <= 2 else s for t in text.split()]
        lower = [w.lower() for w in words]  # once per text, not once per lexicon word and rule
        lex = self.lexicon
        sentiments = [0] * len(words)  # what the library appends for boosters, "kind of" and unknown words
        is_cap_diff = None
        for i, item in enumerate(lower):
            if item not in lex or item in BOOSTER_DICT:
                continue
            if item == "kind" and i < len(lower) - 1 and lower[i + 1] == "of":
                continue
            if is_cap_diff is None:  # only needed once a word has sentiment
                is_cap_diff = allcap_differential(words)
            sentiments[i] = self._valence(words, lower, i, is_cap_diff)
        if "but" in lower:  # the library's own, with its sentiments.index(value) quirk
            sentiments = self._but_check(words, sentiments)
        return self.score_valence(sentiments, text)

    def _valence(self, words, lower, i, is_cap_diff):
        """sentiment_valence for lexicon word i (with its _negation_check and _least_check), on the lower-cased words.

        The library's `for start_i in range(3)` is unrolled: one step per preceding word i-1, i-2, i-3, each taken
        only if that word is outside the lexicon.
        """
        lex = self.lexicon
        item = lower[i]
        valence = lex[item]
        # "no" before a lexicon word negates it instead of counting itself
        if item == "no" and i != len(lower) - 1 and lower[i + 1] in lex:
            valence = 0.0
        if (
            (i > 0 and lower[i - 1] == "no")
            or (i > 1 and lower[i - 2] == "no")
            or (i > 2 and lower[i - 3] == "no" and lower[i - 1] in ["or", "nor"])
        ):
            valence = lex[item] * N_SCALAR
        if words[i].isupper() and is_cap_diff:
            if valence > 0:
                valence += C_INCR
            else:
                valence -= C_INCR
        # scalar_inc_dec is 0.0 for a word outside BOOSTER_DICT: skip the call, not the addition (-0.0 + 0.0)
        if i > 0 and (w1 := lower[i - 1]) not in lex:
            s = scalar_inc_dec(words[i - 1], valence, is_cap_diff) if w1 in BOOSTER_DICT else 0.0
            valence = valence + s
            if _negated(w1):
                valence = valence * N_SCALAR
        if i > 1 and (w2 := lower[i - 2]) not in lex:
            s = scalar_inc_dec(words[i - 2], valence, is_cap_diff) if w2 in BOOSTER_DICT else 0.0
            if s != 0:
                s = s * 0.95
            valence = valence + s
            if w2 == "never" and (lower[i - 1] == "so" or lower[i - 1] == "this"):
                valence = valence * 1.25
            elif w2 == "without" and lower[i - 1] == "doubt":
                pass
            elif _negated(w2):
                valence = valence * N_SCALAR
        if i > 2 and (w3 := lower[i - 3]) not in lex:
            s = scalar_inc_dec(words[i - 3], valence, is_cap_diff) if w3 in BOOSTER_DICT else 0.0
            if s != 0:
                s = s * 0.9
            valence = valence + s
            # the library's precedence: (never and (so or this)) or (so or this just before)
            if (
                w3 == "never"
                and (lower[i - 2] == "so" or lower[i - 2] == "this")
                or (lower[i - 1] == "so" or lower[i - 1] == "this")
            ):
                valence = valence * 1.25
            elif w3 == "without" and (lower[i - 2] == "doubt" or lower[i - 1] == "doubt"):
                pass
            elif _negated(w3):
                valence = valence * N_SCALAR
            valence = _special_idioms_check(valence, lower, i)
        # _least_check: "least" before the word negates it, unless "at least" or "very least"
        if i > 1 and lower[i - 1] not in lex and lower[i - 1] == "least":
            if lower[i - 2] != "at" and lower[i - 2] != "very":
                valence = valence * N_SCALAR
        elif i > 0 and lower[i - 1] not in lex and lower[i - 1] == "least":
            valence = valence * N_SCALAR
        return valence


def _special_idioms_check(valence, lower, i):
    """Only ever called with i > 2, as in the library."""
    # every phrase it tries holds word i-2, i-1 or i, and matches only if all its words are phrase words
    if lower[i - 2] not in _PHRASE_WORDS and lower[i - 1] not in _PHRASE_WORDS and lower[i] not in _PHRASE_WORDS:
        return valence
    onezero = f"{lower[i - 1]} {lower[i]}"
    twoonezero = f"{lower[i - 2]} {lower[i - 1]} {lower[i]}"
    twoone = f"{lower[i - 2]} {lower[i - 1]}"
    threetwoone = f"{lower[i - 3]} {lower[i - 2]} {lower[i - 1]}"
    threetwo = f"{lower[i - 3]} {lower[i - 2]}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    if len(lower) - 1 > i:
        zeroone = f"{lower[i]} {lower[i + 1]}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if len(lower) - 1 > i + 1:
        zeroonetwo = f"{lower[i]} {lower[i + 1]} {lower[i + 2]}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):  # booster bi-grams such as "kind of", in the library's order
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence
