"""The care case workflow, pure (no Dash, no Redis): assign, escalate, correct a triage, resolve, and answer through
the same drafts, guardrails, approvals and publishing as marketing responses (web/drafts.py, web/approvals.py,
publish/outbox.py). Each change returns (new case, extras) for store.care.update; ValueError says what to fix.

States: new → assigned → replied → resolved, with escalated from any open state (a safety word, a missed target or
by hand). A case keeps the time of its first response; a new post from the customer after a reply reopens it.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from analytics import care as rules
from analytics.care import ASSIGNED, ESCALATED, KINDS, NONE, OPEN_STATES, REPLIED, RESOLVED, STATES  # noqa: F401
from config.settings import NETWORKS, Approvals, EventConfig, Template
from web import drafts, templates

CARE_TAG = "care"
CARD_TYPE = "care"


def _open(case: dict) -> None:
    if case["state"] not in OPEN_STATES:
        raise ValueError("This case is resolved.")


def _log(case: dict, who: str, action: str, now: float, note: str = "") -> dict:
    return rules._log(case, who, action, now, note)


def assign(case: dict, owner: str, by: str, now: float) -> tuple[dict, dict]:
    """Give the case an owner; a new case becomes assigned (an escalated or replied one keeps its state)."""
    _open(case)
    owner = (owner or "").strip()
    if not owner:
        raise ValueError("Say who owns the case.")
    out = copy.deepcopy(case)
    out["owner"] = owner[:60]
    if out["state"] == rules.NEW:
        out["state"] = ASSIGNED
    return _log(out, by, "assign", now, out["owner"]), {"note": f"owner {out['owner']}"}


def escalate(case: dict, to: str, note: str, by: str, now: float) -> tuple[dict, dict]:
    _open(case)
    to = (to or "").strip()
    if not to:
        raise ValueError("Say who to escalate to (a person or a group).")
    out = rules.escalate(case, to[:60], "manual", by, now, (note or "").strip()[:300])
    return out, {"note": f"to {out['escalation']['to']}"}


def correct(case: dict, kind: str, by: str, now: float) -> tuple[dict, dict]:
    """The team says what this really is; the posts teach the care model. "none" closes the case."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}")
    out = copy.deepcopy(case)
    was = out["kind"]
    out["kind"] = kind
    out["corrected"] = {"kind": kind, "was": was, "by": by, "at": now}
    if kind == NONE:
        out["state"] = RESOLVED
        out["resolved_at"] = now
    texts = [p["text"] for p in out["posts"]][-5:]
    out = _log(out, by, "correct", now, f"{was} → {kind}")
    return out, {"correction": {"texts": texts, "kind": kind}, "note": f"{was} → {kind}"}


def confirm(case: dict) -> dict:
    """A case answered or resolved as triaged confirms its kind: the model learns that too, once per case, or it
    would only ever see the mistakes (corrections are mostly "none") and learn to call everything nothing.
    Returns the extras' "correction" ({} when the team already corrected or confirmed it); marks the case."""
    if case.get("corrected") or case.get("confirmed") or case.get("kind") in (None, NONE):
        return {}
    case["confirmed"] = True
    return {"correction": {"texts": [p["text"] for p in case["posts"]][-5:], "kind": case["kind"]}}


def resolve(case: dict, by: str, now: float, care, note: str = "") -> tuple[dict, dict]:
    _open(case)
    out = copy.deepcopy(case)
    unanswered_late = not out.get("first_response_at") and rules.timer(out, care, now)["status"] == "breached"
    out["state"] = RESOLVED
    out["resolved_at"] = now
    taught = confirm(out)
    out = _log(out, by, "resolve", now, (note or "").strip()[:300])
    return out, {"breach_closed": unanswered_late, "note": (note or "").strip()[:300], **taught}


def replied(case: dict, draft: dict, result: dict, by: str, now: float, care) -> tuple[dict, dict]:
    """A reply went out (or, in dry-run, was shown as the exact request): the first one stops the timer."""
    out = copy.deepcopy(case)
    extra: dict = {"note": f"{result.get('mode')} reply {draft['id']} on {draft['network']}", **confirm(out)}
    if not out.get("first_response_at"):
        out["first_response_at"] = now
        out["responded_by"] = by
        took = now - out["opened_at"]
        target = care.target_s(out["kind"])
        extra.update(response_s=took, late=bool(target and took > target))
    out["state"] = REPLIED if out["state"] != RESOLVED else RESOLVED
    out["waiting_since"] = None
    out.setdefault("replies", []).append(
        {"draft": draft["id"], "network": draft["network"], "mode": result.get("mode"), "at": now, "by": by}
    )
    return _log(out, by, "reply", now, extra["note"]), extra


# --- replies -------------------------------------------------------------------------------------------------
def reply_card(case: dict) -> dict:
    """The case as the card a draft answers: its latest post is the one the reply threads to."""
    last = case["posts"][-1] if case["posts"] else {}
    return {
        "id": case["id"],
        "type": CARD_TYPE,
        "post_id": last.get("id"),
        "post_handle": case["author"]["handle"],
        "title": f"{case['kind']} from @{case['author']['handle']}",
    }


def networks_for(case: dict) -> list[str]:
    """Where a threaded reply can go: the network the customer posted on (none for simulated posts)."""
    return [case["source"]] if case["source"] in NETWORKS else []


def offered(library: list[Template], case: dict, now: float) -> list[Template]:
    """Care templates (tagged "care"), the case's kind first."""
    at = datetime.fromtimestamp(now, UTC)
    care = [t for t in library if CARE_TAG in t.tags and templates.valid_at(t, at)]
    return sorted(care, key=lambda t: (case["kind"] not in t.tags, t.name))


def draft_reply(
    event: EventConfig, case: dict, text: str, author: str, now: float, *, template: Template | None = None
) -> dict:
    """A reply draft threaded to the customer's latest post. A simulated post is on no network: its draft is an
    unthreaded X dry-run, marked so."""
    _open(case)
    card = reply_card(case)
    filled = templates.fill(template, card, event.brand.name) if template else None
    text = (text or "").strip() or (filled or {}).get("text", "")
    nets = networks_for(case)
    network = nets[0] if nets else "x"
    draft = drafts.new_draft(card, network, text, author, now, respond_as="reply" if nets else None, template=filled)
    draft["case_id"] = case["id"]
    draft["care_kind"] = case["kind"]
    if not nets:
        draft["unthreaded"] = f"the customer's post is from {case['source']}, not a network: not threaded"
    return draft


def chain(event: EventConfig, case: dict) -> Approvals:
    """Care replies take the event file's lighter chain; safety cases the full publishing chain (or
    care.safety_approvals)."""
    care = event.care
    if case["kind"] == rules.SAFETY:
        return care.safety_approvals or event.publishing.approvals
    return care.approvals or event.publishing.approvals


def groups_of(event: EventConfig, user: str, case: dict | None = None) -> set[str]:
    """The approval groups the event file lists `user` in (until sign-in supplies them)."""
    out = set()
    for cfg in (event.publishing.approvals, event.care.approvals, event.care.safety_approvals):
        if cfg:
            out |= {g for g, members in cfg.groups.items() if user in members}
    return out
