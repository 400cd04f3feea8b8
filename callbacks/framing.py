"""Framing: a post or a chart moment becomes a card; cards move through review; every screen sees them.

Each callback is a plain function of the services and the values Dash passes (the trigger read from
`ctx` by the registered wrapper); `register` only wires them to component ids.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from dash import ALL, Input, Output, State, ctx, no_update

from auth import roles as table
from auth.web import current_identity
from callbacks.clicks import clicked, gate, gated
from layouts import ids
from layouts.comments import may_comment
from layouts.framing import cards_list
from layouts.status import alert_post
from store import audit
from store import cards as card_store
from store import guardrails as guard_store
from store import learning as learning_store
from store.errors import NotFound
from web import comments, responses
from web.roles import Forbidden, by, require, require_any, view_for
from web.services import Services
from web.workflow import move_actions, new_card, transition

CARDS_SHOWN = 30  # cards_list shows the newest 30
TIMELINE_SCAN = 2000  # the newest card entries of the audit trail read for the shown cards' timelines


def mark(s: Services, trigger: dict | None):
    """One click teaches the ranking: the mark goes to the shared model, the post moves at once."""
    if trigger is None:
        return no_update
    try:
        ident = require(table.POST_MARK)
    except Forbidden as exc:
        return f"Not marked: {exc}"
    post = find_post(s.snapshots.get()[1], trigger["post"])
    if post is None:
        return "That post has left the feed."
    relevant = bool(trigger["relevant"])
    item = audit.entry(
        ident,
        table.POST_MARK,
        "post",
        post["id"],
        after={"relevant": relevant, "source": post.get("source"), "handle": (post.get("author") or {}).get("handle")},
    )
    learning_store.add_mark(s.r, s.keys, post, relevant, by(ident), item)
    return f"marked {'relevant' if relevant else 'not relevant'}: learning…"


def pick_context(s: Services, trigger: str | dict | None, click_data: dict | None, title: str | None = None) -> tuple:
    """(card context, what the form says it frames, the card's title) from a post's Frame, an alert's, a
    storyline's, or a chart click. The title is suggested only while the form's is empty (one click to save).

    Writes nothing on the server (the context lives in the framing screen's browser), but it is part of
    framing, so only those who may frame get an answer."""
    if trigger is None or (not isinstance(trigger, dict) and trigger != ids.VOLUME_CHART):
        return no_update, no_update, no_update
    try:
        require(table.POST_FRAME)
    except Forbidden as exc:
        return no_update, f"Not framed: {exc}", no_update
    context, said, suggested = _context(s, trigger, click_data)
    return context, said, suggested if suggested and not (title or "").strip() else no_update


def _context(s: Services, trigger: str | dict, click_data: dict | None) -> tuple:
    if trigger == ids.VOLUME_CHART:
        moment = chart_moment(click_data)
        if moment is None:
            return no_update, no_update, None
        at = datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%S UTC")
        return {"moment": moment}, f"Moment on the chart at {at}", f"Moment at {at}"
    snap = s.snapshots.get()[1]
    if trigger["type"] == ids.FRAME_STORY:
        context, said = story_context(snap, trigger["story"])
        return context, said, (f"Storyline: {context['storyline']}"[:120] if context else None)
    if trigger["type"] == ids.FRAME_ALERT:
        return alert_context(snap, trigger["alert"])
    post = find_post(snap, trigger["post"])
    if post is None:
        return no_update, "That post has left the feed; pick another.", None
    context = {
        "post_id": post["id"],
        "moment": post.get("received_at"),
        "handle": post["author"]["handle"],
        "text": post["text"][:280],
        "url": post.get("url"),
    }
    return context, f"Framing @{context['handle']}: {context['text']}", f"@{context['handle']}: {context['text']}"[:120]


def alert_context(snap: dict | None, alert_id: str) -> tuple:
    """An alert's post and moment as a card's context; the alert's title as the card's."""
    alert = next((a for a in (snap or {}).get("alerts", []) if a.get("id") == alert_id), None)
    if alert is None:
        return no_update, "That alert has moved on; pick another.", None
    post = alert_post(alert) or {}
    found = find_post(snap, post["id"]) if post.get("id") else None  # the feed's copy has its url
    context = {
        "post_id": post.get("id"),
        "moment": alert.get("moment") or alert.get("at"),
        "handle": post.get("handle"),
        "text": (post.get("text") or alert.get("title", ""))[:280],
        "url": (found or {}).get("url"),
        "alert": alert_id,
    }
    who = f"@{context['handle']}: " if context["handle"] else ""
    return context, f"Framing the alert “{alert.get('title', '')}” · {who}{context['text']}", alert.get("title")


def save_card(s: Services, n, title, summary, kind, priority, owner, status, context) -> tuple:
    """(saved line, title, summary): the form becomes a card, acknowledged once it (and its audit entry) is on
    disk."""
    if not n:
        return no_update, no_update, no_update
    try:
        ident = require(table.CARD_CREATE)
        card = new_card(title, summary, kind, priority, owner, status, context)
    except Forbidden as exc:
        return f"Not saved: {exc}", no_update, no_update
    except ValueError as exc:
        return f"Not saved: {exc}", no_update, no_update
    card["created_by"] = by(ident)
    saved = card_store.save(s.r, s.keys, card, audit.entry(ident, table.CARD_CREATE, "card", ""))
    note = "on disk" if saved["durable"] else "saved (server fsyncs every second)"
    return f"Saved “{saved['title']}” · {note}", "", ""


def cards_after_save(s: Services, pathname: str | None) -> tuple:
    """The screen that saved sees its card at once, without waiting for the next snapshot."""
    view = view_for(current_identity(), pathname)
    if view is None:
        return no_update, no_update
    return card_store.version(s.r, s.keys), room_cards(s, view)


def room_cards(s: Services, view) -> list:
    """The room's cards for a page, each with its own timeline from the audit trail."""
    items = card_store.all_cards(s.r, s.keys)
    shown = [c["id"] for c in items[:CARDS_SHOWN]]
    counts = comments.counts(s) if may_comment(view) else {}
    return cards_list(items, time.time(), view, timelines(s, shown), responses=responses.by_card(s), comments=counts)


def timelines(s: Services, card_ids: list[str]) -> dict[str, list[dict]]:
    """Each shown card's history, oldest first, from one pass over the newest card entries of the audit trail."""
    wanted, out = set(card_ids), {i: [] for i in card_ids}
    if not wanted:
        return out
    for item in audit.query(s.r, s.keys, obj="card", limit=TIMELINE_SCAN):
        if item["object_id"] in wanted:
            out[item["object_id"]].append(item)
    return {k: list(reversed(v)) for k, v in out.items()}


def move_card(s: Services, trigger: dict | None):
    """A card's "→ status" button: the workflow decides, the store keeps the result with its audit entry."""
    if trigger is None:
        return no_update
    try:
        card = card_store.get(s.r, s.keys, trigger["card"])
        options = move_actions(card, trigger["status"])
        ident = require_any(options)
    except Forbidden as exc:
        return f"Not moved: {exc}"
    except NotFound as exc:
        return str(exc)
    before = card
    banned = guard_store.effective(s.r, s.keys, s.settings.event).banned_phrases  # the admin's override included
    card, message = transition(card, trigger["status"], banned)
    if card is before:
        return message  # the flow does not allow it: nothing changed, nothing to record
    action = next(a for a, g in options if table.may(ident, a, g))
    item = audit.entry(ident, action, "card", before["id"], before=before, detail=message)
    card_store.save(s.r, s.keys, {**card, "updated_by": by(ident)}, item)
    return message


def register(app, s: Services) -> None:
    app.callback(
        Output(ids.LEARNING, "children", allow_duplicate=True),
        gate(ids.MARK_POST),
        prevent_initial_call=True,
    )(lambda data: mark(s, gated(data)))

    app.callback(
        Output(ids.CARD_CONTEXT, "data"),
        Output(ids.CARD_CONTEXT_VIEW, "children"),
        Output(ids.CARD_TITLE, "value", allow_duplicate=True),
        gate(ids.FRAME_POST),
        Input(ids.VOLUME_CHART, "clickData"),
        gate(ids.FRAME_STORY),
        gate(ids.FRAME_ALERT),
        State(ids.CARD_TITLE, "value"),
        prevent_initial_call=True,
    )(lambda *args: pick_context(s, framed(*args[:4]), args[1], args[4]))

    app.callback(
        Output(ids.CARD_SAVED, "children"),
        Output(ids.CARD_TITLE, "value"),
        Output(ids.CARD_SUMMARY, "value"),
        Input(ids.CARD_SAVE, "n_clicks"),
        State(ids.CARD_TITLE, "value"),
        State(ids.CARD_SUMMARY, "value"),
        State(ids.CARD_TYPE, "value"),
        State(ids.CARD_PRIORITY, "value"),
        State(ids.CARD_OWNER, "value"),
        State(ids.CARD_STATUS, "value"),
        State(ids.CARD_CONTEXT, "data"),
        prevent_initial_call=True,
    )(lambda *args: save_card(s, *args))

    app.callback(
        Output(ids.CARDS_VERSION, "data", allow_duplicate=True),
        Output(ids.CARDS, "children", allow_duplicate=True),
        Input(ids.CARD_SAVED, "children"),
        State(ids.URL, "pathname"),
        prevent_initial_call=True,
    )(lambda _saved, pathname: cards_after_save(s, pathname))

    app.callback(
        Output(ids.CARD_SAVED, "children", allow_duplicate=True),
        Input({"type": ids.CARD_STATUS_SET, "card": ALL, "status": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(lambda _clicks: move_card(s, clicked()))


def framed(post, click_data, story, alert) -> str | dict | None:
    """What the framing callback fired for: the chart (its click data) or the gated button clicked."""
    if ctx.triggered_id == ids.VOLUME_CHART:
        return ids.VOLUME_CHART if click_data else None
    return gated(
        {ids.gate(ids.FRAME_POST): post, ids.gate(ids.FRAME_STORY): story, ids.gate(ids.FRAME_ALERT): alert}.get(
            ctx.triggered_id
        )
    )


def story_context(snap: dict | None, story_id: str) -> tuple[dict | None, str]:
    line = next((x for x in (snap or {}).get("storylines", []) if x["id"] == story_id), None)
    if line is None:
        return None, "That storyline has moved on; pick another."
    label = " · ".join(line.get("label", [])[:4])
    moments = [p.get("received_at") for p in line.get("posts", []) if p.get("received_at")]
    context = {
        "storyline": label,
        "post_ids": line.get("post_ids", [])[:200],
        "moment": min(moments) if moments else None,
        "text": f"Storyline: {label} ({line.get('size', 0)} posts)",
    }
    return context, f"Framing the storyline “{label}” · {line.get('size', 0)} posts"


def chart_moment(click_data: dict | None) -> float | None:
    try:
        x = click_data["points"][0]["x"]
    except (TypeError, KeyError, IndexError):
        return None
    if isinstance(x, (int, float)):
        return x / 1000
    return datetime.fromisoformat(str(x).replace(" ", "T")).replace(tzinfo=UTC).timestamp()


def find_post(snap: dict | None, post_id: str) -> dict | None:
    if not snap:
        return None
    pools = [snap.get("feed", [])] + list(snap.get("feed_by_source", {}).values())
    return next((p for pool in pools for p in pool if p["id"] == post_id), None)
