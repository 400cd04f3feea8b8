"""The card workflow, pure: what a card is, how a form becomes one, and how it moves through review.

No Dash, no Redis: callbacks validate with `new_card`, move with `transition`, then store the result.
"""

from __future__ import annotations

from analytics.guardrails import violations
from auth import roles as table

TYPES = ["opportunity", "threat"]
PRIORITIES = [("P1", "P1 · act now"), ("P2", "P2 · this quarter"), ("P3", "P3 · watch")]
STATUSES = ["new", "drafting", "in review", "approved", "posted", "dismissed"]
NEXT = {
    "new": ["drafting", "dismissed"],
    "drafting": ["in review", "dismissed"],
    "in review": ["approved", "drafting"],
    "approved": ["posted"],
    "posted": [],
    "dismissed": ["new"],
}


DEFAULT_GROUP = "brand"  # the approver group a new card is approved in (issue 10 lets strategists choose)


def move_actions(card: dict, status: str) -> list[tuple[str, str | None]]:
    """What moving `card` to `status` needs, as (action, group) alternatives (any one suffices): approval is
    an approver's in the card's group; sending a card in review back to drafting is a rejection by such an
    approver or a strategist's own move; every other move is a strategist's."""
    group = card.get("group")
    if status == "approved":
        return [(table.CARD_APPROVE, group)]
    if card.get("status") == "in review" and status == "drafting":
        return [(table.CARD_MOVE, None), (table.CARD_REJECT, group)]
    return [(table.CARD_MOVE, None)]


def next_statuses(card: dict) -> list[str]:
    """Where a card may go from its current status."""
    return NEXT.get(card.get("status", "new"), [])


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
        "group": DEFAULT_GROUP,
    }


def transition(card: dict, status: str, banned: list[str]) -> tuple[dict, str]:
    """Move a card to `status` if the flow allows it; approval is refused while guardrails are broken.

    Returns the card to store and what to tell the strategist; a refused move returns the card unchanged
    (except a guardrail note) and says why."""
    if status not in next_statuses(card):
        return card, f"“{card['title']}” cannot go from {card.get('status')} to {status}."
    if status == "approved":
        broken = violations(f"{card['title']} {card.get('summary', '')}", banned)
        if broken:
            note = f"Guardrails: remove {', '.join(broken)} before approval."
            return {**card, "note": note}, note
    return {**card, "status": status, "note": ""}, f"“{card['title']}” is now {status}."
