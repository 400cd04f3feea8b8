"""Duplicate folding: one short, deterministic key per text for retweets, copy-paste spam and cross-posts."""

from __future__ import annotations

import hashlib
import logging
import re
import struct
import unicodedata
from functools import lru_cache

from datasketch import MinHash

from analytics.entities import URL_LIKE
from analytics.trends import STOP_WORDS

logger = logging.getLogger(__name__)

# MinHash: `ROWS` permutations from a fixed seed and scheme, so every process on every machine agrees.
SEED = 20130203  # the Super Bowl XLVII blackout
ROWS = 3
SCHEME = "affine32"
# Texts with fewer content words (normalised, function words left out) than this are keyed exactly: a one-word
# change there is a new text. Function words are left out of the MinHash too: two unrelated tweets share "the",
# "a", "i", "to", and with them in the set a band of 3 collided for texts with 4-25 % word overlap.
MIN_FUZZY_WORDS = 6
KEY_BYTES = 8
CACHE_SIZE = 65_536
# Spam bursts: identical text pushed by accounts nobody follows, or by a handful of accounts over and over.
SPAM_MIN_POSTS = 5
SPAM_MAX_MEDIAN_FOLLOWERS = 50.0
SPAM_MIN_AUTHOR_SHARE = 0.2

_RT = re.compile(r"^\s*(?:rt\s+@[\w.\-]+:?\s*)+", re.IGNORECASE)
_MENTION = re.compile(r"@(?<![\w@]@)[\w.\-]+")  # "@" first: searched for, the lookbehind tried only there
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[^\W\d_]+")
_PERMUTATIONS = MinHash(num_perm=ROWS, seed=SEED, scheme=SCHEME).permutations
_A, _B = ([int(x) for x in row] for row in _PERMUTATIONS)
_M32 = 0xFFFFFFFF
WORD_CACHE = 1 << 17  # distinct words whose MinHash values are remembered (an event's vocabulary is Zipfian)


def normalise(text: str) -> list[str]:
    """Words that say what the text says: no RT prefix, links, @mentions, emoji, punctuation, digits or case."""
    text = _RT.sub("", text)
    text = _MENTION.sub(" ", URL_LIKE.sub(" ", text))
    text = unicodedata.normalize("NFKC", text).casefold()
    return _WORD.findall(_DIGITS.sub(" ", text))


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=KEY_BYTES).hexdigest()


@lru_cache(maxsize=WORD_CACHE)
def _word_values(word: str) -> tuple[int, ...]:
    """One word's value under each permutation, exactly as datasketch's affine32 MinHash computes it (the low
    32 bits of its SHA-1, the MurmurHash3 finalizer, then a * h + b mod 2**32): a text's key is the minimum of
    its words' values, so remembering them per word makes a new text cost a few dict lookups, not a MinHash."""
    h = int.from_bytes(hashlib.sha1(word.encode()).digest()[:4], "little")
    h ^= h >> 16
    h = h * 0x85EBCA6B & _M32
    h ^= h >> 13
    h = h * 0xC2B2AE35 & _M32
    h ^= h >> 16
    return tuple((a * h + b) & _M32 for a, b in zip(_A, _B, strict=True))


def _minhash_key(words: list[str]) -> str:
    """The key of datasketch's MinHash(ROWS, SEED, affine32) over the set of words (tests/analytics/test_dedupe.py
    checks they agree)."""
    mins = [min(column) for column in zip(*map(_word_values, set(words)), strict=True)]
    return "m" + _digest(struct.pack(f"<{ROWS}I", *mins))[1:]


@lru_cache(maxsize=CACHE_SIZE)
def fold_key(text: str) -> str:
    """16 hex characters; equal for a text, its retweets, its spam variants and (usually) its near-copies.

    Short texts are keyed by their exact normalised words. Longer ones by one LSH band of `ROWS` MinHash
    values over the set of content words: two texts collide with probability ~ Jaccard(content words) ** ROWS.
    """
    words = normalise(text)
    content = [w for w in words if w not in STOP_WORDS]
    if len(content) < MIN_FUZZY_WORDS:
        return "x" + _digest(" ".join(words).encode())[1:]
    return _minhash_key(content)


def is_spammy_burst(distinct_authors: int, posts: int, median_followers: float) -> bool:
    """A folded group that looks pushed, not shared: enough posts from unfollowed or few, repeating accounts."""
    if posts < SPAM_MIN_POSTS:
        return False
    few_voices = distinct_authors <= max(1, SPAM_MIN_AUTHOR_SHARE * posts)
    return few_voices or median_followers < SPAM_MAX_MEDIAN_FOLLOWERS
