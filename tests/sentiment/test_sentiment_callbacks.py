"""The one-click correction as signed-in identities (the request context the sign-in guard sets), with real
Services on the real embedded Valkey; and how the feed draws a corrected post."""

from __future__ import annotations

import time

import flask
import pytest
from dash import html, no_update

from auth.identity import KIOSK, Identity
from callbacks import sentiment as sentiment_callbacks
from config.settings import load_settings
from layouts import ids
from layouts.feed import feed_item
from layouts.status import learning_line
from store import audit
from store import snapshot as snapshot_store
from web.services import build_services

NOW = time.time()
SAM = Identity("sam", frozenset({"strategist"}), address="10.0.0.1")
REFUSED = [
    Identity("kiosk:k1", frozenset({"wall"}), kind=KIOSK),
    Identity("vic", frozenset({"viewer"})),
    Identity("ann", frozenset({"approver"}), frozenset({"brand"})),
    Identity("ada", frozenset({"admin"})),
    None,
]
POST = {
    "id": "bluesky:1",
    "source": "bluesky",
    "text": "that oreo ad is sick",
    "sentiment": -0.51,
    "score": 3.0,
    "series": ["Oreo"],
    "received_at": NOW - 10,
    "author": {"handle": "fan1", "name": "Fan"},
}
_APP = flask.Flask("sentiment-tests")


@pytest.fixture
def s(r, tmp_path):
    services = build_services(load_settings({"WARROOM_VAR": str(tmp_path / "var")}), r)
    snapshot_store.write(r, services.keys, {"version": 1, "built_at": NOW, "feed": [POST], "feed_by_source": {}}, 1)
    return services


def correct(s, post_id: str, chosen: str, ident=SAM):
    with _APP.test_request_context("/_dash-update-component", method="POST"):
        flask.g.identity = ident
        return sentiment_callbacks.correct(s, {"type": ids.SENTIMENT_POST, "post": post_id, "label": chosen})


def test_a_strategist_corrects_a_post_in_one_click(s):
    assert correct(s, "bluesky:1", "positive") == "sentiment corrected to positive: learning…"
    ((_, fields),) = s.r.xrange(s.keys.sentiment_corrections)
    assert fields[b"label"] == b"positive" and fields[b"lexicon"] == b"negative" and fields[b"by"] == b"sam"
    (entry,) = audit.query(s.r, s.keys)
    assert (entry["who"], entry["action"], entry["object_id"]) == ("sam", "post.sentiment", "bluesky:1")
    assert entry["after"]["label"] == "positive" and entry["address"] == "10.0.0.1"


@pytest.mark.parametrize("ident", REFUSED, ids=lambda i: getattr(i, "name", "nobody"))
def test_who_may_not_correct_cannot_and_nothing_changes(s, ident):
    before = {k: s.r.dump(k) for k in s.r.keys("*")}
    message = correct(s, "bluesky:1", "positive", ident)
    assert message.startswith("Not corrected: ") and "may not post.sentiment" in message
    assert {k: s.r.dump(k) for k in s.r.keys("*")} == before


def test_a_gone_post_an_unknown_label_and_a_rerender_write_nothing(s):
    assert correct(s, "bluesky:999", "positive") == "That post has left the feed."
    assert correct(s, "bluesky:1", "ecstatic") == "Not corrected: unknown sentiment label."
    assert sentiment_callbacks.correct(s, None) is no_update
    assert s.r.xlen(s.keys.audit) == 0 and not s.r.exists(s.keys.sentiment_corrections)


def components(node):
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            yield from components(child)


def test_the_feed_shows_the_correction_and_who_made_it_as_text():
    hostile = '<img src=x onerror="alert(1)">'
    fixed = {**POST, "sentiment_fix": {"label": "positive", "value": 0.6, "was": -0.51, "by": hostile, "at": NOW}}
    item = feed_item(fixed, with_controls=True, can_correct=True)
    shown = [c.children for c in components(item) if isinstance(getattr(c, "children", None), str)]
    assert "positive ✎" in shown and f"corrected by {hostile}" in shown
    assert not any("negative -0.51" in t for t in shown), "the lexicon's label is replaced"
    buttons = [c for c in components(item) if isinstance(c, html.Button) and c.id.get("type") == ids.SENTIMENT_POST]
    assert [b.id["label"] for b in buttons] == ["positive", "neutral", "negative"]
    assert [getattr(b, "aria-label") for b in buttons] == [
        "Correct sentiment to positive",
        "Correct sentiment to neutral",
        "Correct sentiment to negative",
    ]
    assert "active" in buttons[0].className and "active" not in buttons[2].className


def test_no_buttons_without_the_permission_and_the_plain_badge_before_a_correction():
    item = feed_item(POST, with_controls=True, can_correct=False)
    assert not [c for c in components(item) if isinstance(c, html.Button) and c.id.get("type") == ids.SENTIMENT_POST]
    shown = [c.children for c in components(item) if isinstance(getattr(c, "children", None), str)]
    assert "negative -0.51" in shown


def test_the_learning_line_counts_corrections():
    assert learning_line({}, {}) == "ranking: rules · mark posts ✓/✗ to teach it"
    assert learning_line({"marks": 3, "ready": True}, {"corrections": 1}).endswith("sentiment learns from 1 correction")
    assert learning_line({}, {"corrections": 7}).endswith("· sentiment learns from 7 corrections")
