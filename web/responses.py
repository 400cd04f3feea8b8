"""Responses on a card: draft, edit, submit for approval, approve, reject, publish. The service the command
center's Respond area calls (callbacks/responses.py only wires ids to it).

Every write takes the signed-in identity (the guard's, read on the server: `auth.web.current_identity()`), checks
it against auth/roles.py here, and lands with its audit entry in one MULTI/EXEC (store.publishing.save_draft with
an entry; live publishing: the intent and the result each carry theirs). Nothing the browser sends names who is
acting, decides a template's text or says a draft is "unchanged": the template is rendered again here, the
guardrails are checked again here at submit and at approval, and publishing refuses while the room is paused.

Refusals raise `Refused` with words for the card; a missing permission's words name it ("sam (viewer) may not
card.draft").
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from analytics import guardrails
from auth import roles as table
from auth.identity import Identity
from auth.web import base_url
from config.settings import ConfigError
from publish import outbox
from publish import text as counting
from publish.errors import PublishError
from publish.publisher import Publisher, publisher_for
from store import audit
from store import cards as card_store
from store import guardrails as guard_store
from store import outcomes as outcome_store
from store import publishing as pub_store
from store.errors import NotFound
from web import approvals, drafts, templates

DRAFT = "response.draft"
EDIT = "response.edit"
SUBMIT = "response.submit"
APPROVE = "response.approve"
REJECT = "response.reject"
PUBLISH = "response.publish"
RESPOND_AS = (None, "reply", "quote")
logger = logging.getLogger(__name__)


class Refused(Exception):
    """What the card says instead of doing it."""


# --- who may -------------------------------------------------------------------------------------------------
def may_draft(ident: Identity | None) -> bool:
    return table.may(ident, table.CARD_DRAFT)


def may_approve(ident: Identity | None) -> bool:
    return any(table.may(ident, table.CARD_APPROVE, g) for g in (getattr(ident, "groups", None) or ()))


def _require(ident: Identity | None, action: str) -> Identity:
    try:
        table.require(ident, action)
    except table.Forbidden as exc:
        raise Refused(str(exc)) from None
    return ident  # type: ignore[return-value]


def _require_group(ident: Identity | None, action: str) -> Identity:
    """An approver of some group (the chain then says which step, and whether that group is the one)."""
    groups = sorted(getattr(ident, "groups", None) or ())
    if not any(table.may(ident, action, g) for g in groups):
        try:
            table.require(ident, action, groups[0] if groups else None)
        except table.Forbidden as exc:
            raise Refused(str(exc)) from None
    return ident  # type: ignore[return-value]


def require_drafter(ident: Identity | None) -> Identity:
    """The drafting form's reads (templates, fill, count and findings): those who may draft."""
    return _require(ident, table.CARD_DRAFT)


def require_reader(ident: Identity | None) -> Identity:
    """Drafters and approvers see the Respond area; anyone else gets the permission's words."""
    if may_draft(ident) or may_approve(ident):
        return ident  # type: ignore[return-value]
    return _require(ident, table.CARD_DRAFT)


# --- reading ---------------------------------------------------------------------------------------------------
def card(s, card_id: str | None) -> dict:
    if not card_id:
        raise Refused("Pick a card first (Respond on a card).")
    try:
        return card_store.get(s.r, s.keys, card_id)
    except NotFound:
        raise Refused("That card no longer exists.") from None


def draft(s, draft_id: str | None) -> dict:
    if not draft_id:
        raise Refused("No such response.")
    try:
        return pub_store.get_draft(s.r, s.keys, draft_id)
    except NotFound:
        raise Refused("That response no longer exists.") from None


def networks(s) -> list[str]:
    return list(s.settings.event.publishing.networks)


def library(s) -> list:
    """The event file's templates and its templates_file's; a templates_file that cannot be read leaves the event
    file's own (logged: the drawer keeps working)."""
    try:
        return templates.library(s.settings.event, s.settings.event_path)
    except ConfigError as exc:
        logger.warning("templates: %s; offering the event file's own", exc)
        return list(s.settings.event.publishing.templates)


def offered(s, the_card: dict, network: str, now: float | None = None) -> list[dict]:
    """Templates a drafter may pick for this card and network now: valid today and fillable from the card
    ({"id", "name", "text", "pre_approved"}, the text rendered)."""
    at = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    out = []
    for t in templates.offered(library(s), network, the_card.get("type"), at):
        try:
            filled = templates.fill(t, the_card, s.settings.event.brand.name)
        except ValueError:
            continue  # needs a placeholder the card cannot fill: not offered
        out.append({"id": t.id, "name": t.name, "text": filled["text"], "pre_approved": t.pre_approved})
    return out


def _template(s, the_card: dict, network: str, template_id: str | None, now: float) -> dict | None:
    """What the draft keeps of its template, rendered here (never the browser's copy); Refused if not offered."""
    if not template_id:
        return None
    at = datetime.fromtimestamp(now, UTC)
    found = next(
        (t for t in templates.offered(library(s), network, the_card.get("type"), at) if t.id == template_id), None
    )
    if found is None:
        raise Refused(f"Template {template_id!r} is not offered for this card on {network} now.")
    try:
        return templates.fill(found, the_card, s.settings.event.brand.name)
    except ValueError as exc:
        raise Refused(str(exc)) from None


def context_for(s, the_card: dict) -> guardrails.Context:
    """The framed conversation (the post's author and whom it mentions) and what is open in the room now."""
    snap = s.snapshots.get()[1] or {}
    conversation = [the_card.get("post_handle") or ""]
    conversation += [h for _, _, h in counting.mentions(the_card.get("post_text") or "")]
    return guardrails.Context(
        conversation=tuple(h for h in conversation if h),
        open_alerts=tuple(a for a in snap.get("alerts", []) if not a.get("acked_by")),
        storylines=tuple(snap.get("storylines", [])),
    )


def findings(s, the_card: dict, d: dict) -> tuple[list, bool]:
    """(guardrail findings for this draft, whether a sensitive moment is open)."""
    rules = guard_store.effective(s.r, s.keys, s.settings.event)  # the admin's override included
    ctx = context_for(s, the_card)
    return guardrails.check(d, ctx, rules), bool(guardrails.sensitive_moment(ctx, rules))


def preview(s, card_id: str | None, network: str | None, text: str | None, template_id: str | None = None) -> dict:
    """As the drafter types: {"length", "limit", "over", "findings": [(severity, rule, message)]}. Writes nothing."""
    network = network if network in counting.LIMITS else "x"
    text = text or ""
    out = {"length": counting.length(network, text), "limit": counting.LIMITS[network], "findings": []}
    out["over"] = max(0, out["length"] - out["limit"])
    if not text.strip() or not card_id:
        return out
    try:
        the_card = card(s, card_id)
    except Refused:
        return out
    d = {"text": text, "network": network, "template": None}
    if template_id:
        try:
            d["template"] = _template(s, the_card, network, template_id, time.time())
        except Refused:
            pass
    found, _ = findings(s, the_card, d)
    out["findings"] = [(f.severity, f.rule, f.message) for f in found]
    return out


# --- writes ----------------------------------------------------------------------------------------------------
def _save(s, ident: Identity, action: str, before: dict | None, after: dict, detail: str = "") -> dict:
    item = audit.entry(ident, action, "draft", after["id"], before=before, detail=detail)
    return pub_store.save_draft(s.r, s.keys, after, item)


def create(
    s,
    ident: Identity | None,
    card_id: str | None,
    network: str | None,
    text: str | None,
    *,
    template_id: str | None = None,
    respond_as: str | None = None,
    image_url: str | None = None,
    image_alt: str | None = None,
    now: float | None = None,
) -> dict:
    """A new draft on the card by the signed-in strategist (its author); stored with its audit entry."""
    ident = _require(ident, table.CARD_DRAFT)
    now = time.time() if now is None else now
    the_card = card(s, card_id)
    if network not in networks(s):
        raise Refused(f"Pick a network: {', '.join(networks(s))}.")
    if respond_as not in RESPOND_AS:
        raise Refused("Respond as a new post, a reply or a quote.")
    template = _template(s, the_card, network, template_id, now)
    try:
        d = drafts.new_draft(
            the_card,
            network,
            text or "",
            ident.name,
            now,
            respond_as=respond_as,
            image_url=image_url or None,
            image_alt=image_alt,
            template=template,
        )
    except ValueError as exc:
        raise Refused(f"Not saved: {exc}") from None
    return _save(s, ident, DRAFT, None, d, detail=f"card {the_card['id']} · {network}")


def edit(
    s,
    ident: Identity | None,
    draft_id: str | None,
    text: str | None,
    now: float | None = None,
    *,
    image_url=...,
    image_alt: str | None = None,
) -> dict:
    """Change a draft's text (and, given `image_url`, its image: "" removes it); after submission that clears every
    approval and sends it back to drafting."""
    ident = _require(ident, table.CARD_DRAFT)
    now = time.time() if now is None else now
    before = draft(s, draft_id)
    try:
        image = before.get("image") if image_url is ... else drafts.image(image_url, image_alt)
        after = {**approvals.edit(before, text or "", ident.name, now), "image": image}
    except ValueError as exc:  # the image's words (drafts.image) or the chain's (approvals.ApprovalError)
        raise Refused(f"Not saved: {exc}") from None
    return _save(s, ident, EDIT, before, after, detail=approvals.status(after, now).message)


def submit(s, ident: Identity | None, draft_id: str | None, now: float | None = None) -> dict:
    """Send for approval: guardrails checked again here; a blocking finding refuses with what to change."""
    ident = _require(ident, table.CARD_DRAFT)
    now = time.time() if now is None else now
    before = draft(s, draft_id)
    found, sensitive = findings(s, card(s, before["card_id"]), before)
    try:
        after = approvals.submit(
            before, s.settings.event.publishing.approvals, ident.name, now, sensitive=sensitive, findings=found
        )
    except approvals.ApprovalError as exc:
        raise Refused(f"Not submitted: {exc}") from None
    saved = _save(s, ident, SUBMIT, before, after, detail=approvals.status(after, now).message)
    tell_approvers(s, saved, now)
    return saved


def tell_approvers(s, d: dict, now: float) -> dict | None:
    """Through the alert webhook (Slack): whose approval the draft now waits for, with a link that opens the
    card's Respond drawer. On screen the card's status says it (the cards version is bumped with every write).
    Returns what was sent, or None (no webhook, or nobody to wait for)."""
    if s.notifier is None or approvals.who_can_approve(d, now) is None:
        return None
    the_card = card(s, d["card_id"])
    message = approvals.waiting_message(
        d,
        now,
        kind="Response",
        about=the_card.get("title", ""),
        subject=the_card["id"],
        link=f"{base_url(s.settings)}/?respond={the_card['id']}",
        action="Open the card to approve or reject",
    )
    s.notifier.submit(message)
    return message


def create_and_submit(s, ident: Identity | None, card_id, network, text, **kwargs) -> dict:
    """The one-click path: a new draft, then submitted (the draft stays, in drafting, if submission is refused)."""
    now = kwargs.pop("now", None) or time.time()
    d = create(s, ident, card_id, network, text, now=now, **kwargs)
    try:
        return submit(s, ident, d["id"], now)
    except Refused as exc:
        raise Refused(f"Draft saved, {str(exc)[0].lower()}{str(exc)[1:]}") from None


def approve(s, ident: Identity | None, draft_id: str | None, now: float | None = None) -> dict:
    """Approve the waiting step as the signed-in approver, in the groups their sign-in gave them (guardrails
    checked again; nobody approves their own draft: web/approvals.py)."""
    ident = _require_group(ident, table.CARD_APPROVE)
    now = time.time() if now is None else now
    before = draft(s, draft_id)
    found, _ = findings(s, card(s, before["card_id"]), before)
    try:
        after = approvals.approve(before, ident.name, sorted(ident.groups), now, findings=found)
    except approvals.ApprovalError as exc:
        raise Refused(f"Not approved: {exc}") from None
    saved = _save(s, ident, APPROVE, before, after, detail=approvals.status(after, now).message)
    tell_approvers(s, saved, now)  # the next step's group, if there is one
    return saved


def reject(s, ident: Identity | None, draft_id: str | None, note: str | None, now: float | None = None) -> dict:
    ident = _require_group(ident, table.CARD_REJECT)
    now = time.time() if now is None else now
    before = draft(s, draft_id)
    try:
        after = approvals.reject(before, ident.name, sorted(ident.groups), note or "", now)
    except approvals.ApprovalError as exc:
        raise Refused(f"Not sent back: {exc}") from None
    return _save(s, ident, REJECT, before, after, detail=(note or "").strip()[:500])


def publish(
    s,
    ident: Identity | None,
    draft_id: str | None,
    now: float | None = None,
    publisher: Publisher | None = None,
) -> dict:
    """Publish an approved draft through publish/outbox. Dry run (the default): nothing is sent; the draft keeps
    the exact request that would be (shown on the card), audited. Live: outbox's intent and result, each with its
    audit entry. Refused while the room has paused publishing, and before the chain is complete."""
    ident = _require(ident, table.CARD_DRAFT)
    now = time.time() if now is None else now
    before = draft(s, draft_id)
    if pause := pub_store.paused(s.r, s.keys):
        raise Refused(f"Not published: publishing is paused by {pause.get('by')}: {pause.get('reason')}")
    if before.get("published"):
        raise Refused("Already published.")
    st = approvals.status(before, now)
    if st.state != "approved":
        raise Refused(f"Not published: {st.message}")
    publisher = publisher or publisher_for(before["network"])
    live = outbox.mode(s.settings.event, publisher) == outbox.LIVE
    entry = audit.entry(ident, PUBLISH, "draft", before["id"])
    try:
        result = outbox.publish(s.r, s.keys, before, publisher, by=ident.name, live=live, now=now, audit_entry=entry)
    except PublishError as exc:
        raise Refused(f"Not published: {exc.words}") from None
    if result["mode"] == outbox.DRY_RUN:
        after = {**before, "dry_run": {"request": result["request"], "at": now, "by": ident.name}, "updated_at": now}
        return _save(s, ident, PUBLISH, before, after, detail="dry run: nothing sent")
    return pub_store.get_draft(s.r, s.keys, before["id"])


# --- what the card shows ---------------------------------------------------------------------------------------
def summary(d: dict, now: float, outcome: dict | None = None) -> dict:
    """A draft as the card draws it: status words, the chain (steps, who approved when), who may act next, and
    once published its outcome (analytics.outcomes.merged)."""
    st = approvals.status(d, now)
    a = d["approval"]
    return {
        "id": d["id"],
        "network": d["network"],
        "text": d["text"],
        "author": d.get("author"),
        "state": st.state,
        "message": st.message,
        "steps": [s["name"] for s in a.get("steps") or []],
        "fast_lane": bool(a.get("fast_lane")),
        "history": list(a.get("history") or []),
        "next": approvals.who_can_approve(d, now),
        "authors": list(a.get("authors") or []),
        "measure": drafts.measure(d),
        "reply_to": d.get("reply_to"),
        "quote_of": d.get("quote_of"),
        "image": d.get("image"),
        "template": (d.get("template") or {}).get("id"),
        "dry_run": d.get("dry_run"),
        "published": d.get("published"),
        "publish_error": d.get("publish_error"),
        "created_at": d.get("created_at"),
        "card_id": d.get("card_id"),
        "outcome": outcome if d.get("published") else None,
    }


def for_card(s, card_id: str, now: float | None = None) -> list[dict]:
    now = time.time() if now is None else now
    found = outcome_store.all_outcomes(s.r, s.keys)
    return [summary(d, now, found.get(d["id"])) for d in pub_store.drafts_for_card(s.r, s.keys, card_id)]


def by_card(s, now: float | None = None) -> dict[str, list[dict]]:
    """Every card's drafts (one read of the drafts hash), newest last."""
    import orjson

    now = time.time() if now is None else now
    out: dict[str, list[dict]] = {}
    for raw in s.r.hvals(s.keys.drafts):
        d = orjson.loads(raw)
        out.setdefault(d.get("card_id"), []).append(d)
    found = outcome_store.all_outcomes(s.r, s.keys)
    return {
        k: [summary(d, now, found.get(d["id"])) for d in sorted(v, key=lambda d: d["created_at"])]
        for k, v in out.items()
    }
