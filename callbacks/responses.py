"""The Respond drawer's callbacks: thin wrappers over web/responses.py, which checks the signed-in identity (read
here from the request, never from the browser) and writes each change with its audit entry.

Each is a plain function of the services and the values Dash passes; `register` only wires ids to them.
"""

from __future__ import annotations

import time

from dash import ALL, Input, Output, State, no_update

from auth import roles as table
from auth.web import current_identity
from callbacks.clicks import clicked
from layouts import ids
from layouts import responses as ui
from web import responses
from web.responses import Refused
from web.services import Services


def open_card(s: Services, trigger: dict | None) -> tuple:
    """(card id, drawer open, its head, network, editing) for a card's Respond."""
    if trigger is None:
        return (no_update,) * 5
    ident = current_identity()
    try:
        responses.require_reader(ident)
        card = responses.card(s, trigger["card"])
    except Refused as exc:
        return no_update, True, str(exc), no_update, None
    source = (card.get("post_id") or "").partition(":")[0]
    network = source if source in responses.networks(s) else responses.networks(s)[0]
    return card["id"], True, ui.card_head(card), network if responses.may_draft(ident) else no_update, None


def template_options(s: Services, network: str | None, card_id: str | None) -> tuple:
    """(templates offered for this card and network, reply/quote options, hint)."""
    if not card_id:
        return [], no_update, ""
    try:
        responses.require_drafter(current_identity())
        card = responses.card(s, card_id)
    except Refused as exc:
        return [], no_update, str(exc)
    offered = responses.offered(s, card, network or "x")
    options = [
        {"label": t["name"] + (" · pre-approved" if t["pre_approved"] else ""), "value": t["id"]} for t in offered
    ]
    framed = (card.get("post_id") or "").partition(":")[0] == network
    as_options = [{"label": lab, "value": v, "disabled": v != "new" and not framed} for v, lab in ui.AS_OPTIONS]
    hint = (
        f"{len(offered)} template{'s' * (len(offered) != 1)} offered" if offered else "No template for this card here"
    )
    return options, as_options, hint


def fill(s: Services, template_id: str | None, card_id: str | None, network: str | None) -> tuple:
    """(text, hint): one pick fills the text with the template's placeholders filled from the card."""
    if not template_id:
        return no_update, no_update
    try:
        responses.require_drafter(current_identity())
        card = responses.card(s, card_id)
    except Refused as exc:
        return no_update, str(exc)
    found = next((t for t in responses.offered(s, card, network or "x") if t["id"] == template_id), None)
    if found is None:
        return no_update, "That template is not offered here now."
    return found["text"], ("Pre-approved: used unchanged it needs one approver." if found["pre_approved"] else "")


def preview(s: Services, text: str | None, network: str | None, card_id: str | None, template_id: str | None):
    """(count against the network's limit, guardrail findings) as the drafter types."""
    try:
        responses.require_drafter(current_identity())
    except Refused as exc:
        return str(exc), []
    p = responses.preview(s, card_id, network, text, template_id)
    return ui.count_line(p), ui.findings_list(p["findings"])


def submit(s, n, card_id, network, respond_as, template_id, text, image_url, image_alt, editing, version) -> tuple:
    """(message, version, editing): a new draft (or the edited one) submitted for approval."""
    if not n:
        return no_update, no_update, no_update
    ident = current_identity()
    as_ = None if respond_as in (None, "new") else respond_as
    image = {"image_url": image_url or "", "image_alt": image_alt or ""}
    try:
        if editing:
            d = responses.edit(s, ident, editing, text, **image)
            d = responses.submit(s, ident, d["id"])
        else:
            d = responses.create_and_submit(
                s, ident, card_id, network, text, template_id=template_id, respond_as=as_, **image
            )
    except Refused as exc:
        return str(exc), (version or 0) + 1, no_update
    return f"Submitted. {responses.summary(d, time.time())['message']}", (version or 0) + 1, None


def decide(s: Services, action: str, trigger: dict | None, note: str | None, version) -> tuple:
    """(message, version) for Approve, Reject (with the note) or Publish on one draft."""
    if trigger is None:
        return no_update, no_update
    ident = current_identity()
    try:
        if action == "approve":
            d = responses.approve(s, ident, trigger["draft"])
        elif action == "reject":
            d = responses.reject(s, ident, trigger["draft"], note)
        else:
            d = responses.publish(s, ident, trigger["draft"])
    except Refused as exc:
        return str(exc), (version or 0) + 1
    if action == "publish":
        return ("Published." if d.get("published") else "Dry run: nothing sent; the request is on the draft."), (
            version or 0
        ) + 1
    return responses.summary(d, time.time())["message"], (version or 0) + 1


def load_edit(s: Services, trigger: dict | None) -> tuple:
    """(editing, text, network, image URL, alt text, message): a draft into the form; submitting then edits it."""
    if trigger is None:
        return (no_update,) * 6
    ident = current_identity()
    try:
        responses.require_drafter(ident)
    except Refused as exc:
        return no_update, no_update, no_update, no_update, no_update, str(exc)
    try:
        d = responses.draft(s, trigger["draft"])
    except Refused as exc:
        return None, no_update, no_update, no_update, no_update, str(exc)
    image = d.get("image") or {}
    said = "Editing: submitting sends it through the chain again."
    return d["id"], d["text"], d["network"], image.get("url", ""), image.get("alt", ""), said


def drafts_view(s: Services, _version, card_id: str | None, _tick, seen) -> tuple:
    """(the card's responses, what was drawn); unchanged since the last draw: not redrawn."""
    ident = current_identity()
    try:
        responses.require_reader(ident)
    except Refused as exc:
        return str(exc), None
    if not card_id:
        return ([], "none") if seen != "none" else (no_update, no_update)
    now = time.time()
    items = responses.for_card(s, card_id, now)
    can_draft = responses.may_draft(ident)
    rows = []
    for d in reversed(items):
        nxt = d["next"]
        can_approve = bool(
            nxt
            and nxt["group"] in ident.groups
            and ident.name not in d["authors"]
            and table.may(ident, table.CARD_APPROVE, nxt["group"])
        )
        rows.append((d, can_approve))
    digest = repr([(d["id"], d["state"], d["message"], len(d["history"]), bool(d["dry_run"]), a) for d, a in rows])
    if digest == seen:
        return no_update, no_update
    if not rows:
        return [ui.html.Div("No response on this card yet.", className="text-muted small")], digest
    return [ui.draft_item(d, can_approve=a, can_draft=can_draft) for d, a in rows], digest


def register(app, s: Services) -> None:
    app.callback(
        Output(ids.RESPOND_CARD, "data"),
        Output(ids.RESPOND_DRAWER, "is_open"),
        Output(ids.RESPOND_HEAD, "children"),
        Output(ids.RESPOND_NETWORK, "value"),
        Output(ids.RESPOND_EDITING, "data"),
        Input({"type": ids.RESPOND_OPEN, "card": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(lambda _clicks: open_card(s, clicked()))
    # A link to a card (the approvers' notification: /?respond=<card id>) opens its drawer once the page is drawn.
    app.callback(
        Output(ids.RESPOND_CARD, "data", allow_duplicate=True),
        Output(ids.RESPOND_DRAWER, "is_open", allow_duplicate=True),
        Output(ids.RESPOND_HEAD, "children", allow_duplicate=True),
        Output(ids.RESPOND_NETWORK, "value", allow_duplicate=True),
        Output(ids.RESPOND_EDITING, "data", allow_duplicate=True),
        Input(ids.RESPOND_REQUEST, "data"),
        prevent_initial_call=True,
    )(lambda card_id: open_card(s, {"card": card_id} if isinstance(card_id, str) and card_id else None))
    app.clientside_callback(
        """function (_) {
            var m = /[?&]respond=([^&#]+)/.exec(window.location.search);
            return m ? decodeURIComponent(m[1]) : window.dash_clientside.no_update;
        }""",
        Output(ids.RESPOND_REQUEST, "data"),
        Input(ids.RESPOND_REQUEST, "id"),
    )

    app.callback(
        Output(ids.RESPOND_TEMPLATE, "options"),
        Output(ids.RESPOND_AS, "options"),
        Output(ids.RESPOND_HINT, "children"),
        Input(ids.RESPOND_NETWORK, "value"),
        Input(ids.RESPOND_CARD, "data"),
        prevent_initial_call=True,
    )(lambda network, card_id: template_options(s, network, card_id))

    app.callback(
        Output(ids.RESPOND_TEXT, "value"),
        Output(ids.RESPOND_HINT, "children", allow_duplicate=True),
        Input(ids.RESPOND_TEMPLATE, "value"),
        State(ids.RESPOND_CARD, "data"),
        State(ids.RESPOND_NETWORK, "value"),
        prevent_initial_call=True,
    )(lambda template_id, card_id, network: fill(s, template_id, card_id, network))

    app.callback(
        Output(ids.RESPOND_COUNT, "children"),
        Output(ids.RESPOND_FINDINGS, "children"),
        Input(ids.RESPOND_TEXT, "value"),
        Input(ids.RESPOND_NETWORK, "value"),
        State(ids.RESPOND_CARD, "data"),
        State(ids.RESPOND_TEMPLATE, "value"),
        prevent_initial_call=True,
    )(lambda text, network, card_id, template_id: preview(s, text, network, card_id, template_id))

    app.callback(
        Output(ids.RESPOND_MESSAGE, "children"),
        Output(ids.RESPOND_VERSION, "data"),
        Output(ids.RESPOND_EDITING, "data", allow_duplicate=True),
        Input(ids.RESPOND_SUBMIT, "n_clicks"),
        State(ids.RESPOND_CARD, "data"),
        State(ids.RESPOND_NETWORK, "value"),
        State(ids.RESPOND_AS, "value"),
        State(ids.RESPOND_TEMPLATE, "value"),
        State(ids.RESPOND_TEXT, "value"),
        State(ids.RESPOND_IMAGE_URL, "value"),
        State(ids.RESPOND_IMAGE_ALT, "value"),
        State(ids.RESPOND_EDITING, "data"),
        State(ids.RESPOND_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda *args: submit(s, *args))

    decided = [
        Output(ids.RESPOND_MESSAGE, "children", allow_duplicate=True),
        Output(ids.RESPOND_VERSION, "data", allow_duplicate=True),
    ]
    app.callback(
        *decided,
        Input({"type": ids.RESPOND_APPROVE, "draft": ALL}, "n_clicks"),
        State(ids.RESPOND_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda _clicks, version: decide(s, "approve", clicked(), None, version))
    app.callback(
        *decided,
        Input({"type": ids.RESPOND_REJECT, "draft": ALL}, "n_clicks"),
        State(ids.RESPOND_NOTE, "value"),
        State(ids.RESPOND_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda _clicks, note, version: decide(s, "reject", clicked(), note, version))
    app.callback(
        *decided,
        Input({"type": ids.RESPOND_PUBLISH, "draft": ALL}, "n_clicks"),
        State(ids.RESPOND_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda _clicks, version: decide(s, "publish", clicked(), None, version))

    app.callback(
        Output(ids.RESPOND_EDITING, "data", allow_duplicate=True),
        Output(ids.RESPOND_TEXT, "value", allow_duplicate=True),
        Output(ids.RESPOND_NETWORK, "value", allow_duplicate=True),
        Output(ids.RESPOND_IMAGE_URL, "value"),
        Output(ids.RESPOND_IMAGE_ALT, "value"),
        Output(ids.RESPOND_MESSAGE, "children", allow_duplicate=True),
        Input({"type": ids.RESPOND_EDIT, "draft": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(lambda _clicks: load_edit(s, clicked()))

    app.callback(
        Output(ids.RESPOND_DRAFTS, "children"),
        Output(ids.RESPOND_SEEN, "data"),
        Input(ids.RESPOND_VERSION, "data"),
        Input(ids.RESPOND_CARD, "data"),
        Input(ids.RESPOND_TICK, "n_intervals"),  # expiries, and a fallback
        Input(ids.CARDS_VERSION, "data"),  # an approval or a new draft anywhere: pushed with the snapshot
        State(ids.RESPOND_SEEN, "data"),
    )(lambda version, card_id, tick, _cards, seen: drafts_view(s, version, card_id, tick, seen))

    # The drawer's own clock runs only while it is open (others' approvals and expiries show within seconds).
    app.clientside_callback(
        "function (open) { return !open; }",
        Output(ids.RESPOND_TICK, "disabled"),
        Input(ids.RESPOND_DRAWER, "is_open"),
    )
