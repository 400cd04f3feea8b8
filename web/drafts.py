"""Response drafts on a card, pure: which network, what text (counted the network's way), reply or quote of the
framed post, an image with alt text, and the template it came from.

A draft is a plain dict (stored as JSON like cards). Its approval chain lives under "approval" (web/approvals.py);
text changes go through `approvals.edit` so that an edit always restarts the chain.
"""

from __future__ import annotations

import re
import secrets

from config.settings import NETWORKS
from publish import text as counting
from web import approvals

MAX_ALT = 1000  # Bluesky and Mastodon both take alt text of about this size
_HTTP = re.compile(r"^https?://\S+$", re.IGNORECASE)


def framed_on(card: dict, network: str) -> str | None:
    """The framed post's native id if it came from `network` (a reply or quote can only go there), else None.

    Post ids are "<source>:<native id>": "x:1789…", "bluesky:at://did:plc:…/app.bsky.feed.post/3k…", "mastodon:1123…".
    """
    post_id = card.get("post_id") or ""
    source, _, native = post_id.partition(":")
    return native if source == network and native else None


def new_draft(
    card: dict,
    network: str,
    text: str,
    author: str,
    now: float,
    *,
    respond_as: str | None = None,
    image_url: str | None = None,
    image_alt: str | None = None,
    template: dict | None = None,
) -> dict:
    """Validate the drafting form into a draft; ValueError says what to fix.

    `respond_as`: None (a new post), "reply" or "quote" (of the card's framed post, which must be from `network`).
    `template`: {"id", "text" (as rendered into this draft), "pre_approved", "tags"} when the draft started from one.
    """
    if network not in NETWORKS:
        raise ValueError(f"network must be one of {list(NETWORKS)}")
    text = (text or "").strip()
    if not text:
        raise ValueError("the draft has no text")
    author = (author or "").strip()
    if not author:
        raise ValueError("a draft needs its author (who is signed in)")
    reply_to = quote_of = None
    if respond_as is not None:
        if respond_as not in ("reply", "quote"):
            raise ValueError("respond as 'reply', 'quote' or neither")
        target = framed_on(card, network)
        if target is None:
            source = (card.get("post_id") or "").partition(":")[0] or "no framed post"
            raise ValueError(
                f"can only {respond_as} on the network the framed post came from ({source}), not {network}"
            )
        reply_to, quote_of = (target, None) if respond_as == "reply" else (None, target)
    return {
        "id": secrets.token_hex(6),
        "card_id": card.get("id"),
        "card_type": card.get("type"),
        "network": network,
        "text": text,
        "author": author,
        "reply_to": reply_to,
        "quote_of": quote_of,
        "image": image(image_url, image_alt),
        "template": dict(template) if template else None,
        "created_at": now,
        "updated_at": now,
        "approval": approvals.initial(author),
    }


def image(url: str | None, alt: str | None) -> dict | None:
    """The draft's image ({"url", "alt"}) from the form's two fields, or None without a URL; ValueError says what
    to fix. Alt text is required: it is what people who cannot see the image get instead (screen readers)."""
    url = (url or "").strip()
    if not url:
        return None
    if not _HTTP.match(url):
        raise ValueError("the image must be an http(s) URL")
    alt = " ".join((alt or "").split())
    if not alt:
        raise ValueError(
            "describe the image in its alt text: people using screen readers hear it instead of seeing the image"
        )
    if len(alt) > MAX_ALT:
        raise ValueError(f"the alt text is {len(alt)} characters: keep it under {MAX_ALT}")
    return {"url": url, "alt": alt}


def measure(draft: dict) -> dict:
    """{"length", "limit", "over"} in the draft network's own counting."""
    n = counting.length(draft["network"], draft["text"])
    limit = counting.LIMITS[draft["network"]]
    return {"length": n, "limit": limit, "over": max(0, n - limit)}


def from_template_unchanged(draft: dict) -> bool:
    """True when the draft's text is exactly what its template rendered (the fast lane's condition)."""
    t = draft.get("template")
    return bool(t) and t.get("text") == draft["text"]
