"""The approval chain over a draft, pure (no Dash, no Redis): submit, approve, reject, edit, and where it stands.

The chain is the event file's ordered steps (`publishing.approvals.steps`), each passed by `any` member of a group
or by `all` of its listed members. It is frozen into the draft at `submit`:

- nobody approves a draft they wrote or edited ("authors"), and one person passes at most one step;
- `reject` with a note sends the draft back to its authors; any `edit` after submission clears every approval
  and sends it back to drafting (submit again: the chain restarts from its first step);
- fast lane: a pre-approved template used unchanged needs a single approver (the first step's group, any member);
- during a sensitive moment a draft from a playful-tagged template also needs the sensitive group (legal);
- an approval counts for `expire_minutes` (default 15): after that its step is open again.

Every function returns a new draft dict (the input is not changed) or raises `ApprovalError` saying what to do.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from config.settings import Approvals

HISTORY_MAX = 50
PLAYFUL = "playful"


class ApprovalError(ValueError):
    """A refused approval action; the message is for the person who tried it."""


@dataclass(frozen=True)
class Status:
    state: str  # drafting | rejected | pending | approved | published
    step: int | None = None  # index of the next step while pending
    step_name: str | None = None
    message: str = ""
    approvers: tuple[str, ...] = ()  # who the counted (unexpired) approvals are from
    expired: tuple[str, ...] = field(default=())  # users whose approvals have run out


def initial(author: str) -> dict:
    return {
        "state": "drafting",
        "authors": [author],
        "revision": 0,
        "steps": [],
        "fast_lane": False,
        "expire_s": None,
        "approvals": [],
        "rejection": None,
        "submitted_at": None,
        "history": [],
    }


def chain(config: Approvals, draft: dict, *, sensitive: bool = False) -> tuple[list[dict], bool]:
    """The steps this draft needs, each {"name", "group", "mode", "members"}, and whether it is the fast lane."""
    groups = config.groups
    tags = set((draft.get("template") or {}).get("tags") or [])
    template = draft.get("template") or {}
    fast = bool(config.fast_lane and template.get("pre_approved") and template.get("text") == draft["text"])
    steps = [
        {"name": s.name, "group": s.group, "mode": s.mode, "members": sorted(groups.get(s.group, []))}
        for s in config.steps
    ]
    if fast:
        first = steps[0]
        steps = [{**first, "name": f"{first['name']} (fast lane)", "mode": "any"}]
    if sensitive and PLAYFUL in tags and all(s["group"] != config.sensitive_group for s in steps):
        members = sorted(groups.get(config.sensitive_group, []))
        steps.append({"name": "Sensitive moment", "group": config.sensitive_group, "mode": "any", "members": members})
    return steps, fast


def _with(draft: dict, approval: dict, user: str, action: str, now: float, note: str = "") -> dict:
    out = copy.deepcopy(draft)
    approval = copy.deepcopy(approval)
    approval["history"] = (approval["history"] + [{"at": now, "user": user, "action": action, "note": note}])[
        -HISTORY_MAX:
    ]
    out["approval"] = approval
    out["updated_at"] = now
    return out


def _refuse_blocking(findings) -> None:
    """Guardrail findings (analytics.guardrails.check) with severity "block" stop submission and approval."""
    blocking = [f for f in findings or () if f.severity == "block"]
    if blocking:
        raise ApprovalError("Guardrails: " + " ".join(f.message for f in blocking))


def submit(draft: dict, config: Approvals, user: str, now: float, *, sensitive: bool = False, findings=()) -> dict:
    """Send a draft for approval: the chain is computed now and kept with the draft. `sensitive`: a sensitive moment
    is open (analytics.guardrails.sensitive_moment); `findings`: the draft's guardrail findings."""
    a = draft["approval"]
    if draft.get("published"):
        raise ApprovalError("This draft is already published.")
    if a["state"] not in ("drafting", "rejected"):
        raise ApprovalError(f"This draft is already {a['state']}.")
    _refuse_blocking(findings)
    steps, fast = chain(config, draft, sensitive=sensitive)
    a = {
        **a,
        "state": "pending",
        "steps": steps,
        "fast_lane": fast,
        "expire_s": config.expire_minutes * 60.0,
        "approvals": [],
        "rejection": None,
        "submitted_at": now,
    }
    return _with(draft, a, user, "submit", now, "fast lane" if fast else "")


def _valid(a: dict, now: float) -> list[dict]:
    """Approvals that still count: this revision, not expired, not by an author."""
    expire = a.get("expire_s") or 0
    authors = set(a["authors"])
    return [
        x
        for x in a["approvals"]
        if x["revision"] == a["revision"] and now - x["at"] < expire and x["user"] not in authors
    ]


def _step_done(step: dict, approvals: list[dict], authors: set[str]) -> bool:
    users = {x["user"] for x in approvals}
    if step["mode"] == "any":
        return bool(users)
    needed = set(step["members"]) - authors
    return bool(needed) and needed <= users


def _progress(a: dict, now: float) -> tuple[int | None, list[dict]]:
    """(index of the first open step or None when every step is passed, the counted approvals)."""
    valid = _valid(a, now)
    authors = set(a["authors"])
    for i, step in enumerate(a["steps"]):
        if not _step_done(step, [x for x in valid if x["step"] == i], authors):
            return i, valid
    return None, valid


def status(draft: dict, now: float) -> Status:
    a = draft["approval"]
    if draft.get("published"):
        return Status("published", message="Published.")
    if a["state"] == "drafting":
        return Status("drafting", message="Drafting: submit it for approval.")
    if a["state"] == "rejected":
        r = a["rejection"] or {}
        return Status("rejected", message=f"Sent back by {r.get('user')}: {r.get('note')}")
    step, valid = _progress(a, now)
    expired = tuple(sorted({x["user"] for x in a["approvals"] if x["revision"] == a["revision"] and x not in valid}))
    approvers = tuple(sorted({x["user"] for x in valid}))
    if step is None:
        return Status("approved", approvers=approvers, message="Approved: ready to publish.", expired=expired)
    s = a["steps"][step]
    need = "any member" if s["mode"] == "any" else "every member"
    msg = f"Waiting for {s['name']}: {need} of {s['group']}."
    if expired:
        msg += f" Approval by {', '.join(expired)} expired: approve again."
    return Status("pending", step, s["name"], msg, approvers, expired)


def next_step(draft: dict, now: float) -> dict | None:
    """The step waiting for an approval, or None (not submitted, rejected or fully approved)."""
    st = status(draft, now)
    return draft["approval"]["steps"][st.step] if st.state == "pending" else None


def who_can_approve(draft: dict, now: float) -> dict | None:
    """{"group", "users"} for the next step: listed members who may still approve it (users is empty when the
    group's members are not listed in the event file: anyone signed in with the group may)."""
    step = next_step(draft, now)
    if step is None:
        return None
    a = draft["approval"]
    idx = a["steps"].index(step)
    valid = _valid(a, now)
    taken = {x["user"] for x in valid}  # one person passes at most one step
    users = [u for u in step["members"] if u not in set(a["authors"]) and u not in taken]
    return {"group": step["group"], "users": users, "step": step["name"], "index": idx}


def approve(draft: dict, user: str, groups: list[str] | set[str], now: float, *, findings=()) -> dict:
    """Approve the waiting step as `user`, who holds `groups` (from sign-in)."""
    a = draft["approval"]
    st = status(draft, now)
    if st.state != "pending":
        raise ApprovalError(f"Nothing to approve: the draft is {st.state}.")
    if user in a["authors"]:
        raise ApprovalError("You wrote or edited this draft: someone else must approve it.")
    step = a["steps"][st.step]
    if step["group"] not in set(groups):
        raise ApprovalError(f"{step['name']} needs someone in {step['group']}.")
    if step["mode"] == "all" and user not in step["members"]:
        raise ApprovalError(f"{step['name']} needs the listed members of {step['group']}; you are not listed.")
    _refuse_blocking(findings)
    valid = _valid(a, now)
    if any(x["user"] == user for x in valid):
        raise ApprovalError("You already approved a step of this draft: another person approves the next one.")
    a = {**a, "approvals": a["approvals"] + [{"user": user, "step": st.step, "at": now, "revision": a["revision"]}]}
    return _with(draft, a, user, "approve", now, step["name"])


def reject(draft: dict, user: str, groups: list[str] | set[str], note: str, now: float) -> dict:
    """Send the draft back to its authors with a note (by someone who could approve the waiting step)."""
    note = (note or "").strip()
    if not note:
        raise ApprovalError("Say what to change: a rejection needs a note.")
    a = draft["approval"]
    st = status(draft, now)
    if st.state not in ("pending", "approved"):
        raise ApprovalError(f"Nothing to reject: the draft is {st.state}.")
    if user in a["authors"]:
        raise ApprovalError("You wrote or edited this draft: edit it instead of rejecting it.")
    if not set(groups) & {s["group"] for s in a["steps"]}:
        raise ApprovalError("Only someone in the approval chain can reject.")
    a = {**a, "state": "rejected", "approvals": [], "rejection": {"user": user, "note": note[:500], "at": now}}
    return _with(draft, a, user, "reject", now, note[:500])


def edit(draft: dict, text: str, user: str, now: float) -> dict:
    """Change the text. The editor becomes an author (and so cannot approve); after submission every approval
    is cleared and the draft goes back to drafting: submit it again and the chain starts over."""
    if draft.get("published"):
        raise ApprovalError("This draft is already published: write a new one.")
    text = (text or "").strip()
    if not text:
        raise ApprovalError("The draft has no text.")
    a = draft["approval"]
    authors = a["authors"] + ([user] if user not in a["authors"] else [])
    restarted = a["state"] in ("pending", "approved")
    a = {
        **a,
        "authors": authors,
        "revision": a["revision"] + 1,
        "approvals": [],
        "state": "drafting" if restarted else a["state"],
    }
    out = _with(draft, a, user, "edit", now, "chain restarted" if restarted else "")
    out["text"] = text
    return out


def waiting_message(draft: dict, now: float, *, kind: str, about: str, subject: str, link: str, action: str):
    """The webhook message "<kind> awaiting <group> approval (@names): <about>" with the draft's text and a link
    (`action` says what it opens), or None when nobody is waited for. Pure: the caller sends it."""
    who = who_can_approve(draft, now)
    if who is None:
        return None
    names = f" ({', '.join('@' + u for u in who['users'])})" if who["users"] else ""
    return {
        "kind": "approval",
        "title": f"{kind} awaiting {who['group']} approval{names}: {about}",
        "detail": f"{draft['network']}: {draft['text'][:500]}\n<{link}|{action}>",
        "subject": subject,
        "at": now,
        "link": link,
    }
