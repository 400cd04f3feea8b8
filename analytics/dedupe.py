"""Duplicate folding: one short, deterministic key per text for retweets, copy-paste spam and cross-posts."""

from __future__ import annotations

import hashlib
import logging
import re
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
_MENTION = re.compile(r"(?<![\w@])@[\w.\-]+")
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[^\W\d_]+")
_PERMUTATIONS = MinHash(num_perm=ROWS, seed=SEED, scheme=SCHEME).permutations


def normalise(text: str) -> list[str]:
    """Words that say what the text says: no RT prefix, links, @mentions, emoji, punctuation, digits or case."""
    text = _RT.sub("", text)
    text = _MENTION.sub(" ", URL_LIKE.sub(" ", text))
    text = unicodedata.normalize("NFKC", text).casefold()
    return _WORD.findall(_DIGITS.sub(" ", text))


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=KEY_BYTES).hexdigest()


def _minhash_key(words: list[str]) -> str:
    m = MinHash(num_perm=ROWS, seed=SEED, permutations=_PERMUTATIONS, scheme=SCHEME)
    m.update_batch([w.encode() for w in set(words)])
    return "m" + _digest(m.hashvalues.tobytes())[1:]


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
