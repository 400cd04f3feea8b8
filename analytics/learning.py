"""Relevance that learns from the room's marks: an online hashed logistic model whose points join the rule score."""

from __future__ import annotations

import functools
import io
import json
import logging
import re
import struct
from collections import deque
from itertools import pairwise

import numpy as np

from analytics import heavy
from analytics.entities import URL_LIKE


@functools.cache
def _sklearn():
    """scikit-learn, imported on first use: it costs a worker seconds at start-up, and a room without marks never
    builds a model (a restarted worker is back in the group sooner)."""
    with heavy.LOCK:
        from sklearn.feature_extraction.text import HashingVectorizer
        from sklearn.linear_model import SGDClassifier
        from sklearn.utils import murmurhash3_32

    return HashingVectorizer, SGDClassifier, murmurhash3_32


logger = logging.getLogger(__name__)

CLASSES = np.array([0, 1])
SCALE = 6.0  # points = SCALE * (p - 0.5): a confident model moves a post by up to +/-3
ALPHA = 1e-3  # L2 strength: with a few dozen marks, stronger than sklearn's default keeps p off 0 and 1
REPLAY_PER_CLASS = 200  # recent marks of each class refit with every new batch
TOKEN_CACHE = 200_000
MAGIC = b"WRRM"
VERSION = 1

_TOKEN = re.compile(r"[#@]?[^\W\d_][\w'.\-]*", re.UNICODE)


class InvalidModel(ValueError):
    """Bytes that are not a saved RelevanceModel; train a new one (marks are lost) or restore a backup."""


def tokens(post: dict) -> list[str]:
    """Word 1-2 grams (hashtags keep their '#'), hashtags, the author and the source, as feature names."""
    words = _TOKEN.findall(URL_LIKE.sub(" ", post.get("text") or "").casefold())
    words = [w.rstrip(".-'") for w in words]
    out = words + [f"{a} {b}" for a, b in pairwise(words)]
    out += [f"#{t.lower().lstrip('#')}" for t in post.get("hashtags") or ()]
    handle = ((post.get("author") or {}).get("handle") or "").lower()
    if handle:
        out.append(f"by:{handle}")
    out.append(f"src:{post.get('source') or 'unknown'}")
    return out


def _analyze(toks: list[str]) -> list[str]:
    return toks


class RelevanceModel:
    """Online classifier: sklearn HashingVectorizer (word 1-2 grams + hashtags + author handle + source tokens,
    alternate_sign=False) + SGDClassifier(loss="log_loss") with partial_fit over classes [0, 1]."""

    def __init__(self, n_features: int = 2**18, seed: int = 0):
        self.n_features, self.seed = n_features, seed
        # The vectorizer and the classifier are built on first use (scikit-learn takes seconds to import): a
        # model that has not learned anything yet, or is only counted and saved, never needs them.
        self._vectorizer = self._classifier = None
        self._weights: dict[str, np.ndarray] | None = None  # restored by from_bytes, put in on first use
        self._replay: dict[int, deque[list[str]]] = {c: deque(maxlen=REPLAY_PER_CLASS) for c in (0, 1)}
        self._seen = {0: 0, 1: 0}
        self._index_cache: dict[str, int] = {}

    @property
    def vectorizer(self):
        if self._vectorizer is None:
            self._vectorizer = _sklearn()[0](n_features=self.n_features, analyzer=_analyze, alternate_sign=False)
        return self._vectorizer

    @property
    def classifier(self):
        if self._classifier is None:
            classifier = _sklearn()[1](loss="log_loss", alpha=ALPHA, random_state=self.seed)
            if self._weights is not None:
                w = self._weights
                classifier.coef_, classifier.intercept_ = w["coef"], w["intercept"]
                classifier.t_, classifier.classes_ = float(w["t"][0]), CLASSES
                classifier.n_features_in_ = self.n_features
                self._weights = None
            self._classifier = classifier
        return self._classifier

    @property
    def marks(self) -> int:
        """Examples learned so far."""
        return self._seen[0] + self._seen[1]

    @property
    def ready(self) -> bool:
        """True once it has seen a mark of each class: before that it adds nothing."""
        return self._seen[0] > 0 and self._seen[1] > 0

    def learn(self, posts: list[dict], labels: list[int]) -> None:
        """1 relevant, 0 not. Refits on the replay buffer plus the new marks, so one-class batches are fine."""
        if not posts:
            return
        for post, label in zip(posts, labels, strict=True):
            cls = 1 if label else 0
            self._replay[cls].append(tokens(post))
            self._seen[cls] += 1
        docs = list(self._replay[0]) + list(self._replay[1])
        y = np.array([0] * len(self._replay[0]) + [1] * len(self._replay[1]))
        weights = np.where(y == 1, len(y) / (2.0 * max(1, y.sum())), len(y) / (2.0 * max(1, len(y) - y.sum())))
        self.classifier.partial_fit(self.vectorizer.transform(docs), y, classes=CLASSES, sample_weight=weights)

    def points(self, posts: list[dict]) -> list[tuple[float, str]]:
        """For each post: (points to add to the rule score, reason naming the two features that drove it)."""
        if not self.ready or not posts:
            return [(0.0, "")] * len(posts)
        docs = [tokens(p) for p in posts]
        x = self.vectorizer.transform(docs)
        p = 1.0 / (1.0 + np.exp(-self.classifier.decision_function(x)))
        pts = SCALE * (p - 0.5)
        coef = self.classifier.coef_[0]
        return [(round(float(v), 3), self._reason(x, i, docs[i], v, coef)) for i, v in enumerate(pts)]

    def _reason(self, x, row: int, toks: list[str], pts: float, coef: np.ndarray) -> str:
        lo, hi = x.indptr[row], x.indptr[row + 1]
        idx = x.indices[lo:hi]
        contrib = coef[idx] * x.data[lo:hi] * (1 if pts >= 0 else -1)
        top = [int(idx[j]) for j in np.argsort(-contrib)[:3] if contrib[j] > 0]
        names = [t for t in (self._token_for(i, toks) for i in top) if t][:2]
        return f"learned: {', '.join(repr(n) for n in names)} {pts:+.1f}" if names else f"learned {pts:+.1f}"

    def _token_for(self, index: int, toks: list[str]) -> str | None:
        # The source token is a near-constant bias: name what the post says instead.
        return next((t for t in toks if not t.startswith("src:") and self._index(t) == index), None)

    def _index(self, token: str) -> int:
        """The column HashingVectorizer puts `token` in (same murmurhash3 and folding as sklearn)."""
        cached = self._index_cache.get(token)
        if cached is None:
            h = _sklearn()[2](token, seed=0)
            cached = (
                (2147483647 - (self.n_features - 1)) % self.n_features if h == -(2**31) else abs(h) % self.n_features
            )
            if len(self._index_cache) >= TOKEN_CACHE:
                self._index_cache.clear()
            self._index_cache[token] = cached
        return cached

    def to_bytes(self) -> bytes:
        """A versioned envelope: JSON header (settings, counts, replay buffer) + npz of the weights. No pickle."""
        header = {
            "n_features": self.n_features,
            "seed": self.seed,
            "seen": [self._seen[0], self._seen[1]],
            "replay": [list(self._replay[0]), list(self._replay[1])],
        }
        weights = io.BytesIO()
        if self._classifier is None and self._weights is not None:  # restored and not used since
            w = self._weights
            np.savez_compressed(weights, coef=w["coef"], intercept=w["intercept"], t=w["t"])
        elif self._classifier is not None and hasattr(self._classifier, "coef_"):
            c = self._classifier
            np.savez_compressed(weights, coef=c.coef_, intercept=c.intercept_, t=np.array([c.t_]))
        head = json.dumps(header).encode()
        return MAGIC + struct.pack(">BI", VERSION, len(head)) + head + weights.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> RelevanceModel:
        if data[:4] != MAGIC or len(data) < 9:
            raise InvalidModel("not a saved RelevanceModel (bad magic); start a new model")
        version, size = struct.unpack(">BI", data[4:9])
        if version != VERSION:
            raise InvalidModel(f"saved RelevanceModel version {version}, this code reads {VERSION}; start a new model")
        header = json.loads(data[9 : 9 + size])
        model = cls(header["n_features"], header["seed"])
        model._seen = {0: header["seen"][0], 1: header["seen"][1]}
        for c in (0, 1):
            model._replay[c].extend(header["replay"][c])
        if rest := data[9 + size :]:
            model._restore(np.load(io.BytesIO(rest), allow_pickle=False))
        return model

    def _restore(self, arrays) -> None:
        self._classifier = None  # built on first use, with these weights
        self._weights = {k: arrays[k] for k in ("coef", "intercept", "t")}
