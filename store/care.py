"""Care cases in Redis: the triaged-post queue (written in the processor's batch transaction), cases, the team's
corrections, first-response times and the care model. Every change to a case is one WATCHed transaction with
its audit entry (store/audit.py); what changes is decided by analytics/care.py and web/care.py.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
import redis

from analytics import care as care_rules
from analytics.care import CareInputs, CareModel
from store import audit, models, partitions
from store.errors import NotFound
from store.keys import CARE_IN_MAXLEN, CARE_RESPONSES, MARKS_MAXLEN, Keys

READ_ITEMS = 2000


# --- the processor's side: in its MULTI ------------------------------------------------------------------------
def queue(pipe: redis.client.Pipeline, keys: Keys, items: list[dict]) -> None:
    """Queue triaged posts on the batch's transaction (lands with its XACK, exactly once)."""
    for item in items:
        pipe.xadd(keys.care_in, {"i": orjson.dumps(item)}, maxlen=CARE_IN_MAXLEN, approximate=True)


# --- reads -----------------------------------------------------------------------------------------------------
def _after(cursor: str) -> str:
    return f"({cursor}" if cursor != "0-0" else "-"


def read_items(r: redis.Redis, keys: Keys, cursor: str, count: int = READ_ITEMS) -> tuple[str, list[dict]]:
    """Triaged posts of every partition after `cursor` (one id per partition, store/partitions.py)."""
    cursor, entries = partitions.read_after(r, keys, lambda part: part.care_in, cursor, count)
    return cursor, [orjson.loads(f[b"i"]) for _, f in entries]


def read_corrections(r: redis.Redis, keys: Keys, cursor: str, count: int = 500) -> tuple[str, list[dict]]:
    entries = r.xrange(keys.care_corrections, min=_after(cursor), count=count)
    if not entries:
        return cursor, []
    return entries[-1][0].decode(), [{"text": f[b"text"].decode(), "kind": f[b"kind"].decode()} for _, f in entries]


def _open(reader, keys: Keys) -> list[dict]:
    ids = reader.zrange(keys.care_open, 0, -1)
    return [orjson.loads(v) for v in reader.hmget(keys.care_cases, ids) if v] if ids else []


def open_cases(r: redis.Redis, keys: Keys) -> list[dict]:
    return _open(r, keys)


def get(r: redis.Redis, keys: Keys, case_id: str) -> dict:
    raw = r.hget(keys.care_cases, case_id)
    if raw is None:
        raise NotFound(f"care case {case_id!r} does not exist")
    return orjson.loads(raw)


def state(r: redis.Redis, keys: Keys) -> dict:
    return {k.decode(): v.decode() for k, v in r.hgetall(keys.care_state).items()}


def version(r: redis.Redis, keys: Keys) -> int:
    return int(r.get(keys.care_version) or 0)


def read_tick(r: redis.Redis, keys: Keys) -> CareInputs:
    """What the aggregator's tick needs: new triaged posts, open cases, new corrections, response times, counters."""
    st = state(r, keys)
    cursor, items = read_items(r, keys, st.get("cursor", "0-0"))
    corr_cursor, corrections = read_corrections(r, keys, st.get("corrections_cursor", "0-0"))
    return CareInputs(
        items=items,
        cursor=cursor,
        cases=open_cases(r, keys),
        corrections=corrections,
        corrections_cursor=corr_cursor,
        response_s=[float(x) for x in r.lrange(keys.care_response_times, 0, CARE_RESPONSES - 1)],
        stats={k: int(v) for k, v in st.items() if k in ("breaches", "escalations", "resolved")},
    )


# --- writes ----------------------------------------------------------------------------------------------------
def _save(pipe: redis.client.Pipeline, keys: Keys, case: dict) -> None:
    pipe.hset(keys.care_cases, case["id"], orjson.dumps(case))
    handle = case["author"]["handle"].lower()
    if case["state"] in care_rules.OPEN_STATES:
        pipe.zadd(keys.care_open, {case["id"]: case["opened_at"]})
        pipe.hset(keys.care_authors, handle, case["id"])
    else:
        pipe.zrem(keys.care_open, case["id"])
        pipe.hdel(keys.care_authors, handle)


def summary(case: dict | None) -> dict | None:
    """What the audit trail keeps of a case (not its posts)."""
    if case is None:
        return None
    return {
        k: case.get(k)
        for k in ("kind", "state", "owner", "first_response_at", "responded_by", "escalation", "corrected", "drafts")
    }


def apply_tick(
    r: redis.Redis,
    keys: Keys,
    care,
    inputs: CareInputs,
    escalations: list[tuple[str, str, str]],
    now: float,
) -> list[tuple[str, str, str]]:
    """Fold the tick's posts into the cases and apply its escalations, re-deciding both on the cases as they are
    now (a strategist may have replied since the read). Advances the cursors in the same transaction. Returns the
    escalations applied."""
    applied: list[tuple[str, str, str]] = []

    def build(pipe):
        applied.clear()
        cases = _open(pipe, keys)
        by_id, changed = care_rules.fold_all(cases, inputs.items)
        for case_id, reason, to in escalations:
            case = by_id.get(case_id)
            if case is None or care_rules.escalation_due(case, care, now) != reason:
                continue
            before = summary(case)
            by_id[case_id] = care_rules.escalate(case, to, reason, "system", now)
            applied.append((case_id, reason, to))
            if case_id not in changed:
                changed.append(case_id)
            by_id[case_id]["_audit"] = before
        pipe.multi()
        for case_id in changed:
            case = by_id[case_id]
            before = case.pop("_audit", None)
            _save(pipe, keys, case)
            if before is not None:
                audit.append(
                    pipe,
                    keys,
                    audit.entry(
                        "system",
                        "care.escalate",
                        "care",
                        case_id,
                        before=before,
                        after=summary(case),
                        detail=care_rules.describe(case["escalation"]["reason"], case)
                        + f" → {case['escalation']['to']}",
                        at=now,
                    ),
                )
        if applied:
            pipe.hincrby(keys.care_state, "escalations", len(applied))
        pipe.hset(keys.care_state, mapping={"cursor": inputs.cursor, "corrections_cursor": inputs.corrections_cursor})
        if changed:
            pipe.incr(keys.care_version)

    if inputs.items or escalations or inputs.corrections:
        _transact(r, [keys.care_cases], build)  # no WAITAOF: the tick must not wait on the disk
    return list(applied)


def _transact(r: redis.Redis, watch: list[str], build) -> None:
    with r.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(*watch)
                build(pipe)
                pipe.execute()
                return
            except redis.WatchError:
                continue


def update(
    r: redis.Redis,
    keys: Keys,
    case_id: str,
    change: Callable[[dict], tuple[dict, dict]],
    actor,
    action: str,
) -> dict:
    """Change one case as `actor` (a name or an identity): `change(case)` returns (new case, extras) or raises
    ValueError to refuse. Extras: "correction" {"texts", "kind"} (for the model), "response_s" and "late" (a first
    response), "breach_closed" (resolved unanswered after its target). The change and its audit entry commit
    together."""

    def build(pipe):
        raw = pipe.hget(keys.care_cases, case_id)
        if raw is None:
            raise NotFound(f"care case {case_id!r} does not exist")
        before = orjson.loads(raw)
        after, extra = change(before)
        who = actor if isinstance(actor, str) else actor.name
        pipe.multi()
        _save(pipe, keys, after)
        pipe.incr(keys.care_version)
        if corr := extra.get("correction"):
            for text in corr["texts"]:
                pipe.xadd(
                    keys.care_corrections,
                    {"text": text, "kind": corr["kind"], "by": who},
                    maxlen=MARKS_MAXLEN,
                    approximate=True,
                )
        if (seconds := extra.get("response_s")) is not None:
            pipe.lpush(keys.care_response_times, round(seconds, 1))
            pipe.ltrim(keys.care_response_times, 0, CARE_RESPONSES - 1)
        if extra.get("late") or extra.get("breach_closed"):
            pipe.hincrby(keys.care_state, "breaches", 1)
        if after["state"] == care_rules.RESOLVED and before["state"] != care_rules.RESOLVED:
            pipe.hincrby(keys.care_state, "resolved", 1)
        audit.append(
            pipe,
            keys,
            audit.entry(
                actor,
                action,
                "care",
                case_id,
                before=summary(before),
                after=summary(after),
                detail=extra.get("note", ""),
            ),
        )
        return after

    return audit.write(r, [keys.care_cases], build)


# --- the care model --------------------------------------------------------------------------------------------
def save_model(r: redis.Redis, keys: Keys, model: CareModel) -> int:
    pipe = r.pipeline(transaction=True)
    pipe.set(keys.care_model, model.to_bytes())
    pipe.incr(keys.care_model_version)
    return pipe.execute()[-1]


def load_model(r: redis.Redis, keys: Keys) -> CareModel | None:
    return models.decode(r.get(keys.care_model), CareModel.from_bytes, "care model")


def model_version(r: redis.Redis, keys: Keys) -> int:
    return models.version(r, keys.care_model_version)
