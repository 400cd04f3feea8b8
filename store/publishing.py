"""Publishing, durably: drafts, publish intents and results, the room-wide pause, and reconciliation.

Exactly once: an intent (draft id, network, idempotency key, the exact request) is written with MULTI and
`WAITAOF 1 0` *before* the network call; the result after it, in the same way. A publisher killed between the two
leaves an intent without a result: `reconcile` asks the network whether the post exists (by the intent's marker:
Bluesky's record key, the exact text among the account's own posts on X and Mastodon) and records published or
failed. It never posts again.
"""

from __future__ import annotations

import logging
import time

import orjson
import redis

from store import audit as _audit
from store.audit import durable as _fsync
from store.errors import NotFound
from store.keys import Keys

logger = logging.getLogger(__name__)

PENDING = "pending"
PUBLISHED = "published"
FAILED = "failed"
RECONCILE_AFTER_S = 60.0  # an intent this old without a result belongs to a publisher that died


class IntentExists(Exception):
    """The draft revision already has an intent; `intent` is it (pending or published)."""

    def __init__(self, intent: dict):
        super().__init__(intent.get("state"))
        self.intent = intent


class Paused(Exception):
    def __init__(self, pause: dict):
        super().__init__(f"Publishing is paused by {pause.get('by')}: {pause.get('reason')}")
        self.pause = pause


# --- drafts
def save_draft(r: redis.Redis, keys: Keys, draft: dict, audit_entry: dict | None = None) -> dict:
    """Create or update a draft; returns once the AOF holds it (WAITAOF).

    With `audit_entry` (store.audit.entry(who, "response.…", "draft", id, before=...)) the entry, with the draft as
    stored for `after`, and a bump of the cards version (every screen redraws its cards and their responses) are
    queued on the same MULTI as the draft: both land or neither."""
    if audit_entry is None:
        r.hset(keys.drafts, draft["id"], orjson.dumps(draft))
        return {**draft, "durable": _fsync(r)}
    item = {**audit_entry, "object_type": "draft", "object_id": draft["id"], "after": draft}
    pipe = r.pipeline(transaction=True)
    pipe.hset(keys.drafts, draft["id"], orjson.dumps(draft))
    pipe.incr(keys.cards_version)
    _audit.append(pipe, keys, item)
    pipe.execute()
    return {**draft, "durable": _fsync(r)}


def get_draft(r: redis.Redis, keys: Keys, draft_id: str) -> dict:
    raw = r.hget(keys.drafts, draft_id)
    if raw is None:
        raise NotFound(f"draft {draft_id!r} does not exist")
    return orjson.loads(raw)


def drafts_for_card(r: redis.Redis, keys: Keys, card_id: str) -> list[dict]:
    items = [d for d in (orjson.loads(v) for v in r.hvals(keys.drafts)) if d.get("card_id") == card_id]
    items.sort(key=lambda d: d["created_at"])
    return items


# --- the room-wide pause
def published_drafts(r: redis.Redis, keys: Keys, since: float = 0.0) -> list[dict]:
    """Drafts that went out at or after `since` (their `published` holds the network's id and url)."""
    out = []
    for raw in r.hvals(keys.drafts):
        d = orjson.loads(raw)
        if (d.get("published") or {}).get("at", -1) >= since:
            out.append(d)
    return out


def pause(r: redis.Redis, keys: Keys, reason: str, by, now: float | None = None) -> dict:
    """Pause all publishing with a reason; `by` is the identity (or a name) recorded as who paused. The state and
    its audit entry ("publishing.pause", before and after) land in one durable transaction. Pausing again while
    paused replaces the reason (audited too)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("say why publishing is paused")
    name = by if isinstance(by, str) else by.name
    state = {"reason": reason[:300], "by": name, "at": time.time() if now is None else now}

    def build(pipe):
        raw = pipe.get(keys.publish_paused)
        pipe.multi()
        pipe.set(keys.publish_paused, orjson.dumps(state))
        before = orjson.loads(raw) if raw else None
        _audit.append(
            pipe, keys, _audit.entry(by, "publishing.pause", "publishing", "room", before=before, after=state)
        )

    _audit.write(r, [keys.publish_paused], build)
    return state


def resume(r: redis.Redis, keys: Keys, by) -> dict | None:
    """Resume publishing; returns the pause that ended (None, and nothing written, if it was not paused)."""

    def build(pipe):
        raw = pipe.get(keys.publish_paused)
        if raw is None:
            return None
        before = orjson.loads(raw)
        pipe.multi()
        pipe.delete(keys.publish_paused)
        _audit.append(pipe, keys, _audit.entry(by, "publishing.resume", "publishing", "room", before=before))
        return before

    return _audit.write(r, [keys.publish_paused], build)


def paused(r: redis.Redis, keys: Keys) -> dict | None:
    raw = r.get(keys.publish_paused)
    return orjson.loads(raw) if raw else None


# --- intents
def intent(r: redis.Redis, keys: Keys, key: str) -> dict | None:
    raw = r.hget(keys.publish_intents, key)
    return orjson.loads(raw) if raw else None


def begin(
    r: redis.Redis,
    keys: Keys,
    draft: dict,
    key: str,
    request: dict,
    by: str,
    now: float,
    audit_entry: dict | None = None,
) -> dict:
    """Record the intent durably before the network call. Refuses while paused (Paused) and when this draft revision
    already has a pending or published intent (IntentExists); a failed one is replaced (the retry reuses the key).
    `audit_entry` is queued on the same MULTI (its `after` is the intent)."""
    new = {
        "key": key,
        "draft_id": draft["id"],
        "card_id": draft.get("card_id"),
        "network": draft["network"],
        "request": request,
        "by": by,
        "started_at": now,
        "state": PENDING,
        "result": None,
        "error": None,
    }
    with r.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(keys.publish_paused, keys.publish_intents)
                if raw := pipe.get(keys.publish_paused):
                    raise Paused(orjson.loads(raw))
                if raw := pipe.hget(keys.publish_intents, key):
                    old = orjson.loads(raw)
                    if old["state"] != FAILED:
                        raise IntentExists(old)
                    new["attempt"] = old.get("attempt", 1) + 1
                pipe.multi()
                pipe.hset(keys.publish_intents, key, orjson.dumps(new))
                pipe.zadd(keys.publish_pending, {key: now})
                if audit_entry is not None:
                    _audit.append(pipe, keys, {**audit_entry, "after": new})
                pipe.execute()
                break
            except redis.WatchError:
                continue
    if not _fsync(r):
        logger.warning("publish intent %s recorded without WAITAOF confirmation", key)
    return new


def finish(
    r: redis.Redis,
    keys: Keys,
    key: str,
    *,
    posted: dict | None = None,
    error: dict | None = None,
    now: float | None = None,
    how: str = "",
    audit_entry: dict | None = None,
) -> dict:
    """Record the result (a Posted dict, or an error dict) and mark the draft published, in one transaction (with
    `audit_entry`, whose `after` is the finished intent, when given)."""
    found = intent(r, keys, key)
    if found is None:
        raise NotFound(f"publish intent {key!r} does not exist")
    now = time.time() if now is None else now
    done = {**found, "state": PUBLISHED if posted else FAILED, "result": posted, "error": error, "finished_at": now}
    if how:
        done["how"] = how
    raw_draft = r.hget(keys.drafts, found["draft_id"])
    pipe = r.pipeline(transaction=True)
    pipe.hset(keys.publish_intents, key, orjson.dumps(done))
    pipe.zrem(keys.publish_pending, key)
    if raw_draft is not None:
        draft = orjson.loads(raw_draft)
        if posted:
            pipe.hset(keys.published, f"{posted['network']}:{posted['id']}", found["draft_id"])  # outcomes count it
            draft["published"] = {**posted, "by": found.get("by"), "key": key}
            draft["publish_error"] = None
        else:
            draft["publish_error"] = error
        draft["updated_at"] = now
        pipe.hset(keys.drafts, found["draft_id"], orjson.dumps(draft))
    if audit_entry is not None:
        pipe.incr(keys.cards_version)
        _audit.append(pipe, keys, {**audit_entry, "after": done})
    pipe.execute()
    _fsync(r)
    return done


def pending(r: redis.Redis, keys: Keys, *, older_than_s: float = 0.0, now: float | None = None) -> list[dict]:
    """Intents without a result that started at least `older_than_s` ago."""
    now = time.time() if now is None else now
    out = []
    for k in r.zrangebyscore(keys.publish_pending, "-inf", now - older_than_s):
        if found := intent(r, keys, k.decode() if isinstance(k, bytes) else k):
            out.append(found)
    return out


def reconcile(
    r: redis.Redis,
    keys: Keys,
    publishers: dict,
    *,
    older_than_s: float = RECONCILE_AFTER_S,
    now: float | None = None,
) -> list[dict]:
    """For each intent left without a result (its publisher died), ask the network whether the post exists and
    record published or failed. An intent whose network cannot be asked right now stays pending (reported with
    "unchecked"). Never posts."""
    from publish.errors import PublishError

    out = []
    for it in pending(r, keys, older_than_s=older_than_s, now=now):
        pub = publishers.get(it["network"])
        if pub is None or not pub.configured:
            out.append({**it, "unchecked": f"no configured publisher for {it['network']}"})
            continue
        try:
            posted = pub.find(it)
        except PublishError as exc:
            out.append({**it, "unchecked": exc.words})
            continue
        if posted is not None:
            out.append(finish(r, keys, it["key"], posted=posted.as_dict(), now=now, how="reconciled"))
        else:
            error = {
                "kind": "not_posted",
                "words": "Not posted: the publisher stopped before the network answered and the account has no such "
                "post. Publish again.",
                "network": it["network"],
            }
            out.append(finish(r, keys, it["key"], error=error, now=now, how="reconciled"))
    return out
