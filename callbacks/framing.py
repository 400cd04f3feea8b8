"""Framing: a post or a chart moment becomes a card; cards move through review; every screen sees them."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from dash import ALL, Input, Output, State, ctx, no_update

from analytics.guardrails import violations
from callbacks.clicks import clicked
from layouts import ids
from layouts.command_center import role_for
from layouts.framing import NEXT, PRIORITIES, STATUSES, TYPES, cards_list
from store import cards as card_store
from store import learning as learning_store
from store.errors import NotFound


def register(app, s) -> None:
    @app.callback(
        Output(ids.LEARNING, "children", allow_duplicate=True),
        Input({"type": ids.MARK_POST, "post": ALL, "relevant": ALL}, "n_clicks"),
        State(ids.URL, "pathname"),
        prevent_initial_call=True,
    )
    def mark(_clicks, pathname):
        """One click teaches the ranking: the mark goes to the shared model, the post moves at once."""
        if (trigger := clicked()) is None:
            return no_update
        if role_for(pathname) != "strategist":
            return "Only strategists can mark posts."
        post = find_post(s.snapshots.get()[1], trigger["post"])
        if post is None:
            return "That post has left the feed."
        learning_store.add_mark(s.r, s.keys, post, bool(trigger["relevant"]), "strategist")
        return f"marked {'relevant' if trigger['relevant'] else 'not relevant'}: learning…"

    @app.callback(
        Output(ids.CARD_CONTEXT, "data"),
        Output(ids.CARD_CONTEXT_VIEW, "children"),
        Input({"type": ids.FRAME_POST, "post": ALL}, "n_clicks"),
        Input(ids.VOLUME_CHART, "clickData"),
        Input({"type": ids.FRAME_STORY, "story": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def pick_context(_clicks, click_data, _story_clicks):
        if ctx.triggered_id == ids.VOLUME_CHART:
            moment = chart_moment(click_data)
            if moment is None:
                return no_update, no_update
            at = datetime.fromtimestamp(moment, UTC).strftime("%H:%M:%S UTC")
            return {"moment": moment}, f"Moment on the chart at {at}"
        if (trigger := clicked()) is None:
            return no_update, no_update
        if trigger["type"] == ids.FRAME_STORY:
            return story_context(s.snapshots.get()[1], trigger["story"])
        post = find_post(s.snapshots.get()[1], trigger["post"])
        if post is None:
            return no_update, "That post has left the feed; pick another."
        context = {
            "post_id": post["id"],
            "moment": post.get("received_at"),
            "handle": post["author"]["handle"],
            "text": post["text"][:280],
            "url": post.get("url"),
        }
        return context, f"Framing @{context['handle']}: {context['text']}"

    @app.callback(
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
        State(ids.URL, "pathname"),
        prevent_initial_call=True,
    )
    def save(n, title, summary, kind, priority, owner, status, context, pathname):
        if not n:
            return no_update, no_update, no_update
        if role_for(pathname) != "strategist":
            return "Only strategists can frame cards.", no_update, no_update
        try:
            card = new_card(title, summary, kind, priority, owner, status, context)
        except ValueError as exc:
            return f"Not saved: {exc}", no_update, no_update
        saved = card_store.save(s.r, s.keys, card)
        note = "on disk" if saved["durable"] else "saved (server fsyncs every second)"
        return f"Saved “{saved['title']}” · {note}", "", ""

    @app.callback(
        Output(ids.CARDS_VERSION, "data", allow_duplicate=True),
        Output(ids.CARDS, "children", allow_duplicate=True),
        Input(ids.CARD_SAVED, "children"),
        State(ids.URL, "pathname"),
        prevent_initial_call=True,
    )
    def cards_after_save(_saved, pathname):
        """The screen that saved sees its card at once, without waiting for the next snapshot."""
        can_edit = role_for(pathname) == "strategist"
        return card_store.version(s.r, s.keys), cards_list(card_store.all_cards(s.r, s.keys), time.time(), can_edit)

    @app.callback(
        Output(ids.CARD_SAVED, "children", allow_duplicate=True),
        Input({"type": ids.CARD_STATUS_SET, "card": ALL, "status": ALL}, "n_clicks"),
        State(ids.URL, "pathname"),
        prevent_initial_call=True,
    )
    def move(_clicks, pathname):
        if (trigger := clicked()) is None:
            return no_update
        if role_for(pathname) != "strategist":
            return "Only strategists can change cards."
        try:
            card = card_store.get(s.r, s.keys, trigger["card"])
        except NotFound as exc:
            return str(exc)
        card, message = transition(card, trigger["status"], s.settings.event.guardrails.banned_phrases)
        card_store.save(s.r, s.keys, card)
        return message


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


def new_card(title, summary, kind, priority, owner, status, context) -> dict:
    """Validate the form into a card dict; ValueError says which field is wrong."""
    title = (title or "").strip()
    if not title:
        raise ValueError("a title is needed")
    if kind not in TYPES:
        raise ValueError(f"type must be one of {TYPES}")
    if priority not in {p for p, _ in PRIORITIES}:
        raise ValueError("priority must be P1, P2 or P3")
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}")
    context = context or {}
    return {
        "title": title[:120],
        "summary": (summary or "").strip()[:1000],
        "type": kind,
        "priority": priority,
        "owner": (owner or "").strip()[:60],
        "status": status,
        "post_id": context.get("post_id"),
        "post_text": context.get("text"),
        "post_handle": context.get("handle"),
        "moment": context.get("moment"),
        "storyline": context.get("storyline"),
        "post_ids": context.get("post_ids"),
    }


def transition(card: dict, status: str, banned: list[str]) -> tuple[dict, str]:
    """Move a card to `status` if the flow allows it; approval is refused while guardrails are broken."""
    if status not in NEXT.get(card.get("status", "new"), []):
        return card, f"“{card['title']}” cannot go from {card.get('status')} to {status}."
    if status == "approved":
        broken = violations(f"{card['title']} {card.get('summary', '')}", banned)
        if broken:
            note = f"Guardrails: remove {', '.join(broken)} before approval."
            return {**card, "note": note}, note
    return {**card, "status": status, "note": ""}, f"“{card['title']}” is now {status}."
