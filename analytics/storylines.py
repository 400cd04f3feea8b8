"""Storylines: recent relevant posts grouped into conversations, each with a label, a size and its growth."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
from collections import Counter, defaultdict
from datetime import datetime

import numpy as np

from analytics import heavy
from analytics.entities import URL_LIKE

logger = logging.getLogger(__name__)

# Average-linkage cosine distance under which texts join one storyline. Chosen on the simulator's blackout
# (many phrasings, five languages, one #blackout) against its game chatter; 0.9 split the blackout in two once
# simulated fans wrote their own openers and closers. See docs/analytics.md.
DISTANCE_THRESHOLD = 0.95
MAX_TEXTS = 1500  # distinct texts clustered (the most repeated); the rest join their nearest storyline
HASHTAG_WEIGHT = 3
COMMON_TAG_SHARE = 0.9  # a hashtag on more than this share of the texts is left out
MIN_COMMON_TEXTS = 8
LABEL_TERMS = 3
REPRESENTATIVES = 3
_OWN_STOP_WORDS = frozenset(
    {
        "rt",
        "lol",
        "tbh",
        "smh",
        "just",
        "im",
        "amp",
        "el",
        "la",
        "los",
        "las",
        "en",
        "de",
        "del",
        "y",
        "que",
        "se",
        "un",
        "una",
        "es",  # es
        "o",
        "a",
        "no",
        "na",
        "um",
        "uma",
        "e",
        "do",
        "da",  # pt
        "le",
        "les",
        "au",
        "du",
        "des",
        "et",
        "est",  # fr
        "der",
        "die",
        "das",
        "beim",
        "und",
        "ist",  # de
    }
)
_SKLEARN_READY = threading.Event()


def warm_up() -> None:
    """Import scikit-learn and the near-duplicate folding (datasketch, hence scipy): seconds. The aggregator does it
    in a thread at start so its first ticks are not held; storylines are built once it is done."""
    _sklearn()
    _fold_key()
    _SKLEARN_READY.set()


def ready() -> bool:
    return _SKLEARN_READY.is_set()


@functools.cache
def _sklearn():
    with heavy.LOCK:
        from sklearn.cluster import AgglomerativeClustering
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    return AgglomerativeClustering, TfidfVectorizer, sorted(ENGLISH_STOP_WORDS | _OWN_STOP_WORDS)


@functools.cache
def _fold_key():
    """analytics.dedupe.fold_key: datasketch imports scipy (a second or more), so it is imported on first use."""
    with heavy.LOCK:
        from analytics.dedupe import fold_key

    return fold_key


_HASHTAG = re.compile(r"#(\w+)")
_TOKEN = r"(?u)\b[^\W\d_]{2,}\b"


def post_time(post: dict) -> float:
    """When the post arrived (received_at), else when it was created: epoch seconds or ISO 8601."""
    at = post.get("received_at") or post.get("created_at") or 0.0
    return datetime.fromisoformat(at).timestamp() if isinstance(at, str) else float(at)


def _clean(text: str, common: frozenset[str] = frozenset()) -> str:
    """Text for TF-IDF: no links; hashtags count HASHTAG_WEIGHT times, as people's own topic labels, except the
    `common` ones (on most texts, like the event's own tag): those are in every storyline and tell none apart."""
    text = URL_LIKE.sub(" ", text)
    if common:
        text = _HASHTAG.sub(lambda m: " " if m.group(1).lower() in common else m.group(0), text)
    tags = " ".join(m.group(1) for m in _HASHTAG.finditer(text))
    return " ".join([text.replace("#", " ").replace("@", " ")] + [tags] * (HASHTAG_WEIGHT - 1))


def _fold(posts: list[dict]) -> dict[str, list[int]]:
    """Post indices per fold key, so a retweet storm is one text with a weight, not a thousand texts."""
    groups: dict[str, list[int]] = defaultdict(list)
    fold_key = _fold_key()
    for i, p in enumerate(posts):
        groups[fold_key(p.get("text") or "")].append(i)
    return groups


def _cluster(x) -> np.ndarray:
    """Cluster label per row of L2-normalised TF-IDF rows: average linkage on cosine distance."""
    if x.shape[0] < 2:
        return np.zeros(x.shape[0], dtype=int)
    distance = np.clip(1.0 - (x @ x.T).toarray(), 0.0, 2.0)
    model = _sklearn()[0](
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=DISTANCE_THRESHOLD
    )
    return model.fit_predict(distance)


def _assign_rest(x_rest, x_top, labels: np.ndarray) -> np.ndarray:
    """Labels for the rarely repeated texts beyond MAX_TEXTS: the label of their most similar clustered text."""
    if x_rest.shape[0] == 0:
        return np.zeros(0, dtype=int)
    return labels[np.asarray((x_rest @ x_top.T).argmax(axis=1)).ravel()]


def _label(x, rows: np.ndarray, weights: np.ndarray, vocab: np.ndarray, overall: np.ndarray) -> list[str]:
    """The terms that set this storyline apart: its share of a term minus the share among all posts, so the
    event's own hashtag (in every storyline) does not label them all the same."""
    centroid = np.asarray(x[rows].T @ weights[rows]).ravel()
    share = centroid / max(centroid.sum(), 1e-12)
    distinct = share - overall
    order = [j for j in np.argsort(-distinct) if distinct[j] > 0 and centroid[j] > 0]
    if not order:
        order = [j for j in np.argsort(-centroid) if centroid[j] > 0]
    return [str(vocab[j]) for j in order[:LABEL_TERMS]]


def _series(posts: list[dict], members: list[int]) -> str | None:
    """The watched series (brand, competitor, tracked term) most of the storyline's posts name, if any."""
    counts = Counter(s for i in members for s in posts[i].get("series") or ())
    if not counts:
        return None
    name, n = counts.most_common(1)[0]
    return name if n >= 0.5 * len(members) else None


def _storyline(posts, groups, x, rows, weights, vocab, now, window, overall) -> dict:
    label = _label(x, rows, weights, vocab, overall)
    members = [i for r in rows for i in groups[r]]
    centroid = np.asarray(x[rows].T @ weights[rows]).ravel()
    centrality = x[rows] @ centroid
    reps = [max(groups[rows[j]], key=lambda i: posts[i].get("score") or 0.0) for j in np.argsort(-centrality)]
    recent = sum(post_time(posts[i]) >= now - window / 3.0 for i in members)
    return {
        "id": hashlib.blake2b("|".join(sorted(label[:2])).encode(), digest_size=6).hexdigest(),
        "label": label,
        "series": _series(posts, members),
        "size": len(members),
        "growth": round(recent / (len(members) / 3.0), 3),
        "posts": [posts[i] for i in reps[:REPRESENTATIVES]],
        "post_ids": [posts[i]["id"] for i in members],
    }


def storylines(posts: list[dict], now: float, *, k_max: int = 8, min_size: int = 5) -> list[dict]:
    """The biggest conversations among `posts` (recent and relevant, chosen by the caller), biggest first.

    growth = posts in the last third of the window (oldest post .. now) over a third of all: 1 steady, >1 rising.
    """
    if len(posts) < min_size:
        return []
    folded = sorted(_fold(posts).values(), key=len, reverse=True)
    firsts = [posts[g[0]].get("text") or "" for g in folded]
    tag_df = Counter(t for text in firsts for t in {m.group(1).lower() for m in _HASHTAG.finditer(text)})
    # A hashtag on (nearly) every text, like the event's own, is in every storyline and tells none apart: it is
    # left out of the vectors (at least MIN_COMMON_TEXTS texts, so a small set keeps its words).
    common = (
        frozenset(t for t, n in tag_df.items() if n > COMMON_TAG_SHARE * len(firsts))
        if len(firsts) >= MIN_COMMON_TEXTS
        else frozenset()
    )
    texts = [_clean(text, common) for text in firsts]
    try:
        x = _sklearn()[1](token_pattern=_TOKEN, stop_words=_sklearn()[2], sublinear_tf=True).fit(texts)
    except ValueError:  # nothing but stop words and emoji
        return []
    vocab, x = x.get_feature_names_out(), x.transform(texts)
    top = min(len(texts), MAX_TEXTS)
    labels = _cluster(x[:top])
    labels = np.concatenate([labels, _assign_rest(x[top:], x[:top], labels)])
    weights = np.array([len(g) for g in folded], dtype=float)
    window = max(now - min(post_time(p) for p in posts), 1e-9)
    clusters = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    clusters = [rows for rows in clusters if weights[rows].sum() >= min_size and x[rows].nnz]
    clusters.sort(key=lambda rows: weights[rows].sum(), reverse=True)
    total = np.asarray(x.T @ weights).ravel()
    overall = total / max(total.sum(), 1e-12)
    return [_storyline(posts, folded, x, rows, weights, vocab, now, window, overall) for rows in clusters[:k_max]]
