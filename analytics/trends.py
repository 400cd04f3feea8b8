"""Significance-based trending terms in fixed memory (SigniTrend, Schubert et al., KDD 2014)."""

from __future__ import annotations

import hashlib
import heapq
import io
import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: words and phrases as well as hashtags, Poisson noise floor
MAX_GAP_HALF_LIVES = 30  # after this many half-lives of silence a cell has decayed to nothing
HASH_CACHE_SIZE = 1 << 15
# Floors that scale with the stream (the event file's thresholds override them, see `top`): a term listed must
# be in at least MIN_COUNT posts of the window *and* in MIN_SHARE of all its posts. 3 posts is a real cluster at
# 3 posts/s (15 per 5 s bucket); 0.2 % is 100 posts at 10,000/s, where 3 posts of one word are chance.
MIN_COUNT = 3
MIN_SHARE = 0.002
# ... and at least MIN_LIFT times its own baseline: relative to the term's level, so a busy word's ordinary
# wobble (+1 % of 40,000 is z 2) is not "rising" while a word going from 2 to 6 posts is.
MIN_LIFT = 1.5
NOISE_FLOOR = 1.0  # one post: the scale never drops below it (with sqrt(baseline), the Poisson std)


# -- what is counted -------------------------------------------------------------------------------------

MAX_TERMS = 16  # per post: hashtags first, then tracked phrases, words, word pairs
# Function words of the languages the feeds carry (and tweet filler); they are never "what is rising".
_STOP_TEXT = """a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can can't cannot could did didn't do does doesn't doing don't down during each
    few for from further get got had has have having he her here hers him his how i i'm if in into is isn't it
    it's its itself just let's me more most my no nor not now of off on once only or other our ours out over own
    same she should so some such than that that's the their theirs them then there these they this those through
    to too under until up very was wasn't we were what when where which while who whom why will with won't would
    you you're your yours yet rt amp via lol omg lmao tbh smh ngl im u ur gonna wanna yeah yes ok okay like
    el la los las en de del y que se un una es por para con al lo su sus mi qué muy más pero como
    o a e um uma do da dos das na no em os as é não com para mais
    le les au aux du des et est un une pour pas sur dans qui ce il elle je tu
    der die das den dem ein eine und ist im beim mit von zu auf nicht ich es sie wir"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_WORD = re.compile(r"[^\W\d_][\w'’\-]*", re.UNICODE)
_NO_SPACES = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f]")
_BREAK = re.compile(r"[.!?;:,()\[\]{}\"“”…|/\n。、！？「」]+")
# Particles that end a word in Chinese and Japanese text: a cheap split where there are no spaces.
_PARTICLES = re.compile(r"[的了是在和与也都很就吗呢吧啊のはがをにでともへやからまでよね]+")
_SKIP = re.compile(r"(?:https?://|www\.)\S+|[@#][\w.\-]+", re.IGNORECASE)


def terms(text: str, hashtags: tuple[str, ...] | list[str] = (), phrases: tuple[str, ...] | list[str] = ()) -> tuple:
    """What a post adds to trending: its hashtags, the event's tracked phrases it contains, its content words
    and adjacent content-word pairs ("power outage"), each once, lower-case; a hashtag and the same word count
    once ("#blackout" and "blackout" are one term). Links, @mentions and function words are left out; a run of
    a script written without spaces (Chinese, Japanese, Thai) counts whole when it is short (2-8 characters).
    """
    out: dict[str, None] = dict.fromkeys(t.lower().lstrip("#") for t in hashtags if t)
    out.update(dict.fromkeys(phrases))
    for chunk in _BREAK.split(_SKIP.sub("|", text).lower()):
        previous = None
        spaced = chunk.isascii()
        for word in _WORD.findall(chunk):
            word = word.strip("'’-")
            if word.endswith(("'s", "’s")):
                word = word[:-2]
            if not spaced and _NO_SPACES.search(word):
                out.update(dict.fromkeys(w for w in _PARTICLES.split(word) if 2 <= len(w) <= 8))
                previous = None
                continue
            if len(word) < 3 or word in STOP_WORDS or ("'" in word and word.split("'")[0] in STOP_WORDS):
                previous = None
                continue
            out[word] = None
            if previous:
                out[f"{previous} {word}"] = None
            previous = word
        if len(out) >= MAX_TERMS:
            break
    return tuple(out)[:MAX_TERMS]


@dataclass(frozen=True)
class Trend:
    term: str
    count: int  # occurrences in the last bucket_s seconds (sliding)
    rate_per_min: float  # current rate
    baseline_per_min: float  # EW mean of its own history, per minute
    significance: float  # (rate - baseline) / max(std, noise floor)
    rising_since: float | None  # epoch seconds when the current rise began, None if not rising


def _top_labels(counts: Mapping[str, int], cap: int) -> dict[str, int]:
    """The `cap` busiest terms of a bucket, kept only for display; the sketch sees every term."""
    if len(counts) <= cap:
        return {term: int(n) for term, n in counts.items() if n > 0}
    return {term: int(n) for term, n in heapq.nlargest(cap, counts.items(), key=lambda item: item[1]) if n > 0}


class TrendDetector:
    """Per-bucket counts hashed into a depth x width table of EW mean / EW variance cells.

    A term's significance is the minimum over its `depth` cells of
    (sliding count - EW mean) / max(EW std, noise floor): collisions can only make a cell look
    busier and steadier, so the minimum is the conservative estimate, as in SigniTrend. Each
    bucket's step into the mean/variance is clipped (see `_fold`) so a burst does not mask itself.
    Memory is fixed by width, depth and `max_labels`, whatever the vocabulary.
    """

    def __init__(
        self,
        *,
        bucket_s: float = 5.0,
        half_life_s: float = 300.0,
        width: int = 2**14,
        depth: int = 3,
        noise_floor: float = NOISE_FLOOR,
        threshold: float = 4.0,
        clip: float | None = 3.0,
        seed: int = 0,
        max_labels: int = 5000,
        warmup_buckets: int = 2,
    ) -> None:
        self.bucket_s = float(bucket_s)
        self.half_life_s = float(half_life_s)
        self.width = int(width)
        self.depth = int(depth)
        self.noise_floor = float(noise_floor)
        self.threshold = float(threshold)
        self.clip = None if clip is None else float(clip)
        self.seed = int(seed)
        self.max_labels = int(max_labels)
        self.warmup_buckets = int(warmup_buckets)
        self.alpha = 1.0 - 0.5 ** (self.bucket_s / self.half_life_s)
        self._salt = self.seed.to_bytes(8, "little", signed=True)
        self._offsets = (np.arange(self.depth, dtype=np.int64) * self.width)[None, :]
        self._hash_cache: dict[str, tuple[int, int]] = {}
        cells = self.depth * self.width
        self._mean = np.zeros(cells)
        self._var = np.zeros(cells)
        self._current_cells = np.zeros(cells)
        self._previous_cells = np.zeros(cells)
        self._current: dict[str, int] = {}
        self._previous: dict[str, int] = {}
        self._bucket: int | None = None
        self._previous_valid = False
        self._folded = 0
        self._rising: dict[str, float] = {}

    # -- hashing ---------------------------------------------------------------------------------

    def _hash(self, term: str) -> tuple[int, int]:
        cached = self._hash_cache.get(term)
        if cached is None:
            digest = hashlib.blake2b(term.encode("utf-8"), digest_size=16, salt=self._salt).digest()
            cached = (
                int.from_bytes(digest[:8], "little"),
                int.from_bytes(digest[8:], "little") | 1,
            )
            if len(self._hash_cache) >= HASH_CACHE_SIZE:
                self._hash_cache.clear()
            self._hash_cache[term] = cached
        return cached

    def _cells(self, terms: list[str]) -> np.ndarray:
        """(len(terms), depth) flat cell indices by double hashing: h1 + i * h2 mod width, row i."""
        pairs = np.array([self._hash(term) for term in terms], dtype=np.uint64).reshape(-1, 2)
        rows = np.arange(self.depth, dtype=np.uint64)[None, :]
        columns = (pairs[:, :1] + rows * pairs[:, 1:]) % np.uint64(self.width)
        return columns.astype(np.int64) + self._offsets

    def _cell_counts(self, counts: Mapping[str, int]) -> np.ndarray:
        cells = np.zeros(self.depth * self.width)
        if counts:
            index = self._cells(list(counts))
            weights = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            cells += np.bincount(
                index.ravel(),
                weights=np.repeat(weights, self.depth),
                minlength=cells.size,
            )
        return cells

    # -- updates ---------------------------------------------------------------------------------

    def update(self, bucket: int, counts: Mapping[str, int]) -> None:
        """Cumulative totals for bucket index `bucket` (= floor(epoch / bucket_s)).

        The current, still-filling bucket may be sent every tick with growing totals, and the
        previous bucket once more with its final totals. Idempotent. When a newer bucket index
        appears, every older bucket is folded into the baseline exactly once (gaps count as zeros).
        """
        bucket = int(bucket)
        if self._bucket is None:
            self._bucket = bucket
        if bucket > self._bucket:
            self._advance(bucket)
        if bucket == self._bucket:
            self._current_cells = self._cell_counts(counts)
            self._current = _top_labels(counts, self.max_labels)
        elif bucket == self._bucket - 1:
            self._previous_cells = self._cell_counts(counts)
            self._previous = _top_labels(counts, self.max_labels)
            self._previous_valid = True
        else:
            logger.debug(
                "ignoring totals for bucket %d, already folded (current %d)",
                bucket,
                self._bucket,
            )

    def _advance(self, bucket: int) -> None:
        """Fold the previous bucket; on a gap also the current one and the missing ones (zeros)."""
        if self._previous_valid:
            self._fold(self._previous_cells)
        if bucket == self._bucket + 1:
            self._previous_cells, self._previous = self._current_cells, self._current
        else:
            self._fold(self._current_cells)
            self._fold_zeros(bucket - self._bucket - 2)
            self._previous_cells, self._previous = (
                np.zeros_like(self._current_cells),
                {},
            )
        self._previous_valid = True
        self._current_cells, self._current = np.zeros_like(self._current_cells), {}
        self._bucket = bucket

    def _fold(self, cells: np.ndarray) -> None:
        """One EW mean/variance step for every cell; the first buckets use plain running averages.

        Once in the EW regime the step is clipped at `clip` standard deviations (noise floor
        included), so a burst stays significant for minutes instead of inflating its own variance
        at once; a lasting change is still absorbed within a few half-lives.
        """
        alpha = max(self.alpha, 1.0 / (self._folded + 1))
        delta = cells - self._mean
        # Clip from the first few buckets on: a burst during warm-up must not become its own baseline.
        if self.clip is not None and self._folded >= self.warmup_buckets:
            bound = self.clip * np.maximum(np.sqrt(self._var), self.noise_floor)
            np.clip(delta, -bound, bound, out=delta)
        self._mean += alpha * delta
        self._var = (1.0 - alpha) * (self._var + alpha * delta * delta)
        self._folded += 1

    def _fold_zeros(self, buckets: int) -> None:
        limit = math.ceil(MAX_GAP_HALF_LIVES * self.half_life_s / self.bucket_s)
        zeros = np.zeros_like(self._mean)
        for _ in range(min(max(buckets, 0), limit)):
            self._fold(zeros)
        if buckets > limit:
            self._mean[:] = 0.0
            self._var[:] = 0.0
            self._folded += buckets - limit

    # -- queries ---------------------------------------------------------------------------------

    def _elapsed_fraction(self, now: float) -> float:
        start = self._bucket * self.bucket_s
        return min(max((now - start) / self.bucket_s, 0.0), 1.0)

    def top(
        self,
        now: float,
        n: int = 10,
        *,
        posts: float | None = None,
        min_count: float = MIN_COUNT,
        min_share: float = MIN_SHARE,
        min_lift: float = MIN_LIFT,
    ) -> list[Trend]:
        """Most significant terms right now, highest first; only terms clear of the noise.

        The count is a sliding window of bucket_s seconds: the partial current bucket plus the
        not-yet-elapsed tail of the previous one, so an early bucket is not read as a quiet one.
        A term is listed when its count beats its baseline, is at least `min_count` and (given `posts`,
        the stream's posts in the same window) at least `min_share` of them, and at least `min_lift` times
        its baseline: floors relative to the stream and to the term's own level, so the same defaults hold at
        1 and at 50,000 posts/s. The significance is the EW z-score (scale: the term's own EW std, never
        below sqrt(baseline) nor `noise_floor`) capped by the Poisson z-score of the count on the baseline.
        Also records when each term first crossed the threshold (`rising_since`).
        """
        if self._bucket is None or self._folded < self.warmup_buckets:
            return []
        terms = list(self._current.keys() | self._previous.keys())
        if not terms:
            self._rising.clear()
            return []
        tail = 1.0 - self._elapsed_fraction(now)
        counts = np.array([self._current.get(t, 0) + tail * self._previous.get(t, 0) for t in terms])
        index = self._cells(terms)
        cell_counts = (self._current_cells + tail * self._previous_cells)[index]
        mean = self._mean[index]
        scale = np.maximum(np.maximum(np.sqrt(self._var[index]), np.sqrt(np.maximum(mean, 0.0))), self.noise_floor)
        # The EW z-score, never above the Poisson one (variance-stabilised counts, as in analytics/spikes.py): at
        # a few posts per bucket a term's EW variance is mostly luck, and 3 posts of a word seen 0.5 times a
        # bucket is chance, not a trend.
        poisson = 2.0 * (np.sqrt(np.maximum(cell_counts, 0.0) + 0.375) - np.sqrt(np.maximum(mean, 0.0) + 0.375))
        significance = np.minimum((cell_counts - mean) / scale, poisson).min(axis=1)
        baseline = mean.min(axis=1)
        self._track_rising(now, terms, significance)
        floor = max(float(min_count), float(min_share) * float(posts or 0.0))
        lifted = counts >= float(min_lift) * np.maximum(baseline, 0.0)
        keep = np.flatnonzero((significance > 0) & (counts > baseline) & (counts >= floor) & lifted)
        order = keep[np.argsort(-significance[keep], kind="stable")][:n]
        return [self._trend(terms[i], counts[i], baseline[i], significance[i]) for i in order]

    def _trend(self, term: str, count: float, baseline: float, significance: float) -> Trend:
        per_min = 60.0 / self.bucket_s
        return Trend(
            term=term,
            count=round(float(count)),
            rate_per_min=float(count * per_min),
            baseline_per_min=float(baseline * per_min),
            significance=float(significance),
            rising_since=self._rising.get(term),
        )

    def _track_rising(self, now: float, terms: list[str], significance: np.ndarray) -> None:
        bucket_start = math.floor(now / self.bucket_s) * self.bucket_s
        rising = {}
        for term, sig in zip(terms, significance.tolist(), strict=True):
            if sig > self.threshold:
                rising[term] = self._rising.get(term, bucket_start)
        self._rising = rising

    # -- persistence -----------------------------------------------------------------------------

    def _params(self) -> dict:
        return {
            "bucket_s": self.bucket_s,
            "half_life_s": self.half_life_s,
            "width": self.width,
            "depth": self.depth,
            "noise_floor": self.noise_floor,
            "threshold": self.threshold,
            "clip": self.clip,
            "seed": self.seed,
            "max_labels": self.max_labels,
            "warmup_buckets": self.warmup_buckets,
        }

    def to_bytes(self) -> bytes:
        """Everything needed to resume after a restart, as an .npz archive (no pickle)."""
        meta = {
            "version": FORMAT_VERSION,
            "params": self._params(),
            "bucket": self._bucket,
            "previous_valid": self._previous_valid,
            "folded": self._folded,
            "current": self._current,
            "previous": self._previous,
            "rising": self._rising,
        }
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
            mean=self._mean,
            var=self._var,
            current_cells=self._current_cells,
            previous_cells=self._previous_cells,
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TrendDetector:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            meta = json.loads(archive["meta"].tobytes().decode("utf-8"))
            if meta.get("version") != FORMAT_VERSION:
                raise ValueError(f"trend state version {meta.get('version')!r} is not {FORMAT_VERSION}; start afresh")
            detector = cls(**meta["params"])
            detector._mean = archive["mean"].copy()
            detector._var = archive["var"].copy()
            detector._current_cells = archive["current_cells"].copy()
            detector._previous_cells = archive["previous_cells"].copy()
        detector._bucket = meta["bucket"]
        detector._previous_valid = meta["previous_valid"]
        detector._folded = meta["folded"]
        detector._current = meta["current"]
        detector._previous = meta["previous"]
        detector._rising = meta["rising"]
        return detector
