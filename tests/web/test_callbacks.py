"""The callbacks called directly, with real Services on the real embedded Valkey: what each does to the store.

A callback reads who is asking from the request (auth.web sets it after checking the session); called
directly, each runs as a given identity (`acting`). The last tests go through Dash's own HTTP dispatch
(Flask's test client, no browser) with a real sign-in, to check the wiring.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from types import SimpleNamespace

import flask
import orjson
import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

from app import create_app
from auth.identity import KIOSK, Identity
from callbacks import alerts as alert_callbacks
from callbacks import framing as framing_callbacks
from callbacks import live as live_callbacks
from callbacks import wall as wall_callbacks
from config.settings import load_settings
from layouts import ids
from layouts.status import alert_rows
from store import alerts as alert_store
from store import audit, users
from store import cards as card_store
from store import snapshot as snapshot_store
from store.snapshot import SnapshotReader
from tests.web.dash_client import PASSWORD, dispatch_body, sign_in
from web.services import AuditGauge, Services, build_services

NOW = time.time()
SAM = Identity("sam", frozenset({"strategist"}), address="10.0.0.1")
WALL = Identity("kiosk:k1", frozenset({"wall"}), kind=KIOSK, display="lobby")
VIC = Identity("vic", frozenset({"viewer"}))
ANN = Identity("ann", frozenset({"approver"}), frozenset({"brand"}))
LEGAL = Identity("lee", frozenset({"approver"}), frozenset({"legal"}))
ADA = Identity("ada", frozenset({"admin"}))
READ_ONLY = [WALL, VIC, ANN, ADA, None]  # none of them may frame, mark or acknowledge
_CONTEXT_APP = flask.Flask("callback-tests")


@contextmanager
def acting(ident: Identity | None):
    """Run a callback as the request of `ident` (what the sign-in guard sets after checking a session)."""
    with _CONTEXT_APP.test_request_context("/_dash-update-component", method="POST"):
        flask.g.identity = ident
        yield


def who(ident) -> str:
    """A parameter's test id: an identity's name (None is nobody)."""
    if ident is None or isinstance(ident, Identity):
        return getattr(ident, "name", "nobody")
    return str(ident)


@pytest.fixture
def settings(tmp_path):
    return load_settings({"WARROOM_VAR": str(tmp_path / "var")})


@pytest.fixture
def s(settings, r) -> Services:
    return build_services(settings, r)


def post(i: int, source: str = "bluesky", score: float = 3.0) -> dict:
    return {
        "id": f"{source}:{i}",
        "source": source,
        "url": f"https://example.com/{i}",
        "text": f"Oreo in the dark #{i}",
        "score": score,
        "reasons": ["mentions Oreo (+3.0)"],
        "sentiment": 0.4,
        "received_at": NOW - 30 + i,
        "author": {"handle": f"fan{i}", "name": f"Fan {i}", "followers": 1000},
    }


ALERT = {
    "id": "a1",
    "kind": "spike",
    "severity": "high",
    "title": "Spike: blackout",
    "detail": "posts about blackout x8",
    "at": NOW - 5,
    "raised_at": NOW - 5,
    "moment": NOW - 20,
}
STORY = {
    "id": "st1",
    "label": ["blackout", "oreo", "dunk"],
    "size": 42,
    "growth": 2.0,
    "post_ids": ["bluesky:1", "bluesky:2"],
    "posts": [post(1), post(2)],
}


def publish(s: Services, version: int = 3, **extra) -> dict:
    """Write a snapshot as the aggregator would (before the services first read one)."""
    snap = {
        "version": version,
        "built_at": NOW,
        "volume": {"t": [int(NOW) - 60 + i for i in range(60)], "series": {"Oreo": [1] * 60}, "kinds": {}},
        "sentiment": {"t": [], "series": {}},
        "trending": [],
        "feed": [post(1), post(2), post(3, "reddit", score=1.0)],
        "feed_by_source": {"reddit": [post(3, "reddit", score=1.0)]},
        "alerts": [ALERT],
        "storylines": [STORY],
        "learning": {},
        "pipeline": {"data_age_s": 1.0, "processed": 10},
        "sources": {"simulator": {"state": "connected", "detail": "Q2 07:12"}},
        "gaps": [],
        "cards_version": card_store.version(s.r, s.keys),
    } | extra
    snapshot_store.write(s.r, s.keys, snap, version)
    for p in snap["feed"]:
        s.r.zadd(s.keys.feed, {p["id"]: p["score"]})
    return snap


def pattern_ids(node, kind: str) -> list[dict]:
    """The pattern-matching ids of type `kind` in a rendered component tree (or list of trees), or in a
    browser-drawn list's rows (layouts.render.rows_json: components as JSON)."""
    if isinstance(node, str) and node.startswith("["):
        return pattern_ids(orjson.loads(node), kind)
    if isinstance(node, dict) and "props" in node and "namespace" in node:
        node = SimpleNamespace(**node["props"])
    if isinstance(node, list | tuple):
        return [i for child in node for i in pattern_ids(child, kind)]
    found = []
    if isinstance(getattr(node, "id", None), dict) and node.id.get("type") == kind:
        found.append(node.id)
    children = getattr(node, "children", None)
    if children is not None and not isinstance(children, str | int | float):
        found += pattern_ids(children if isinstance(children, list) else [children], kind)
    return found


def has_id(node, wanted: str) -> bool:
    if isinstance(node, list | tuple):
        return any(has_id(child, wanted) for child in node)
    if getattr(node, "id", None) == wanted:
        return True
    children = getattr(node, "children", None)
    return children is not None and not isinstance(children, str | int | float) and has_id(children, wanted)


FORM = ("Dunk in the dark", "We answer with a cookie.", "opportunity", "P1", "Sam", "new")


def save(s: Services, ident=SAM, context: dict | None = None, form: tuple = FORM) -> tuple:
    with acting(ident):
        return framing_callbacks.save_card(s, 1, *form, context)


def saved_card(s: Services, title: str = "Dunk in the dark") -> dict:
    save(s)
    (card,) = [c for c in card_store.all_cards(s.r, s.keys) if c["title"] == title]
    return card


def stored_cards(s: Services) -> tuple[int, dict, int]:
    return card_store.version(s.r, s.keys), s.r.hgetall(s.keys.cards), s.r.xlen(s.keys.audit)


# Cards: save ----------------------------------------------------------------------------------------------------
def test_a_strategist_saves_a_card_to_the_store_and_the_form_clears(s):
    context = {"post_id": "bluesky:1", "moment": NOW - 29, "handle": "fan1", "text": "Oreo in the dark #1"}
    message, title, summary = save(s, SAM, context)
    assert message.startswith("Saved “Dunk in the dark” · ") and (title, summary) == ("", "")
    assert "on disk" in message, "the embedded server runs with AOF: WAITAOF says the card is on disk"
    (card,) = card_store.all_cards(s.r, s.keys)
    assert card["title"] == "Dunk in the dark" and card["owner"] == "Sam" and card["status"] == "new"
    assert card["post_id"] == "bluesky:1" and card["post_handle"] == "fan1" and card["moment"] == NOW - 29
    assert card["created_by"] == "sam" and card["group"] == "brand"
    assert card_store.version(s.r, s.keys) == 1


def test_a_saved_card_has_its_audit_entry_from_the_same_write(s):
    save(s)
    (card,) = card_store.all_cards(s.r, s.keys)
    (entry,) = audit.query(s.r, s.keys)
    assert entry["who"] == "sam" and entry["roles"] == ["strategist"] and entry["address"] == "10.0.0.1"
    assert entry["action"] == "card.create" and (entry["object_type"], entry["object_id"]) == ("card", card["id"])
    assert entry["before"] is None and entry["after"] == card


@pytest.mark.parametrize("ident", READ_ONLY, ids=who)
def test_who_may_not_frame_cannot_save_and_the_store_is_unchanged(s, ident):
    before = stored_cards(s)
    message, title, summary = save(s, ident)
    assert message.startswith("Not saved: ") and "may not card.create" in message
    assert (title, summary) == (no_update, no_update)
    assert stored_cards(s) == before == (0, {}, 0)


def test_an_invalid_form_is_not_saved_and_says_why(s):
    message, title, summary = save(s, form=("   ", *FORM[1:]))
    assert message == "Not saved: a title is needed" and title is no_update and summary is no_update
    assert save(s, form=(*FORM[:3], "P9", *FORM[4:]))[0] == "Not saved: priority must be P1, P2 or P3"
    assert stored_cards(s) == (0, {}, 0)


def test_no_click_yet_saves_nothing(s):
    with acting(SAM):
        assert framing_callbacks.save_card(s, 0, *FORM, None) == (no_update, no_update, no_update)
        assert framing_callbacks.save_card(s, None, *FORM, None) == (no_update, no_update, no_update)
    assert stored_cards(s) == (0, {}, 0)


def after_save(s: Services, ident, pathname: str):
    with acting(ident):
        return framing_callbacks.cards_after_save(s, pathname)


def test_the_saving_screen_gets_the_card_list_at_once_with_controls_only_for_strategists(s):
    card = saved_card(s)
    version, items = after_save(s, SAM, "/")
    assert version == 1 and card["id"] in str(items)
    moves = pattern_ids(items, ids.CARD_STATUS_SET)
    assert {(m["card"], m["status"]) for m in moves} == {(card["id"], "drafting"), (card["id"], "dismissed")}
    for ident, path in ((SAM, "/wall"), (VIC, "/"), (WALL, "/"), (ADA, "/")):
        version, items = after_save(s, ident, path)
        assert version == 1 and card["id"] in str(items) and pattern_ids(items, ids.CARD_STATUS_SET) == [], ident
    assert after_save(s, None, "/") == (no_update, no_update)


def test_each_card_shows_its_own_timeline_as_text(s):
    card = saved_card(s)
    save(s, form=("Another card", *FORM[1:]))
    move(s, card, "drafting")
    _, items = after_save(s, VIC, "/exec")
    shown = str(items)
    assert "history · 2" in shown and "sam (strategist) · new → drafting" in shown and "created (new)" in shown
    other = next(c for c in card_store.all_cards(s.r, s.keys) if c["title"] == "Another card")
    assert "history · 1" in shown and other["id"] in shown


# Cards: transitions ---------------------------------------------------------------------------------------------
def move(s: Services, card: dict, status: str, ident=SAM):
    with acting(ident):
        return framing_callbacks.move_card(s, {"type": ids.CARD_STATUS_SET, "card": card["id"], "status": status})


def test_a_card_moves_through_review_in_the_store_approved_by_an_approver_of_its_group(s):
    card = saved_card(s)
    for status, ident in (("drafting", SAM), ("in review", SAM), ("approved", ANN), ("posted", SAM)):
        assert move(s, card, status, ident) == f"“Dunk in the dark” is now {status}."
        assert card_store.get(s.r, s.keys, card["id"])["status"] == status
    assert card_store.version(s.r, s.keys) == 5
    actions = [(e["who"], e["action"], e["after"]["status"]) for e in audit.timeline(s.r, s.keys, "card", card["id"])]
    assert actions == [
        ("sam", "card.create", "new"),
        ("sam", "card.move", "drafting"),
        ("sam", "card.move", "in review"),
        ("ann", "card.approve", "approved"),
        ("sam", "card.move", "posted"),
    ]


@pytest.mark.parametrize("ident", [SAM, LEGAL, VIC, ADA], ids=who)
def test_approval_needs_an_approver_of_the_cards_group(s, ident):
    save(s, form=(*FORM[:5], "in review"))
    (card,) = card_store.all_cards(s.r, s.keys)
    before = stored_cards(s)
    message = move(s, card, "approved", ident)
    assert message.startswith("Not moved: ") and "may not card.approve in group 'brand'" in message
    assert stored_cards(s) == before


def test_an_approver_sends_a_card_back_but_moves_nothing_else(s):
    save(s, form=(*FORM[:5], "in review"))
    (card,) = card_store.all_cards(s.r, s.keys)
    assert move(s, card, "drafting", ANN) == "“Dunk in the dark” is now drafting."
    assert audit.query(s.r, s.keys, action="card.reject")[0]["who"] == "ann"
    before = stored_cards(s)
    assert "may not card.move" in move(s, card, "in review", ANN)
    assert stored_cards(s) == before


def test_a_move_the_flow_does_not_allow_leaves_the_status(s):
    card = saved_card(s)
    assert move(s, card, "posted") == "“Dunk in the dark” cannot go from new to posted."
    assert card_store.get(s.r, s.keys, card["id"])["status"] == "new"


def test_approval_is_refused_while_a_banned_phrase_is_in_the_card_and_the_note_is_stored(s):
    save(s, form=("We guarantee a cookie", *FORM[1:5], "in review"))
    (card,) = card_store.all_cards(s.r, s.keys)
    assert "guarantee" in s.settings.event.guardrails.banned_phrases
    assert move(s, card, "approved", ANN) == "Guardrails: remove guarantee before approval."
    stored = card_store.get(s.r, s.keys, card["id"])
    assert stored["status"] == "in review" and stored["note"] == "Guardrails: remove guarantee before approval."


@pytest.mark.parametrize("ident", READ_ONLY, ids=who)
def test_who_may_not_move_cannot_move_a_card(s, ident):
    card = saved_card(s)
    before = stored_cards(s)
    message = move(s, card, "drafting", ident)
    assert message.startswith("Not moved: ") and "may not card.move" in message
    assert stored_cards(s) == before


def test_moving_a_card_that_is_gone_says_so_and_writes_nothing(s):
    assert move(s, {"id": "nope"}, "drafting") == "card 'nope' does not exist"
    assert stored_cards(s) == (0, {}, 0)


def test_a_move_the_flow_refuses_records_nothing(s):
    card = saved_card(s)
    before = stored_cards(s)
    assert "cannot go from new to posted" in move(s, card, "posted")
    assert stored_cards(s) == before


def test_a_rerendered_button_moves_nothing(s):
    saved_card(s)
    before = stored_cards(s)
    with acting(SAM):
        assert framing_callbacks.move_card(s, None) is no_update
    assert stored_cards(s) == before


# Marks ----------------------------------------------------------------------------------------------------------
def mark(s: Services, post_id: str, relevant: bool, ident=SAM):
    trigger = {"type": ids.MARK_POST, "post": post_id, "relevant": relevant}
    with acting(ident):
        return framing_callbacks.mark(s, trigger)


def test_marking_a_post_relevant_writes_the_mark_and_lifts_the_post(s):
    publish(s)
    assert mark(s, "bluesky:2", True) == "marked relevant: learning…"
    ((_, fields),) = s.r.xrange(s.keys.marks)
    assert orjson.loads(fields[b"post"])["id"] == "bluesky:2"
    assert fields[b"label"] == b"1" and fields[b"by"] == b"sam"
    assert s.r.zscore(s.keys.feed, "bluesky:2") == 5.0
    (entry,) = audit.query(s.r, s.keys)
    assert (entry["who"], entry["action"], entry["object_id"]) == ("sam", "post.mark", "bluesky:2")
    assert entry["after"]["relevant"] is True


def test_marking_a_post_not_relevant_takes_it_out_of_the_feeds(s):
    publish(s)
    s.r.zadd(s.keys.feed_source("reddit"), {"reddit:3": 1.0})
    assert mark(s, "reddit:3", False) == "marked not relevant: learning…"
    ((_, fields),) = s.r.xrange(s.keys.marks)
    assert fields[b"label"] == b"0"
    assert s.r.zscore(s.keys.feed, "reddit:3") is None and s.r.zscore(s.keys.feed_source("reddit"), "reddit:3") is None


@pytest.mark.parametrize("ident", READ_ONLY, ids=who)
def test_who_may_not_mark_cannot_mark(s, ident):
    publish(s)
    message = mark(s, "bluesky:2", True, ident)
    assert message.startswith("Not marked: ") and "may not post.mark" in message
    assert s.r.xlen(s.keys.marks) == 0 and s.r.zscore(s.keys.feed, "bluesky:2") == 3.0
    assert s.r.xlen(s.keys.audit) == 0


def test_marking_a_post_that_left_the_feed_writes_nothing(s):
    publish(s)
    assert mark(s, "bluesky:999", True) == "That post has left the feed."
    with acting(SAM):
        assert framing_callbacks.mark(s, None) is no_update
    assert s.r.xlen(s.keys.marks) == 0 and s.r.xlen(s.keys.audit) == 0


# Alerts ---------------------------------------------------------------------------------------------------------
def ack(s: Services, alert_id: str, ident=SAM) -> tuple:
    with acting(ident):
        return alert_callbacks.acknowledge(s, {"type": ids.ACK_ALERT, "alert": alert_id})


def test_a_strategist_acknowledges_an_alert_in_the_store(s):
    alert_store.add(s.r, s.keys, [ALERT])
    assert ack(s, "a1") == ("Acknowledged: Spike: blackout", True)
    stored = orjson.loads(s.r.hget(s.keys.alerts, "a1"))
    assert stored["acked_by"] == "sam" and stored["acked_at"] >= NOW
    (entry,) = audit.query(s.r, s.keys)
    assert (entry["who"], entry["action"], entry["object_type"], entry["object_id"]) == (
        "sam",
        "alert.ack",
        "alert",
        "a1",
    )
    assert entry["before"]["acked_by"] is None and entry["after"]["acked_by"] == "sam"


@pytest.mark.parametrize("ident", READ_ONLY, ids=who)
def test_who_may_not_acknowledge_cannot(s, ident):
    alert_store.add(s.r, s.keys, [ALERT])
    text, is_open = ack(s, "a1", ident)
    assert text.startswith("Not acknowledged: ") and "may not alert.ack" in text and is_open
    assert "acked_by" not in orjson.loads(s.r.hget(s.keys.alerts, "a1")) and s.r.xlen(s.keys.audit) == 0


def test_acknowledging_an_alert_that_is_gone(s):
    assert ack(s, "a404") == ("That alert is gone.", True)
    with acting(SAM):
        assert alert_callbacks.acknowledge(s, None) == (no_update, no_update)
    assert s.r.hlen(s.keys.alerts) == 0 and s.r.xlen(s.keys.audit) == 0


# Framing context ------------------------------------------------------------------------------------------------
def pick(s: Services, trigger, click_data=None, ident=SAM, title=None):
    with acting(ident):
        return framing_callbacks.pick_context(s, trigger, click_data, title)[:2]


def test_frame_a_post_a_storyline_or_a_chart_moment(s):
    publish(s)
    context, view = pick(s, {"type": ids.FRAME_POST, "post": "bluesky:1"})
    assert context["post_id"] == "bluesky:1" and context["handle"] == "fan1" and view.startswith("Framing @fan1: ")
    context, view = pick(s, {"type": ids.FRAME_STORY, "story": "st1"})
    assert context["storyline"] == "blackout · oreo · dunk" and context["post_ids"] == ["bluesky:1", "bluesky:2"]
    assert context["moment"] == post(1)["received_at"] and "42 posts" in view
    click = {"points": [{"x": 1_770_000_000_000}]}
    context, view = pick(s, ids.VOLUME_CHART, click)
    assert context == {"moment": 1_770_000_000.0} and view.startswith("Moment on the chart at ")


def test_framing_an_alert_frames_its_post_and_suggests_its_title_for_one_click_save(s):
    influencer = {
        **ALERT,
        "id": "a2",
        "kind": "influencer",
        "title": "Influencer @fan1 mentions Oreo",
        "post_id": "bluesky:1",
        "why": {"posts": [{"id": "bluesky:1", "handle": "fan1", "text": post(1)["text"]}]},
    }
    publish(s, alerts=[influencer, ALERT])
    with acting(SAM):
        context, view, title = framing_callbacks.pick_context(s, {"type": ids.FRAME_ALERT, "alert": "a2"}, None)
    assert context["post_id"] == "bluesky:1" and context["handle"] == "fan1" and context["alert"] == "a2"
    assert context["moment"] == influencer["moment"] and context["url"] == post(1).get("url")
    assert title == "Influencer @fan1 mentions Oreo" and view.startswith("Framing the alert “Influencer @fan1")
    with acting(SAM):  # a title the strategist already typed stays theirs
        assert framing_callbacks.pick_context(s, {"type": ids.FRAME_ALERT, "alert": "a2"}, None, "Mine")[2] is no_update
        _, said, _ = framing_callbacks.pick_context(s, {"type": ids.FRAME_ALERT, "alert": "gone"}, None)
    assert said == "That alert has moved on; pick another."
    rows = alert_rows([influencer, {**ALERT, "why": {}}], can_ack=True, can_frame=True)
    assert pattern_ids(rows, ids.FRAME_ALERT) == [{"type": ids.FRAME_ALERT, "alert": "a2"}]
    assert pattern_ids(alert_rows([influencer], can_ack=False), ids.FRAME_ALERT) == []


@pytest.mark.parametrize("ident", READ_ONLY, ids=who)
def test_picking_a_context_is_for_those_who_frame(s, ident):
    publish(s)
    before = stored_cards(s)
    context, view = pick(s, {"type": ids.FRAME_POST, "post": "bluesky:1"}, ident=ident)
    assert context is no_update and "may not post.frame" in view
    assert stored_cards(s) == before


def test_framing_something_that_moved_on(s):
    publish(s)
    assert pick(s, {"type": ids.FRAME_POST, "post": "gone:1"}) == (
        no_update,
        "That post has left the feed; pick another.",
    )
    assert pick(s, {"type": ids.FRAME_STORY, "story": "gone"})[0] is None
    assert pick(s, ids.VOLUME_CHART, None) == (no_update, no_update)
    assert pick(s, None, None) == (no_update, no_update)


# The screen -----------------------------------------------------------------------------------------------------
HEAD, PANELS = len(live_callbacks.HEAD), len(live_callbacks.PANELS)
FEED_AT = HEAD + live_callbacks.PANELS.index((ids.rows(ids.FEED), "data"))


def screen(
    s: Services,
    pathname: str = "/",
    seen: int = 0,
    seen_cards: int = -1,
    hold=None,
    source="all",
    focus=None,
    ident=SAM,
):
    with acting(ident):
        return live_callbacks.screen(s, seen, seen_cards, hold, source, 0, pathname, focus)


def test_the_screen_answers_every_panel_for_a_newer_snapshot(s):
    publish(s, version=3)
    out = screen(s)
    assert len(out) == HEAD + PANELS + len(live_callbacks.CARDS)
    assert out[0] == 3 and out[1]["v"] == 3 and out[1]["stale"] is False and out[1]["tick_s"] == 0.5
    feed = out[FEED_AT]
    assert {m["post"] for m in pattern_ids(feed, ids.MARK_POST)} == {"bluesky:1", "bluesky:2", "reddit:3"}
    assert out[-2] == 0 and "No cards yet." in str(out[-1])


def test_the_screen_sends_nothing_when_it_already_has_the_snapshot(s):
    publish(s, version=3)
    with pytest.raises(PreventUpdate):
        screen(s, seen=3)


@pytest.mark.parametrize(
    "ident,path", [(SAM, "/wall"), (SAM, "/exec"), (WALL, "/"), (VIC, "/"), (ANN, "/"), (ADA, "/")], ids=who
)
def test_read_only_screens_have_no_write_controls_whatever_the_path(s, ident, path):
    publish(s)
    out = screen(s, path, ident=ident)
    for kind in (ids.MARK_POST, ids.FRAME_POST, ids.FRAME_STORY, ids.ACK_ALERT):
        assert pattern_ids(out, kind) == [], kind
    assert pattern_ids(screen(s, "/"), ids.ACK_ALERT) == [{"type": ids.ACK_ALERT, "alert": "a1"}]


def test_no_identity_gets_no_screen(s):
    publish(s)
    with pytest.raises(PreventUpdate):
        screen(s, "/", ident=None)


def test_a_held_panel_and_known_cards_are_left_alone(s):
    publish(s)
    out = screen(s, hold="feed", seen_cards=0)
    assert out[FEED_AT] is no_update and out[-2:] == [no_update, no_update]
    assert out[HEAD] is not no_update


def test_a_new_filter_shows_at_once(s):
    publish(s)
    with acting(SAM):
        items = live_callbacks.refilter(s, "reddit", 0, "/")
        assert [m["post"] for m in pattern_ids(items, ids.MARK_POST)] == ["reddit:3", "reddit:3"]
        assert pattern_ids(live_callbacks.refilter(s, "all", 0, "/exec"), ids.MARK_POST) == []
    with acting(VIC):
        assert pattern_ids(live_callbacks.refilter(s, "all", 0, "/"), ids.MARK_POST) == []


def test_an_alerts_chart_link_zooms_the_volume_chart(s):
    publish(s)
    focus, figure = live_callbacks.focus_alert(s, {"type": ids.FOCUS_ALERT, "alert": "a1"})
    assert focus["moment"] == ALERT["moment"] and focus["set_at"] >= NOW
    lo, hi = figure["layout"]["xaxis"]["range"]
    assert lo < ALERT["moment"] * 1000 < hi
    assert live_callbacks.focus_alert(s, {"type": ids.FOCUS_ALERT, "alert": "gone"}) == (no_update, no_update)


def route(s: Services, ident, pathname: str):
    with acting(ident):
        return live_callbacks.route(s, pathname)


def page_class(node) -> str:
    return node.className


@pytest.mark.parametrize(
    "ident,path,page,form",
    [
        (SAM, "/", "role-strategist", True),
        (SAM, "/wall", "wall", False),
        (SAM, "/exec", "exec-view", False),
        (SAM, "/admin", "role-strategist", True),  # not an admin: their home page instead
        (VIC, "/", "exec-view", False),  # a viewer asking for the command center gets the summary
        (VIC, "/wall", "wall", False),
        (WALL, "/", "wall", False),  # a wall screen always gets the wall
        (WALL, "/exec", "wall", False),
        (ANN, "/", "role-strategist", False),
        (ADA, "/admin", "admin-page", False),
        (ADA, "/audit", "admin-page", False),
    ],
    ids=who,
)
def test_each_identity_gets_a_page_its_roles_may_see(s, ident, path, page, form):
    out = route(s, ident, path)
    assert page in page_class(out).split() and has_id(out, ids.CARD_SAVE) is form
    if page != "wall":  # the wall is a kiosk across the room: no header of a person
        assert (ident.display or ident.name) in str(out)  # the header says who is signed in


def test_no_page_for_no_identity(s):
    assert has_id(route(s, None, "/"), ids.FORBIDDEN)


# The wiring, through Dash's HTTP dispatch -----------------------------------------------------------------------
def dispatch(client, headers, app, first_input: str, inputs: list, state: list) -> dict:
    resp = client.post("/_dash-update-component", json=dispatch_body(app, first_input, inputs, state), headers=headers)
    assert resp.status_code in (200, 204), resp.get_data()
    return resp.get_json()["response"] if resp.status_code == 200 else {}


@pytest.fixture(autouse=True)
def cheap_hashes():
    from argon2 import PasswordHasher

    from auth import passwords

    previous = passwords.configure(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    passwords.configure(previous)


@pytest.fixture
def app(settings, r):
    app = create_app(settings, r)
    for name, roles in (("sam", ["strategist"]), ("vic", ["viewer"])):
        users.create(r, app.services.keys, name, roles, actor=ADA, password=PASSWORD)
    return app


def test_save_is_wired_to_the_form_and_the_signed_in_role(app):
    s = app.services
    state = [*FORM, None]
    vic = sign_in(app, "vic")
    before = stored_cards(s)
    refused = dispatch(*vic, app, ids.CARD_SAVE, [1], state)
    assert "may not card.create" in refused[ids.CARD_SAVED]["children"]
    assert stored_cards(s) == before
    sam = sign_in(app, "sam")
    saved = dispatch(*sam, app, ids.CARD_SAVE, [1], state)
    assert saved[ids.CARD_SAVED]["children"].startswith("Saved “Dunk in the dark”")
    assert saved[ids.CARD_TITLE] == {"value": ""} and [c["title"] for c in card_store.all_cards(s.r, s.keys)] == [
        "Dunk in the dark"
    ]
    assert audit.query(s.r, s.keys, action="card.create")[0]["who"] == "sam"


def test_gated_buttons_pass_the_clicked_id_and_the_server_still_checks_who(app):
    """Row buttons reach the server through their click gate (callbacks/clicks.py: re-rendered rows, n_clicks 0,
    never leave the browser); what the gate sends is only which button, never a grant."""
    s = app.services
    alert_store.add(s.r, s.keys, [ALERT, {**ALERT, "id": "a2", "title": "Other"}])
    gate = ids.gate(ids.ACK_ALERT)
    assert any(cb["inputs"][0]["id"] == gate for cb in app.callback_map.values() if cb.get("callback"))

    def click(alert_id: str) -> list:
        return [{"id": {"type": ids.ACK_ALERT, "alert": alert_id}, "n": 1, "at": 1}]

    sam = sign_in(app, "sam")
    assert dispatch(*sam, app, gate, [None], []) == {}  # nothing clicked: nothing acknowledged, nothing sent back
    assert dispatch(*sam, app, gate, [{"id": "not a button"}], []) == {}
    assert all("acked_by" not in orjson.loads(v) for v in s.r.hvals(s.keys.alerts))
    reply = dispatch(*sam, app, gate, click("a2"), [])
    assert reply[ids.ALERT_TOAST] == {"children": "Acknowledged: Other", "is_open": True}
    assert orjson.loads(s.r.hget(s.keys.alerts, "a2"))["acked_by"] == "sam"
    assert "acked_by" not in orjson.loads(s.r.hget(s.keys.alerts, "a1"))
    # From a viewer's session the same click is refused on the server.
    reply = dispatch(*sign_in(app, "vic"), app, gate, click("a1"), [])
    assert "may not alert.ack" in reply[ids.ALERT_TOAST]["children"]
    assert "acked_by" not in orjson.loads(s.r.hget(s.keys.alerts, "a1"))


def test_the_header_warns_from_80_percent_of_the_audit_budget(s):
    s.snapshots = SnapshotReader(s.r, s.keys, min_interval_s=0)  # sees each published snapshot at once
    publish(s)
    header_at = HEAD + live_callbacks.PANELS.index((ids.HEADER_STATUS, "children"))
    assert "audit trail" not in str(screen(s)[header_at])
    save(s)  # one entry in the trail
    used = s.r.memory_usage(s.keys.audit, samples=0)
    s.audit_gauge = AuditGauge(s.r, s.keys, budget_bytes=int(used / 0.85), every_s=0)
    publish(s, version=4)
    header = str(screen(s, seen=3)[header_at])
    assert "audit trail 85% of its budget" in header or "audit trail 84% of its budget" in header, header
    s.audit_gauge = AuditGauge(s.r, s.keys, budget_bytes=used * 2, every_s=0)
    publish(s, version=5)
    assert "audit trail" not in str(screen(s, seen=4)[header_at])


def test_the_wall_draws_nothing_until_its_browser_has_said_its_text_size(s):
    s.snapshots = SnapshotReader(s.r, s.keys, min_interval_s=0)
    publish(s)
    with acting(WALL), pytest.raises(PreventUpdate):
        wall_callbacks.wall_screen(s, 0, None)  # a 4K wall's chart must not be drawn at a guessed size first
    with acting(WALL):
        drawn = wall_callbacks.wall_screen(s, 0, 56)
    assert drawn[0] == 3
    figures = [v for (_, prop), v in zip(wall_callbacks.OUTPUTS, drawn, strict=True) if prop == "figure"]
    assert all(f is no_update or f["layout"]["yaxis"]["tickfont"]["size"] == 56 for f in figures)
