"""The care lane's callbacks: render the lane from the snapshot, open a case, and the writes (assign, escalate,
correct, resolve, draft + submit a reply, approve it, publish it). Each write goes through `web.roles.require` with
an action from auth/roles.py, then one store transaction with its audit entry.
"""

from __future__ import annotations

import time

from dash import Input, Output, State, ctx, no_update

from analytics import guardrails
from auth import roles as actions
from auth import roles as table
from auth.identity import Identity
from auth.web import base_url, current_identity
from callbacks.clicks import gate, gated
from layouts import care as ui
from layouts import ids
from layouts.render import rows_json
from publish import outbox
from publish.errors import PublishError
from publish.publisher import publisher_for
from store import audit
from store import care as care_store
from store import guardrails as guard_store
from store import publishing as pub_store
from store.errors import NotFound
from web import approvals
from web import care as workflow
from web import templates as template_lib
from web.roles import Forbidden, require, require_any
from web.services import Services

NOBODY = Identity("nobody", frozenset())
DRAFT_ACTION = "care.draft"  # audit names of a care reply's draft and its approvals
APPROVE_ACTION = "care.approve"
ACTIONS = {
    "assign": actions.CARE_ASSIGN,
    "escalate": actions.CARE_ESCALATE,
    "correct": actions.CARE_CORRECT,
    "resolve": actions.CARE_RESOLVE,
    "draft": actions.CARE_REPLY,
    "approve": actions.CARD_APPROVE,
    "publish": actions.CARE_REPLY,
}


def reader() -> Identity:
    """Who may see the lane: who works it, and approvers in any group (care replies wait for them)."""
    groups = sorted((current_identity() or NOBODY).groups)
    return require_any([(table.CARE_ASSIGN, None), *((table.CARD_APPROVE, g) for g in groups)])


def lane(s: Services, _version, selected: str | None) -> tuple:
    """(metrics line, case rows) from the current snapshot; for who works the lane and approvers."""
    try:
        reader()
    except Forbidden as exc:
        return str(exc), []
    version, snap = s.snapshots.get()
    care = (snap or {}).get("care") or {}
    return s.snapshots.memo(
        ("care-lane", version, selected),
        lambda: (
            ui.metrics_line(care.get("metrics") or {}),
            rows_json(ui.lane_rows(care.get("cases") or [], selected)),
        ),
    )


def open_case(s: Services, trigger: dict | None) -> tuple:
    """(selected case id, its conversation, the care templates offered for it, its latest reply draft)."""
    if trigger is None:
        return no_update, no_update, no_update, no_update
    try:
        reader()
    except Forbidden as exc:
        return no_update, str(exc), no_update, no_update
    try:
        drafts = care_store.get(s.r, s.keys, trigger["case"]).get("drafts") or [None]
    except NotFound:
        drafts = [None]
    return (trigger["case"], *detail(s, trigger["case"]), drafts[-1])


def detail(s: Services, case_id: str | None) -> tuple:
    if not case_id:
        return ui.case_detail(None), []
    try:
        case = care_store.get(s.r, s.keys, case_id)
    except NotFound:
        return ui.case_detail(None), []
    drafts = [pub_store.get_draft(s.r, s.keys, d) for d in case.get("drafts", []) if s.r.hexists(s.keys.drafts, d)]
    now = time.time()
    options = [{"label": t.name, "value": t.id} for t in workflow.offered(_library(s), case, now)]
    return ui.case_detail(case, drafts, now), options


def _library(s: Services):
    return template_lib.library(s.settings.event, s.settings.event_path) + list(s.settings.event.care.templates)


def act(s: Services, action: str, case_id: str | None, values: dict, pathname: str | None) -> str:
    """One write on the selected case; returns what the lane says about it."""
    try:
        if action == "approve":  # an approver of any group here; the chain then says which step it may approve
            groups = sorted((current_identity() or NOBODY).groups)
            ident = require_any([(table.CARD_APPROVE, g) for g in groups] or [(table.CARD_APPROVE, None)])
        else:
            ident = require(ACTIONS[action])  # the signed-in person; nothing the browser sends names the author
    except Forbidden as exc:
        return str(exc)
    if not case_id:
        return "Open a case first."
    user = ident.name
    event, now = s.settings.event, time.time()
    try:
        if action == "assign":
            change = lambda c: workflow.assign(c, values.get("owner") or user, user, now)  # noqa: E731
        elif action == "escalate":
            change = lambda c: workflow.escalate(c, values.get("to"), values.get("note"), user, now)  # noqa: E731
        elif action == "correct":
            change = lambda c: workflow.correct(c, values.get("kind"), user, now)  # noqa: E731
        elif action == "resolve":
            change = lambda c: workflow.resolve(c, user, now, event.care, values.get("note"))  # noqa: E731
        elif action == "draft":
            return _draft(s, case_id, values, ident, now)
        elif action == "approve":
            return _approve(s, values.get("draft"), ident, now)
        elif action == "publish":
            return _publish(s, case_id, values.get("draft"), user, now)
        else:
            return f"unknown action {action!r}"
        case = care_store.update(s.r, s.keys, case_id, change, user, ACTIONS[action])
    except (ValueError, NotFound) as exc:
        return f"Not done: {exc}"
    return f"{action}: @{case['author']['handle']} is {case['state']} ({case['kind']})"


def _guard_context(s: Services, case: dict) -> guardrails.Context:
    snap = s.snapshots.get()[1] or {}
    return guardrails.Context(
        conversation=(case["author"]["handle"],),
        open_alerts=tuple(a for a in snap.get("alerts", []) if not a.get("acked_by")),
        storylines=tuple(snap.get("storylines", [])),
    )


def _draft(s: Services, case_id: str, values: dict, ident: Identity, now: float) -> str:
    """Draft a reply (from a care template or typed), check the guardrails, submit it to the case's chain; the
    case keeps the draft id (audited with it), the draft is saved with its own audit entry, approvers are told."""
    event, user = s.settings.event, ident.name
    template = next((t for t in _library(s) if t.id == values.get("template")), None)
    holder: dict = {}
    rules = guard_store.effective(s.r, s.keys, event)  # the event file's, with the admins' override

    def change(case: dict):
        draft = workflow.draft_reply(event, case, values.get("text"), user, now, template=template)
        ctx_ = _guard_context(s, case)
        findings = guardrails.check(draft, ctx_, rules)
        sensitive = bool(guardrails.sensitive_moment(ctx_, rules))
        draft = approvals.submit(draft, workflow.chain(event, case), user, now, sensitive=sensitive, findings=findings)
        holder.update(draft=draft, findings=findings)
        out = {**case, "drafts": case.get("drafts", []) + [draft["id"]]}
        return workflow._log(out, user, "draft", now, draft["id"]), {"note": f"draft {draft['id']}"}

    try:
        case = care_store.update(s.r, s.keys, case_id, change, user, actions.CARE_REPLY)
    except approvals.ApprovalError as exc:
        return f"Not submitted: {exc}"
    entry = audit.entry(ident, DRAFT_ACTION, "draft", holder["draft"]["id"], detail=f"reply to care case {case_id}")
    draft = pub_store.save_draft(s.r, s.keys, holder["draft"], entry)
    tell_approvers(s, draft, case, now)
    st = approvals.status(draft, now)
    warns = [f.message for f in holder["findings"] if f.severity == guardrails.WARN]
    return f"Draft {draft['id']} submitted. {st.message}" + (f" Warnings: {' '.join(warns)}" if warns else "")


def _approve(s: Services, draft_id: str | None, ident, now: float) -> str:
    if not draft_id:
        return "No reply draft yet: draft one first."
    before = pub_store.get_draft(s.r, s.keys, draft_id)
    case = care_store.get(s.r, s.keys, before["case_id"])
    user = ident.name
    groups = sorted(set(ident.groups) | set(workflow.groups_of(s.settings.event, user, case)))
    rules = guard_store.effective(s.r, s.keys, s.settings.event)
    findings = guardrails.check(before, _guard_context(s, case), rules)  # checked again at approval
    try:
        draft = approvals.approve(before, user, groups, now, findings=findings)
    except approvals.ApprovalError as exc:
        return f"Not approved: {exc}"
    entry = audit.entry(ident, APPROVE_ACTION, "draft", draft_id, before=before, detail=f"care case {case['id']}")
    draft = pub_store.save_draft(s.r, s.keys, draft, entry)
    tell_approvers(s, draft, case, now)  # the next step's group, if there is one
    return approvals.status(draft, now).message


def tell_approvers(s: Services, draft: dict, case: dict, now: float) -> dict | None:
    """Through the alert webhook: whose approval a care reply now waits for, with a link to the room (the lane
    shows the case on every approver's screen). None when nobody is waited for or there is no webhook."""
    if s.notifier is None:
        return None
    message = approvals.waiting_message(
        draft,
        now,
        kind="Care reply",
        about=f"{case['kind']} from @{case['author']['handle']}",
        subject=case["id"],
        link=f"{base_url(s.settings)}/",
        action="Open the care lane to approve",
    )
    if message:
        s.notifier.submit(message)
    return message


def _publish(s: Services, case_id: str, draft_id: str | None, user: str, now: float) -> str:
    """Publish an approved reply (dry-run unless the event file and credentials say live); the case records it."""
    if not draft_id:
        return "No reply draft yet: draft one first."
    draft = pub_store.get_draft(s.r, s.keys, draft_id)
    st = approvals.status(draft, now)
    if st.state != "approved":
        return f"Not published: {st.message}"
    publisher = publisher_for(draft["network"])
    live = outbox.mode(s.settings.event, publisher) == outbox.LIVE
    try:
        result = outbox.publish(s.r, s.keys, draft, publisher, by=user, live=live, now=now)
    except PublishError as exc:
        return f"Not published: {exc}"
    care = s.settings.event.care
    case = care_store.update(
        s.r, s.keys, case_id, lambda c: workflow.replied(c, draft, result, user, now, care), user, actions.CARE_REPLY
    )
    return f"Reply {result['mode']}: @{case['author']['handle']} is {case['state']}"


def register(app, s: Services) -> None:
    app.callback(
        Output(ui.METRICS, "children"),
        Output(ids.rows(ui.LANE), "data"),
        Input(ids.SNAP_VERSION, "data"),
        State(ui.SELECTED, "data"),
    )(lambda version, selected: lane(s, version, selected))

    app.callback(
        Output(ui.SELECTED, "data"),
        Output(ui.DETAIL, "children"),
        Output(ui.TEMPLATE, "options"),
        Output(ui.DRAFT_ID, "data", allow_duplicate=True),
        gate(ui.OPEN),
        prevent_initial_call=True,
    )(lambda data: open_case(s, gated(data)))

    button_ids = list(ui.BUTTONS.items())

    def on_click(*args):
        n = len(button_ids)
        selected, draft_id, owner, to, note, kind, template, text, pathname = args[n:]
        trig = ctx.triggered_id
        action = next((a for a, i in button_ids if i == trig), None)
        if action is None:
            return no_update, no_update, no_update, no_update
        values = {
            "owner": owner,
            "to": to,
            "note": note,
            "kind": kind,
            "template": template,
            "text": text,
            "draft": draft_id,
        }
        message = act(s, action, selected, values, pathname)
        if action == "draft" and selected and table.may(current_identity(), table.CARE_REPLY):
            case = care_store.get(s.r, s.keys, selected)
            draft_id = (case.get("drafts") or [None])[-1]
        case_view, options = detail(s, selected)
        return message, case_view, options, draft_id

    app.callback(
        Output(ui.MESSAGE, "children"),
        Output(ui.DETAIL, "children", allow_duplicate=True),
        Output(ui.TEMPLATE, "options", allow_duplicate=True),
        Output(ui.DRAFT_ID, "data"),
        *[Input(i, "n_clicks") for _, i in button_ids],
        State(ui.SELECTED, "data"),
        State(ui.DRAFT_ID, "data"),
        State(ui.OWNER, "value"),
        State(ui.ESCALATE_TO, "value"),
        State(ui.NOTE, "value"),
        State(ui.KIND, "value"),
        State(ui.TEMPLATE, "value"),
        State(ui.TEXT, "value"),
        State(ids.URL, "pathname"),
        prevent_initial_call=True,
    )(on_click)
