"""Sentiment corrections: one click on a feed post sets its sentiment; the sentiment model learns from it.

Like a relevance mark (callbacks/framing.py `mark`): the server checks the signed-in identity's permission
(`post.sentiment`), the correction and its audit entry land in one MULTI/EXEC (store/sentiment.py), the
aggregator's next tick shows it on the feed ("corrected by <name>") and folds it into the shared model.
"""

from __future__ import annotations

from dash import Output, no_update

from auth import roles as table
from callbacks.clicks import gate, gated
from callbacks.framing import find_post
from layouts import ids
from store import audit
from store import sentiment as sentiment_store
from web.roles import Forbidden, by, require
from web.services import Services

LABELS = ("positive", "neutral", "negative")


def correct(s: Services, trigger: dict | None):
    """One click: the post's sentiment becomes the chosen label, for the feed, the sentiment line and the model."""
    if trigger is None:
        return no_update
    try:
        ident = require(table.POST_SENTIMENT)
    except Forbidden as exc:
        return f"Not corrected: {exc}"
    chosen = trigger.get("label")
    if chosen not in LABELS:
        return "Not corrected: unknown sentiment label."
    post = find_post(s.snapshots.get()[1], trigger.get("post"))
    if post is None:
        return "That post has left the feed."
    event = s.settings.event
    charted = {event.brand.name, *(w.name for w in event.competitors)}
    item = audit.entry(
        ident,
        table.POST_SENTIMENT,
        "post",
        post["id"],
        after={"label": chosen, "source": post.get("source"), "handle": (post.get("author") or {}).get("handle")},
    )
    sentiment_store.correct(s.r, s.keys, post, chosen, by(ident), item, charted)
    return f"sentiment corrected to {chosen}: learning…"


def register(app, s: Services) -> None:
    app.callback(
        Output(ids.LEARNING, "children", allow_duplicate=True),
        gate(ids.SENTIMENT_POST),
        prevent_initial_call=True,
    )(lambda data: correct(s, gated(data)))
