"""Comments on a card, with @-mentions of people: the service the Discussion drawer calls (callbacks/comments.py
only wires ids to it).

Every call takes the signed-in identity (the guard's, read on the server), checks it against auth/roles.py here
(`card.comment`: strategists, approvers and admins; walls and viewers read nothing of it), and every write lands
with its audit entry in one MULTI/EXEC, on disk before the drawer says "Commented" (store/comments.py). The
author is the identity's name, never anything the browser sends; whom a comment mentions is worked out here from
the room's people (store/users.py), never taken from the browser.

Mentioned people are told twice: on screen (the header's "@ N" and their list of mentions) and through the alert
webhook (Slack), with a link (/?comments=<card>) that opens the card's discussion.
"""

from __future__ import annotations

import logging
import re
import time

from auth import roles as table
from auth.identity import Identity
from auth.web import base_url
from store import audit
from store import cards as card_store
from store import comments as comment_store
from store import users as user_store
from store.errors import NotFound
from web import mentions

ADD = "comment.add"
SEEN = "comment.seen"
MAX_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # kept: tab and newline
logger = logging.getLogger(__name__)


class Refused(Exception):
    """What the drawer says instead of doing it."""


def may_comment(ident: Identity | None) -> bool:
    return table.may(ident, table.CARD_COMMENT)


def require(ident: Identity | None) -> Identity:
    """Those who may comment (who may also read the discussion); anyone else gets the permission's words."""
    try:
        table.require(ident, table.CARD_COMMENT)
    except table.Forbidden as exc:
        raise Refused(str(exc)) from None
    return ident  # type: ignore[return-value]


def card(s, card_id: str | None) -> dict:
    if not card_id or not isinstance(card_id, str):
        raise Refused("Pick a card first (comments on a card).")
    try:
        return card_store.get(s.r, s.keys, card_id)
    except NotFound:
        raise Refused("That card no longer exists.") from None


def clean(text: str | None) -> str:
    """The comment as kept: plain text, line ends normalised, control characters dropped, trimmed; Refused when
    empty or longer than MAX_CHARS (saying by how much)."""
    text = _CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        raise Refused("Not saved: write something first (an empty comment is not kept).")
    if len(text) > MAX_CHARS:
        raise Refused(f"Not saved: a comment is at most {MAX_CHARS} characters; this one has {len(text)}.")
    return text


def people(s) -> dict[str, list[str]]:
    """Who can be mentioned: the room's enabled people who may take part in a discussion -> their approver groups
    (a group's @name tells its members)."""
    out = {}
    for u in user_store.all_users(s.r, s.keys):
        if not u.get("disabled") and table.CARD_COMMENT in table.permissions(u.get("roles") or ()):
            out[u["name"]] = list(u.get("groups") or ())
    return out


def _names(items) -> str:
    return ", ".join(f"@{n}" for n in items)


def hint(s, ident: Identity | None, text: str | None) -> str:
    """As the comment is typed: whom it will tell, and which @names name nobody (they stay text). Writes nothing."""
    require(ident)
    found = mentions.parse(text or "", people(s))
    told = [n for n in found.notify if n != ident.name]
    parts = []
    if told:
        groups = f" (through {_names(found.groups)})" if found.groups else ""
        parts.append(f"Tells {_names(told)}{groups}.")
    if found.unknown:
        parts.append(f"{_names(found.unknown)}: nobody by that name can take part here, left as text.")
    if len(text or "") > MAX_CHARS:
        parts.append(f"{len(text)} / {MAX_CHARS} characters: too long.")
    return " ".join(parts)


def add(s, ident: Identity | None, card_id: str | None, text: str | None, now: float | None = None) -> dict:
    """A comment by the signed-in person on the card: stored with its audit entry, the people it mentions told.
    Returns the comment with `told` (who was told) and `unknown` (@names left as text)."""
    ident = require(ident)
    now = time.time() if now is None else now
    the_card = card(s, card_id)
    text = clean(text)
    found = mentions.parse(text, people(s))
    told = [n for n in found.notify if n != ident.name]  # mentioning yourself tells nobody
    comment = {
        "card_id": the_card["id"],
        "author": ident.name,
        "text": text,
        "mentions": found.notify,
        "groups": sorted(found.groups),
        "at": now,
    }
    detail = f"card {the_card['id']}" + (f" · tells {_names(told)}" if told else "")
    item = audit.entry(ident, ADD, "comment", "", detail=detail, at=now)
    try:
        saved = comment_store.add(s.r, s.keys, comment, item, card_title=the_card.get("title", ""), notify=told)
    except comment_store.TooMany as exc:
        raise Refused(f"Not saved: {exc}.") from None
    tell(s, saved, the_card, told, now)
    return {**saved, "told": told, "unknown": found.unknown}


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters as entities: a comment cannot make a link, @channel or <!here>."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def tell(s, comment: dict, the_card: dict, told: list[str], now: float) -> dict | None:
    """Through the alert webhook (Slack): who was mentioned where, with a link that opens the card's discussion.
    Returns what was sent, or None (no webhook, or nobody to tell)."""
    if not told or s.notifier is None:
        return None
    link = f"{base_url(s.settings)}/?comments={the_card['id']}"
    title = slack_escape(the_card.get("title", ""))
    message = {
        "kind": "mention",
        "title": f"{comment['author']} mentioned {_names(told)} on “{title}”",
        "detail": f"{slack_escape(comment['text'][:500])}\n<{link}|Open the card's discussion>",
        "subject": the_card["id"],
        "at": now,
        "link": link,
    }
    s.notifier.submit(message)
    return message


def for_card(s, ident: Identity | None, card_id: str | None) -> list[dict]:
    require(ident)
    return comment_store.for_card(s.r, s.keys, card(s, card_id)["id"])


def counts(s) -> dict[str, int]:
    return comment_store.counts(s.r, s.keys)


def unread(s, ident: Identity | None) -> int:
    """The signed-in person's mentions not yet read."""
    return comment_store.unread(s.r, s.keys, require(ident).name)


def open_mentions(s, ident: Identity | None, limit: int = 20) -> list[dict]:
    """The signed-in person's newest mentions; opening them marks them read (audited, when there were any)."""
    ident = require(ident)
    items = comment_store.mentions(s.r, s.keys, ident.name, limit)
    comment_store.mark_read(s.r, s.keys, ident.name, audit.entry(ident, SEEN, "user", ident.name))
    return items
