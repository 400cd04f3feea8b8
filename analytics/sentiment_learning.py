"""Sentiment that learns from the team's corrections: an online hashed classifier that overrides the lexicon's
label when it is confident.

The lexicon (analytics/sentiment.py) is right most of the time and wrong in ways a room sees at once: slang
("that ad is sick", "insane spot") reads negative. Each correction is one example, so a model trained on
corrections alone would only ever learn "the lexicon is wrong". Two things anchor it:

* every example carries the lexicon's own label as a feature (`lex:negative`), and
* the lexicon itself is in the training set: each VADER word with |valence| >= ANCHOR_VALENCE is a one-word
  document labelled by its sign (with its `lex:` feature), and English stop words are neutral documents,
  down-weighted so that a handful of corrections outweighs one word's anchor;
* the room's own context: the feed posts the team saw and did not correct, labelled by the lexicon
  (CONTEXT_WEIGHT each). Without them every word the corrections share ("oreo", "ad") would be learned as the
  corrected label, and "the new oreo ad is boring" would turn positive after five "sick" corrections.

So the `lex:` features carry the prior ("agree with the lexicon"), the context cancels the brand's own words,
and what the corrections alone share (the slang word) carries the exception. `apply` changes a post's compound only when the model disagrees with the lexicon's label with a
probability of at least `threshold`; the corrected label's value is LABEL_VALUE.

Prediction in the processor is one post at a time (sentiment is computed lazily, only for posts that are
charted or shown): a hand-rolled sparse dot product over the same hashed columns sklearn uses, not a
vectorizer call per post. scikit-learn is only imported to learn (the aggregator) — a worker that loads a model
reads numpy arrays.
"""

from __future__ import annotations

import functools
import io
import json
import math
import re
import struct
import threading
from collections import deque

import numpy as np

from analytics.sentiment import label, prepare

LABELS = ("negative", "neutral", "positive")
RANK = {name: i for i, name in enumerate(LABELS)}
LABEL_VALUE = {"negative": -0.6, "neutral": 0.0, "positive": 0.6}  # a corrected/learned post's compound
THRESHOLD = 0.5  # override the lexicon only when the model is at least this sure of another label (of 3)
ANCHOR_VALENCE = 1.0  # lexicon words at least this strong become anchor documents
ANCHOR_WEIGHT = 0.01  # one anchor document weighs this much against one correction
CONTEXT_WEIGHT = 0.2  # one uncorrected feed post (labelled by the lexicon) against one correction
CONTEXT_KEPT = 300  # the most recent distinct uncorrected feed texts kept as context
ALPHA = 1e-5
EPOCHS = 10  # passes over the replay buffer + anchors per learn() call
REPLAY_PER_CLASS = 300
N_FEATURES = 2**16  # ~8,000 anchor words and the room's vocabulary; a learn() call is ~0.2 s of one core
MAGIC = b"WRSM"
VERSION = 1

_TOKEN = re.compile(r"[^\W\d_][\w']*", re.UNICODE)


class InvalidModel(ValueError):
    """Bytes that are not a saved SentimentModel; start a new one (the corrections stream can be replayed)."""


@functools.cache
def _sklearn():
    """scikit-learn, imported on first learn (it costs seconds): workers that only apply a model never import it."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
    from sklearn.linear_model import SGDClassifier
    from sklearn.utils import murmurhash3_32

    return SGDClassifier, murmurhash3_32, ENGLISH_STOP_WORDS


def _murmur(token: str) -> int:
    return _sklearn()[1](token, seed=0)


@functools.lru_cache(maxsize=200_000)
def column(token: str, n_features: int = N_FEATURES) -> int:
    """The column sklearn's HashingVectorizer (alternate_sign=False) puts `token` in."""
    h = _murmur_fast(token)
    return (2147483647 - (n_features - 1)) % n_features if h == -(2**31) else abs(h) % n_features


def _murmur_fast(token: str) -> int:
    try:
        from sklearn.utils._murmurhash import murmurhash3_32  # noqa: PLC0415 - cheap C extension, no sklearn init
    except ImportError:  # pragma: no cover - another sklearn layout
        return _murmur(token)
    return murmurhash3_32(token, seed=0)


def tokens(text: str, lexicon_label: str) -> list[str]:
    """Words (hashtags split, emoji as words, case-folded), word bigrams, and the lexicon's label."""
    words = _TOKEN.findall(prepare(text).casefold())
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)] + [f"lex:{lexicon_label}"]


class SentimentModel:
    """3-class online classifier (negative, neutral, positive): hashed word 1-2 grams + the lexicon's label,
    SGDClassifier(log_loss) refit with partial_fit on the corrections' replay buffer plus the lexicon anchors."""

    def __init__(self, n_features: int = N_FEATURES, seed: int = 0, threshold: float = THRESHOLD):
        self.n_features, self.seed, self.threshold = n_features, seed, threshold
        self._replay: dict[str, deque[list[str]]] = {k: deque(maxlen=REPLAY_PER_CLASS) for k in LABELS}
        self._seen = dict.fromkeys(LABELS, 0)
        self._context: deque[tuple[str, str]] = deque(maxlen=CONTEXT_KEPT)
        self._context_texts: set[str] = set()
        self._classifier = None
        self.coef: np.ndarray | None = None  # (3, n_features)
        self.intercept: np.ndarray | None = None

    @property
    def corrections(self) -> int:
        """Corrections learned so far."""
        return sum(self._seen.values())

    @property
    def ready(self) -> bool:
        return self.coef is not None

    def learn(
        self, texts: list[str], lexicon_labels: list[str], labels: list[str], context: list[str] | tuple = ()
    ) -> None:
        """Fold corrections in: (text, the lexicon's label at the time, the label the team chose); `context` is
        texts the team saw and left alone (the feed), remembered as the lexicon labels them."""
        if not texts:
            return
        corrected = set(texts)
        for text in context:
            if text not in corrected and text not in self._context_texts:
                self._context_texts.add(text)
                self._context.append((text, label(_lexicon()(text))))
        while len(self._context_texts) > len(self._context):
            self._context_texts = {t for t, _ in self._context}
        for text, lex, chosen in zip(texts, lexicon_labels, labels, strict=True):
            if chosen not in RANK or lex not in RANK:
                raise ValueError(f"sentiment labels are {LABELS}, not {chosen!r} / {lex!r}")
            self._replay[chosen].append(tokens(text, lex))
            self._seen[chosen] += 1
        docs, y, w = list(_anchors()[0]), list(_anchors()[1]), [ANCHOR_WEIGHT] * len(_anchors()[1])
        for text, lex in self._context:
            if text not in corrected:
                docs.append(tokens(text, lex))
                y.append(RANK[lex])
                w.append(CONTEXT_WEIGHT)
        for name in LABELS:
            docs += list(self._replay[name])
            y += [RANK[name]] * len(self._replay[name])
            w += [1.0] * len(self._replay[name])
        x = self._matrix(docs)
        y, w = np.array(y), np.array(w)
        if self._classifier is None:
            self._classifier = _sklearn()[0](loss="log_loss", alpha=ALPHA, random_state=self.seed)
            if self.coef is not None:  # restored: continue from the saved weights
                self._classifier.partial_fit(x[:1], y[:1], classes=np.arange(3))
                self._classifier.coef_, self._classifier.intercept_ = self.coef.copy(), self.intercept.copy()
        for _ in range(EPOCHS):
            self._classifier.partial_fit(x, y, classes=np.arange(3), sample_weight=w)
        self.coef, self.intercept = self._classifier.coef_, self._classifier.intercept_

    def _matrix(self, docs: list[list[str]]):
        from scipy.sparse import csr_matrix  # noqa: PLC0415 - with sklearn, only where learning happens

        indptr, indices, data = [0], [], []
        for doc in docs:
            cols, vals = self._row(doc)
            indices += cols
            data += vals
            indptr.append(len(indices))
        return csr_matrix((data, indices, indptr), shape=(len(docs), self.n_features))

    def _row(self, doc: list[str]) -> tuple[list[int], list[float]]:
        """L2-normalised counts per hashed column (as HashingVectorizer with norm="l2")."""
        counts: dict[int, float] = {}
        for t in doc:
            c = column(t, self.n_features)
            counts[c] = counts.get(c, 0.0) + 1.0
        norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
        return list(counts), [v / norm for v in counts.values()]

    def predict(self, text: str, lexicon_label: str, why: bool = True) -> tuple[str, float, str]:
        """(label, probability, the word that drove it) for one text; ("", 0, "") before the first correction."""
        if self.coef is None:
            return "", 0.0, ""
        doc = tokens(text, lexicon_label)
        cols, vals = self._row(doc)
        contrib = self.coef[:, cols] * vals
        raw = contrib.sum(axis=1) + self.intercept
        p = 1.0 / (1.0 + np.exp(-raw))  # one-vs-rest, normalised as sklearn's predict_proba does
        p = p / p.sum()
        best = int(np.argmax(p))
        word = ""
        if why:
            strength = dict(zip(cols, contrib[best].tolist(), strict=True))
            words = [t for t in doc if not t.startswith("lex:")]
            if words:
                word = max(words, key=lambda t: strength[column(t, self.n_features)])
        return LABELS[best], float(p[best]), word

    def apply(self, text: str, compound: float) -> tuple[float, str]:
        """The compound to keep for `text`: the lexicon's, or LABEL_VALUE of the learned label when the model
        disagrees with the lexicon with probability >= threshold; and why ("learned: 'sick' → positive")."""
        lex = label(compound)
        learned, p, _ = self.predict(text, lex, why=False)
        if not learned or learned == lex or p < self.threshold:
            return compound, ""
        word = self.predict(text, lex)[2]
        return LABEL_VALUE[learned], f"learned: {word!r} → {learned}" if word else f"learned → {learned}"

    def to_bytes(self) -> bytes:
        """A versioned envelope: JSON header (settings, counts, replay) + npz of the weights. No pickle."""
        header = {
            "n_features": self.n_features,
            "seed": self.seed,
            "threshold": self.threshold,
            "seen": self._seen,
            "replay": {k: list(v) for k, v in self._replay.items()},
            "context": list(self._context),
        }
        weights = io.BytesIO()
        if self.coef is not None:
            np.savez_compressed(weights, coef=self.coef.astype(np.float32), intercept=self.intercept)
        head = json.dumps(header).encode()
        return MAGIC + struct.pack(">BI", VERSION, len(head)) + head + weights.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SentimentModel:
        if data[:4] != MAGIC or len(data) < 9:
            raise InvalidModel("not a saved SentimentModel (bad magic)")
        version, size = struct.unpack(">BI", data[4:9])
        if version != VERSION:
            raise InvalidModel(f"saved SentimentModel version {version}, this code reads {VERSION}")
        header = json.loads(data[9 : 9 + size])
        model = cls(header["n_features"], header["seed"], header["threshold"])
        model._seen = {k: int(header["seen"].get(k, 0)) for k in LABELS}
        for k in LABELS:
            model._replay[k].extend(header["replay"].get(k, []))
        model._context.extend((t, lex) for t, lex in header.get("context", []))
        model._context_texts = {t for t, _ in model._context}
        if rest := data[9 + size :]:
            arrays = np.load(io.BytesIO(rest), allow_pickle=False)
            model.coef, model.intercept = arrays["coef"].astype(np.float64), arrays["intercept"]
        return model


_warming: list[threading.Thread] = []


def ensure_warm() -> bool:
    """True once the anchors (VADER's lexicon, scikit-learn: seconds to build) are ready; otherwise starts building
    them on a background thread (once) and returns False, so the aggregator's tick is never held up by it: the
    corrections wait in their stream until a later tick."""
    if _anchors.cache_info().currsize:
        return True
    if not _warming:
        thread = threading.Thread(target=_anchors, name="sentiment-warm-up", daemon=True)
        _warming.append(thread)
        thread.start()
    return False


def warm_up() -> None:
    """Build the anchors now (tests, and callers that can wait)."""
    _anchors()


@functools.cache
def _lexicon():
    from analytics.sentiment import Sentiment  # noqa: PLC0415

    return Sentiment(cache_size=4096).compound


@functools.cache
def _anchors() -> tuple[tuple[list[str], ...], tuple[int, ...]]:
    """The lexicon as training documents: strong VADER words by their sign, stop words as neutral."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: PLC0415

    docs, y = [], []
    for word, valence in SentimentIntensityAnalyzer().lexicon.items():
        if abs(valence) >= ANCHOR_VALENCE and _TOKEN.fullmatch(word):
            name = "positive" if valence > 0 else "negative"
            docs.append([word, f"lex:{name}"])
            y.append(RANK[name])
    for word in sorted(_sklearn()[2]):
        docs.append([word, "lex:neutral"])
        y.append(RANK["neutral"])
    return tuple(docs), tuple(y)
