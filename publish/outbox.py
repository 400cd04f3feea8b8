"""Publish an approved draft exactly once: what the UI's Publish button calls.

Dry-run (the default, and always without credentials): returns the exact request, sends nothing.
Live (`publishing.mode: live` in the event file and the network's credentials): refuses while the room has paused
publishing or the draft is not approved; records the intent durably, sends (a draft's image is fetched and uploaded
first, then the post carries it), records the result.
"""

from __future__ import annotations

import time

import redis

from publish import errors
from publish.errors import PublishError
from publish.publisher import Publisher, idempotency_key
from store import publishing as store
from store.keys import Keys
from web import approvals

DRY_RUN = "dry-run"
LIVE = "live"


def mode(event, publisher: Publisher) -> str:
    """ "live" only when the event file says so and the network's credentials are in the environment."""
    return LIVE if event.publishing.mode == LIVE and publisher.configured else DRY_RUN


def publish(
    r: redis.Redis,
    keys: Keys,
    draft: dict,
    publisher: Publisher,
    *,
    by: str,
    live: bool,
    now: float | None = None,
    audit_entry: dict | None = None,
) -> dict:
    """{"mode", "request", and, live: "intent" with its state and result}. Raises PublishError in words.

    `audit_entry` (live only): queued with the intent (detail "intent") and with the result (detail "published" or
    the error's kind), each on the store's own MULTI."""
    now = time.time() if now is None else now
    if publisher.network != draft["network"]:
        raise ValueError(f"a {draft['network']} draft cannot go through the {publisher.network} publisher")
    if not live:
        return {"mode": DRY_RUN, "request": publisher.dry_run(draft, now).as_dict()}
    if pause := store.paused(r, keys):
        raise PublishError(errors.PAUSED, f"Publishing is paused by {pause['by']}: {pause['reason']}")
    if draft.get("published"):
        return {"mode": LIVE, "request": None, "already": True, "posted": draft["published"]}
    st = approvals.status(draft, now)
    if st.state != "approved":
        raise PublishError("not_approved", f"Not approved yet: {st.message}", network=draft["network"])
    publisher.require_configured()
    key = idempotency_key(draft)
    request = publisher.render_request(draft, key=key, at=now, refs=publisher.lookup(draft)).as_dict()
    try:
        entry = None if audit_entry is None else {**audit_entry, "detail": "intent"}
        it = store.begin(r, keys, draft, key, request, by, now, audit_entry=entry)
    except store.Paused as exc:
        raise PublishError(errors.PAUSED, str(exc)) from None
    except store.IntentExists as exc:
        if exc.intent["state"] == store.PUBLISHED:
            return {"mode": LIVE, "request": exc.intent["request"], "already": True, "intent": exc.intent}
        raise PublishError(
            errors.IN_PROGRESS,
            "This draft is being published right now (or its publisher stopped and it is waiting to be checked).",
            network=draft["network"],
        ) from None
    try:
        posted = publisher.publish(it)
    except PublishError as exc:
        entry = None if audit_entry is None else {**audit_entry, "detail": f"failed: {exc.kind}"}
        store.finish(r, keys, key, error=exc.as_dict(), audit_entry=entry)
        raise
    entry = None if audit_entry is None else {**audit_entry, "detail": "published"}
    done = store.finish(r, keys, key, posted=posted.as_dict(), audit_entry=entry)
    return {"mode": LIVE, "request": request, "intent": done, "posted": posted.as_dict()}
