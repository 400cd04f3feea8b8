"""Customer care, pure: triage (event-file rules plus a model learned from the team's corrections), cases that fold
an author's posts, urgency, first-response timers, escalation decisions and the care lane's numbers.

No I/O. The processor triages brand posts in its batch (`Triager.batch`); the aggregator folds the triaged posts into
cases and decides escalations (`tick`); store/care.py keeps cases; web/care.py holds the strategists' workflow.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import re
import struct
from collections import deque
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import orjson

from analytics import heavy
from analytics.entities import URL_LIKE
from analytics.matching import Matcher


@functools.cache
def _sklearn():
    """scikit-learn, imported on first use: it costs a worker seconds at start-up, and a room without marks never
    builds a model (a restarted worker is back in the group sooner)."""
    with heavy.LOCK:
        from sklearn.feature_extraction.text import HashingVectorizer
        from sklearn.linear_model import SGDClassifier
        from sklearn.utils import murmurhash3_32

    return HashingVectorizer, SGDClassifier, murmurhash3_32


SAFETY, COMPLAINT, QUESTION, PRAISE, NONE = "safety", "complaint", "question", "praise", "none"
KINDS = (SAFETY, COMPLAINT, QUESTION, PRAISE, NONE)
CASE_KINDS = (SAFETY, COMPLAINT, QUESTION)  # what opens a case; praise joins an open case's conversation
RANK = {k: i for i, k in enumerate(KINDS)}  # lower is more urgent
KIND_WEIGHT = {SAFETY: 100.0, COMPLAINT: 40.0, QUESTION: 25.0, PRAISE: 5.0, NONE: 0.0}
THRESHOLD = 1.0  # rule points a kind needs
JOKE_FACTOR = 0.5  # a joke marker halves the complaint points: "I hate how good this ad is lol"
ADDRESSED_QUESTION = 0.5  # "?" in a post that @-mentions the brand's account (with a question phrase: enough)
LEARN_SCALE = 2.5  # learned points = LEARN_SCALE * (p(kind) - 1/classes): a confident model moves a kind by ~2
LEARN_CONFIDENT = 0.8  # below this the model's pick adds nothing (a few corrections are mostly "none")

NEW, ASSIGNED, REPLIED, ESCALATED, RESOLVED = "new", "assigned", "replied", "escalated", "resolved"
STATES = (NEW, ASSIGNED, REPLIED, ESCALATED, RESOLVED)
OPEN_STATES = frozenset(STATES) - {RESOLVED}
CASE_POSTS = 20  # an author's triaged posts kept on their case
CASE_CONTEXT = 10  # their other recent posts in the room
HISTORY_MAX = 50
LANE_SHOWN = 60


# --- triage ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Triage:
    kind: str
    reasons: tuple[str, ...]
    safety: tuple[str, ...] = ()  # the safety words found


class CareRules:
    """The event file's care phrases compiled once."""

    def __init__(self, care, handles: list[str] = ()):
        self.care = care
        self.safety = Matcher([(w, [w]) for w in care.safety])
        self.jokes = Matcher([(w, [w]) for w in care.joke_markers])
        self.weights = {COMPLAINT: care.complaint, QUESTION: care.question, PRAISE: care.praise}
        self.phrases = {k: Matcher([(p, [p]) for p in v]) for k, v in self.weights.items()}
        self.handles = {h.lower().lstrip("@") for h in handles}

    def points(self, text: str, mentions: list[str] = ()) -> tuple[dict[str, float], list[str], tuple[str, ...]]:
        """(rule points per kind, reasons, safety words) for one text."""
        reasons: list[str] = []
        safety = tuple(self.safety.keywords(text))
        if safety:
            reasons.append("safety: " + ", ".join(repr(w) for w in safety))
        scores: dict[str, float] = {}
        for kind, matcher in self.phrases.items():
            found = matcher.keywords(text)
            if found:
                scores[kind] = sum(self.weights[kind][p] for p in found)
                reasons.append(f"{kind}: " + ", ".join(f"{p!r} +{self.weights[kind][p]:g}" for p in found))
        if "?" in text and self.handles & {m.lower() for m in mentions}:
            scores[QUESTION] = scores.get(QUESTION, 0.0) + ADDRESSED_QUESTION
            reasons.append(f"question: '?' to the brand +{ADDRESSED_QUESTION:g}")
        if COMPLAINT in scores and (jokes := self.jokes.keywords(text)):
            scores[COMPLAINT] *= JOKE_FACTOR
            reasons.append(f"joking ({', '.join(repr(j) for j in jokes)}): complaint ×{JOKE_FACTOR:g}")
        return scores, reasons, safety


def decide(scores: dict[str, float], reasons: list[str], safety: tuple[str, ...], learned: dict | None) -> Triage:
    """The kind from rule points plus learned points. Safety words always win; the model never overrules them."""
    if safety:
        return Triage(SAFETY, tuple(reasons), safety)
    total = {k: scores.get(k, 0.0) for k in (COMPLAINT, QUESTION, PRAISE)}
    total[NONE] = THRESHOLD  # a kind must beat "nothing to do"
    reasons = list(reasons)
    if learned:
        probs, why = learned["p"], learned.get("why", {})
        top = max(probs, key=probs.get)
        if probs[top] >= LEARN_CONFIDENT:  # only a confident model moves a kind, and only its own pick
            # Safety is the words' call alone (a critical alert): a learned "safety" is at least a complaint.
            total[COMPLAINT if top == SAFETY else top] += LEARN_SCALE * (probs[top] - 1.0 / max(1, len(probs)))
        reasons.append(f"learned: {top} p={probs[top]:.2f}" + (f" ({why[top]})" if why.get(top) else ""))
    kind = max(total, key=lambda k: (total[k], -RANK[k]))
    if kind == NONE or total[kind] < THRESHOLD:
        return Triage(NONE, tuple(reasons))
    return Triage(kind, tuple(reasons))


# --- the learned part ------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"[#@]?[^\W\d_][\w'.\-]*|[\U0001F300-\U0001FAFF]", re.UNICODE)
MAGIC = b"WRCM"
VERSION = 1
REPLAY_PER_CLASS = 200
ALPHA = 1e-3


class InvalidModel(ValueError):
    """Bytes that are not a saved CareModel: start a new one (corrections are lost) or restore a backup."""


def tokens(text: str) -> list[str]:
    """Word 1-2 grams and emoji of a text (no author, no source: a kind is in what is said)."""
    words = [w.rstrip(".-'") for w in _TOKEN.findall(URL_LIKE.sub(" ", text or "").casefold())]
    return words + [f"{a} {b}" for a, b in pairwise(words)]


def _analyze(toks: list[str]) -> list[str]:
    return toks


class CareModel:
    """Online classifier over the five kinds, like analytics.learning.RelevanceModel: sklearn HashingVectorizer
    (alternate_sign=False) + SGDClassifier(loss="log_loss") partial_fit, with a replay buffer per kind so one
    correction at a time is fine. Saved as JSON header + npz (no pickle)."""

    def __init__(self, n_features: int = 2**18, seed: int = 0):
        self.n_features, self.seed = n_features, seed
        # Built on first use, as in RelevanceModel: a model with no corrections never imports scikit-learn.
        self._vectorizer = self._classifier = None
        self._weights: dict[str, np.ndarray] | None = None  # restored by from_bytes, put in on first use
        self._replay: dict[str, deque[list[str]]] = {k: deque(maxlen=REPLAY_PER_CLASS) for k in KINDS}
        self._seen = dict.fromkeys(KINDS, 0)

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
                classifier.t_, classifier.classes_ = float(w["t"][0]), np.arange(len(KINDS))
                classifier.n_features_in_ = self.n_features
                self._weights = None
            self._classifier = classifier
        return self._classifier

    @property
    def corrections(self) -> int:
        return sum(self._seen.values())

    @property
    def ready(self) -> bool:
        """Two kinds seen: before that it adds nothing."""
        return sum(1 for n in self._seen.values() if n) >= 2

    def learn(self, texts: list[str], kinds: list[str]) -> None:
        if not texts:
            return
        for text, kind in zip(texts, kinds, strict=True):
            if kind not in RANK:
                raise ValueError(f"unknown care kind {kind!r}; kinds are {KINDS}")
            self._replay[kind].append(tokens(text))
            self._seen[kind] += 1
        docs, y = [], []
        for kind in KINDS:
            docs += list(self._replay[kind])
            y += [RANK[kind]] * len(self._replay[kind])
        y = np.array(y)
        counts = np.bincount(y, minlength=len(KINDS))
        weights = len(y) / (sum(1 for c in counts if c) * counts[y])
        self.classifier.partial_fit(
            self.vectorizer.transform(docs), y, classes=np.arange(len(KINDS)), sample_weight=weights
        )

    def predict(self, texts: list[str]) -> list[dict | None]:
        """Per text {"p": {kind: probability over the kinds seen}, "why": {kind: its strongest word}}; None when
        the model is not ready."""
        if not self.ready or not texts:
            return [None] * len(texts)
        docs = [tokens(t) for t in texts]
        x = self.vectorizer.transform(docs)
        seen = [RANK[k] for k in KINDS if self._seen[k]]
        raw = self.classifier.decision_function(x)[:, seen]
        raw = raw - raw.max(axis=1, keepdims=True)
        p = np.exp(raw)
        p /= p.sum(axis=1, keepdims=True)
        coef = self.classifier.coef_
        out = []
        for i, doc in enumerate(docs):
            probs = {KINDS[c]: round(float(p[i, j]), 3) for j, c in enumerate(seen)}
            top = max(probs, key=probs.get)
            out.append({"p": probs, "why": {top: self._why(x, i, doc, coef[RANK[top]])}})
        return out

    def _why(self, x, row: int, doc: list[str], coef: np.ndarray) -> str:
        lo, hi = x.indptr[row], x.indptr[row + 1]
        if hi == lo:
            return ""
        idx = x.indices[lo:hi]
        best = int(idx[int(np.argmax(coef[idx]))])
        return next((repr(t) for t in doc if self._index(t) == best), "")

    def _index(self, token: str) -> int:
        """The column HashingVectorizer puts `token` in (sklearn's murmurhash3 and folding)."""
        h = _sklearn()[2](token, seed=0)
        n = self.n_features
        return (2147483647 - (n - 1)) % n if h == -(2**31) else abs(h) % n

    def to_bytes(self) -> bytes:
        header = {
            "n_features": self.n_features,
            "seed": self.seed,
            "seen": self._seen,
            "replay": {k: list(v) for k, v in self._replay.items()},
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
    def from_bytes(cls, data: bytes) -> CareModel:
        if data[:4] != MAGIC or len(data) < 9:
            raise InvalidModel("not a saved CareModel (bad magic); start a new model")
        version, size = struct.unpack(">BI", data[4:9])
        if version != VERSION:
            raise InvalidModel(f"saved CareModel version {version}, this code reads {VERSION}; start a new model")
        header = json.loads(data[9 : 9 + size])
        model = cls(header["n_features"], header["seed"])
        model._seen = {k: int(header["seen"].get(k, 0)) for k in KINDS}
        for k in KINDS:
            model._replay[k].extend(header["replay"].get(k, []))
        if rest := data[9 + size :]:
            arrays = np.load(io.BytesIO(rest), allow_pickle=False)
            model._weights = {k: arrays[k] for k in ("coef", "intercept", "t")}  # the classifier gets them on first use
        return model


# --- the processor's step --------------------------------------------------------------------------------------
class Triager:
    """Triage a batch's brand posts (never reposts); posts by authors with an open case come along as context."""

    def __init__(self, event):
        self.brand = event.brand.name
        self.rules = CareRules(event.care, event.brand.handles)
        self.enabled = event.care.enabled

    def batch(self, enriched: list, care_authors: set[str] | frozenset = frozenset(), model=None) -> list[dict]:
        """Items for store/care.py's queue: {"post", "kind", "reasons", "safety", "sentiment", "at"} (kind
        "context" for an open case's author posting about something else). Adds a reason to triaged posts."""
        if not self.enabled:
            return []
        brand, ctx = [], []
        for e in enriched:
            p = e.post
            if p.repost_of is not None or p.text.startswith("RT @"):
                continue
            if self.brand in e.series:
                brand.append(e)
            elif care_authors and p.author.handle.lower() in care_authors:
                ctx.append(e)
        learned = model.predict([e.post.text for e in brand]) if brand and model is not None else [None] * len(brand)
        out = []
        for e, lp in zip(brand, learned, strict=True):
            scores, reasons, safety = self.rules.points(e.post.text, e.post.mentions)
            t = decide(scores, reasons, safety, lp)
            if t.kind == NONE:
                continue
            e.reasons.append(f"care: {t.kind}")
            out.append(_item(e, t.kind, list(t.reasons), list(t.safety)))
        out += [_item(e, "context", [], []) for e in ctx]
        return out

    def one(self, text: str, mentions: list[str] = (), model=None) -> Triage:
        """Triage one text (the bench, tests and corrections use it)."""
        scores, reasons, safety = self.rules.points(text, mentions)
        learned = model.predict([text])[0] if model is not None else None
        return decide(scores, reasons, safety, learned)


def _item(e, kind: str, reasons: list[str], safety: list[str]) -> dict:
    p = e.post
    return {
        "post": {
            "id": p.id,
            "source": p.source,
            "url": p.url,
            "text": p.text,
            "reply_to": p.reply_to,
            "author": {
                "handle": p.author.handle,
                "name": p.author.name,
                "followers": p.author.followers,
                "verified": p.author.verified,
            },
        },
        "kind": kind,
        "reasons": reasons,
        "safety": safety,
        "sentiment": round(float(e.sentiment), 3),
        "at": e.at,
    }


# --- cases -----------------------------------------------------------------------------------------------------
def case_id(handle: str, first_post_id: str) -> str:
    return hashlib.sha1(f"{handle.lower()}|{first_post_id}".encode()).hexdigest()[:12]


def most_urgent(kinds) -> str:
    return min(kinds, key=lambda k: RANK.get(k, len(KINDS)), default=NONE)


def new_case(item: dict) -> dict:
    post = item["post"]
    return {
        "id": case_id(post["author"]["handle"], post["id"]),
        "author": dict(post["author"]),
        "source": post["source"],
        "kind": item["kind"],
        "reasons": list(item["reasons"]),
        "safety": list(item["safety"]),
        "state": NEW,
        "owner": None,
        "opened_at": item["at"],
        "last_at": item["at"],
        "waiting_since": item["at"],
        "first_response_at": None,
        "responded_by": None,
        "sentiment": item["sentiment"],
        "posts": [],
        "context": [],
        "parents": {},
        "escalation": None,
        "corrected": None,
        "drafts": [],
        "history": [{"at": item["at"], "who": "triage", "action": "open", "note": item["kind"]}],
        "rev": 0,
    }


def _compact(item: dict) -> dict:
    post = item["post"]
    return {
        "id": post["id"],
        "text": post["text"],
        "url": post.get("url"),
        "reply_to": post.get("reply_to"),
        "at": item["at"],
        "kind": item["kind"],
        "sentiment": item["sentiment"],
        "reasons": item["reasons"],
    }


def fold(case: dict | None, item: dict, owned: bool = False) -> dict:
    """The author's open case with this post folded in (a new case when there is none or it is resolved).
    Idempotent: a post already on the case changes nothing (a re-delivered item counts once). `owned`: the case
    is the caller's own copy, changed in place (fold_all folds a tick's posts into one copy per case)."""
    if item["kind"] in ("context", PRAISE) and (case is None or case["state"] == RESOLVED):
        return case  # chatter and thanks do not open a case
    if item["kind"] == "context":
        if case is None or case["state"] == RESOLVED:
            return case
        if any(p["id"] == item["post"]["id"] for p in case["context"]):
            return case
        out = case if owned else _copy(case)
        out["context"] = (out["context"] + [_compact(item)])[-CASE_CONTEXT:]
        return out
    if case is None or case["state"] == RESOLVED:
        case, owned = new_case(item), True
    elif any(p["id"] == item["post"]["id"] for p in case["posts"]):
        return case
    replied = case["state"] == REPLIED
    out = case if owned else _copy(case)
    out["posts"] = (out["posts"] + [_compact(item)])[-CASE_POSTS:]
    out["last_at"] = max(out["last_at"], item["at"])
    out["sentiment"] = min(out["sentiment"], item["sentiment"])
    out["author"]["followers"] = max(out["author"].get("followers") or 0, item["post"]["author"].get("followers") or 0)
    for w in item["safety"]:
        if w not in out["safety"]:
            out["safety"].append(w)
    kinds = [p["kind"] for p in out["posts"] if p["kind"] in CASE_KINDS] or [out["kind"]]
    if out["corrected"] and not item["safety"]:
        pass  # the team's correction holds until a safety word appears
    else:
        out["kind"] = most_urgent(kinds)
        out["reasons"] = list(item["reasons"]) if RANK[item["kind"]] <= RANK[out["kind"]] else out["reasons"]
    if len(out["posts"]) > 1 and replied:  # the customer wrote again after our reply
        out["state"] = ASSIGNED if out["owner"] else NEW
        out["waiting_since"] = item["at"]
        out = _log(out, "triage", "reopen", item["at"], "new post after the reply")
    return out


def _copy(case: dict) -> dict:
    return orjson.loads(orjson.dumps(case))  # a deep copy; copy.deepcopy and json are several times slower


def _log(case: dict, who: str, action: str, at: float, note: str = "") -> dict:
    case["history"] = (case["history"] + [{"at": at, "who": who, "action": action, "note": note}])[-HISTORY_MAX:]
    case["rev"] = case.get("rev", 0) + 1
    return case


# --- timers, urgency, escalation --------------------------------------------------------------------------------
def timer(case: dict, care, now: float) -> dict:
    """First-response timer: {"target_s", "elapsed_s", "left_s", "status": ok | warning | breached | met | none}."""
    target = care.target_s(case["kind"])
    start = case["opened_at"]
    if case.get("first_response_at"):
        took = case["first_response_at"] - start
        status = "met" if target is None or took <= target else "breached"
        return {"target_s": target, "elapsed_s": round(took, 1), "left_s": None, "status": status}
    elapsed = max(0.0, now - start)
    if target is None:
        return {"target_s": None, "elapsed_s": round(elapsed, 1), "left_s": None, "status": "none"}
    left = target - elapsed
    status = "breached" if left < 0 else "warning" if elapsed >= care.warn_fraction * target else "ok"
    return {"target_s": target, "elapsed_s": round(elapsed, 1), "left_s": round(left, 1), "status": status}


def urgency(case: dict, care, now: float) -> float:
    """Kind first, then the author's reach, how negative they are, and how long they have waited (vs the target)."""
    t = timer(case, care, now)
    waited = (t["elapsed_s"] / t["target_s"]) if t["target_s"] and t["left_s"] is not None else 0.0
    reach = math.log10(1 + max(0, case["author"].get("followers") or 0))
    return round(
        KIND_WEIGHT.get(case["kind"], 0.0) + 6.0 * reach + 15.0 * max(0.0, -case["sentiment"]) + 30 * min(2, waited),
        2,
    )


def escalation_due(case: dict, care, now: float) -> str | None:
    """Why this case must be escalated now, or None: a safety word (at once) or a missed first-response target."""
    if case["state"] not in OPEN_STATES:
        return None
    done = (case.get("escalation") or {}).get("reasons", [])
    if case["safety"] and "safety" not in done:
        return "safety"
    t = timer(case, care, now)
    if t["status"] == "breached" and not case.get("first_response_at") and "breach" not in done:
        return "breach"
    return None


def escalate(case: dict, to: str, reason: str, who: str, now: float, note: str = "") -> dict:
    out = _copy(case)
    prev = out.get("escalation") or {"reasons": []}
    out["escalation"] = {"to": to, "reason": reason, "by": who, "at": now, "note": note, "reasons": prev["reasons"]}
    if reason not in out["escalation"]["reasons"]:
        out["escalation"]["reasons"].append(reason)
    out["state"] = ESCALATED
    return _log(out, who, "escalate", now, f"to {to}: {describe(reason, case)}")


def describe(reason: str, case: dict) -> str:
    if reason == "safety":
        return "safety word " + ", ".join(repr(w) for w in case["safety"])
    if reason == "breach":
        return f"first response target for a {case['kind']} missed"
    return reason


def alert_for(case: dict, reason: str, to: str, now: float) -> dict:
    """The room's alert for an escalation (shown with the others and sent through the webhook)."""
    handle = case["author"]["handle"]
    last = case["posts"][-1] if case["posts"] else {}
    safety = reason == "safety"
    return {
        "id": hashlib.sha1(f"care:{case['id']}:{reason}".encode()).hexdigest()[:12],
        "kind": "care_safety" if safety else "care_breach",
        "subject": f"@{handle}",
        "severity": "critical" if safety else "high",
        "title": f"Care {'safety issue' if safety else 'target missed'}: @{handle} → {to}",
        "detail": f"{describe(reason, case)} · {last.get('text', '')[:240]}",
        "at": now,
        "moment": case["opened_at"],
        "post_id": last.get("id"),
        "score": None,
        "raised_at": now,
        "case_id": case["id"],
        "escalated_to": to,
    }


# --- the aggregator's step -------------------------------------------------------------------------------------
@dataclass
class CareInputs:
    items: list[dict] = field(default_factory=list)  # triaged posts since the last tick
    cursor: str = "0-0"
    cases: list[dict] = field(default_factory=list)  # the open cases as read
    corrections: list[dict] = field(default_factory=list)  # {"text", "kind"} since the last tick
    corrections_cursor: str = "0-0"
    response_s: list[float] = field(default_factory=list)  # first-response times, newest first
    stats: dict = field(default_factory=dict)  # breaches, escalations, resolved


@dataclass
class CareBuilt:
    snap: dict
    escalations: list[tuple[str, str, str]]  # (case id, reason, to)
    alerts: list[dict]
    learned: int


def fold_all(cases: list[dict], items: list[dict]) -> tuple[dict[str, dict], list[str]]:
    """Cases by id after folding `items` in (by author), and the ids that changed."""
    by_id = {c["id"]: c for c in cases}
    by_author = {c["author"]["handle"].lower(): c["id"] for c in cases if c["state"] in OPEN_STATES}
    changed: list[str] = []
    for item in items:
        handle = item["post"]["author"]["handle"].lower()
        current = by_id.get(by_author.get(handle, ""))
        new = fold(current, item, owned=current is not None and current["id"] in changed)
        if new is None or (new is current and new["id"] not in changed):
            continue
        by_id[new["id"]] = new
        by_author[handle] = new["id"]
        if new["id"] not in changed:
            changed.append(new["id"])
    return by_id, changed


def tick(care, inputs: CareInputs, model: CareModel, now: float) -> CareBuilt:
    """Learn corrections, fold new posts into cases, decide escalations, and the snapshot's "care" section."""
    if inputs.corrections:
        model.learn([c["text"] for c in inputs.corrections], [c["kind"] for c in inputs.corrections])
    by_id, _ = fold_all(inputs.cases, inputs.items)
    escalations, alerts = [], []
    for case in by_id.values():
        reason = escalation_due(case, care, now)
        if reason:
            to = care.escalation_target(SAFETY if reason == "safety" else case["kind"])
            escalations.append((case["id"], reason, to))
            alerts.append(alert_for(case, reason, to, now))
            by_id[case["id"]] = escalate(case, to, reason, "system", now)
    open_cases = [c for c in by_id.values() if c["state"] in OPEN_STATES]
    snap = {
        "metrics": metrics(open_cases, inputs.response_s, inputs.stats, care, now, len(escalations)),
        "cases": lane(open_cases, care, now)[:LANE_SHOWN],
        "model": {"corrections": model.corrections, "ready": model.ready},
    }
    return CareBuilt(snap, escalations, alerts, len(inputs.corrections))


def lane(cases: list[dict], care, now: float) -> list[dict]:
    """Open cases, most urgent first (safety always on top), each with its timer and urgency."""
    views = [{**c, "timer": timer(c, care, now), "urgency": urgency(c, care, now)} for c in cases]
    return sorted(views, key=lambda c: (c["kind"] != SAFETY, -c["urgency"], c["opened_at"]))


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    xs = sorted(values)
    k = (len(xs) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return round(xs[lo] + (xs[hi] - xs[lo]) * (k - lo), 1)


def metrics(open_cases: list[dict], response_s: list[float], stats: dict, care, now: float, new_esc: int = 0) -> dict:
    waiting = [c for c in open_cases if not c.get("first_response_at")]
    timers = [timer(c, care, now) for c in waiting]
    return {
        "first_response_p50_s": percentile(response_s, 0.5),
        "first_response_p95_s": percentile(response_s, 0.95),
        "responses": len(response_s),
        # answered late or closed unanswered after the target (kept by the store), plus those waiting past it now
        "breaches": int(stats.get("breaches", 0)) + sum(1 for t in timers if t["status"] == "breached"),
        "breached_now": sum(1 for t in timers if t["status"] == "breached"),
        "warning_now": sum(1 for t in timers if t["status"] == "warning"),
        "backlog": len(waiting),
        "open": len(open_cases),
        "by_kind": {k: sum(1 for c in waiting if c["kind"] == k) for k in CASE_KINDS},
        "escalated": sum(1 for c in open_cases if c["state"] == ESCALATED),
        "safety_open": sum(1 for c in open_cases if c["kind"] == SAFETY),
        "escalations": int(stats.get("escalations", 0)) + new_esc,
    }
