"""The card workflow (web/workflow.py) and the pages and controls each identity gets (web/roles.py): pure."""

from __future__ import annotations

import pytest

from auth.identity import Identity
from auth.roles import CARD_APPROVE, CARD_COMMENT, CARD_CREATE, CARD_MOVE, CARD_REJECT, POST_FRAME
from web.roles import LAYOUTS, page_path, pages_for, view_for
from web.workflow import NEXT, PRIORITIES, STATUSES, TYPES, move_actions, new_card, next_statuses, transition

T0 = 1_770_000_000
BANNED = ["guarantee", "politics"]


FORM = {
    "title": "Dunk in the dark",
    "summary": "We answer with a cookie.",
    "kind": "opportunity",
    "priority": "P1",
    "owner": "Sam",
    "status": "new",
    "context": {"storyline": "blackout · oreo", "post_ids": ["x:1"], "moment": T0},
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "   ", "a title is needed"),
        ("title", None, "a title is needed"),
        ("kind", "rumour", "type must be one of"),
        ("priority", "P9", "priority must be P1, P2 or P3"),
        ("status", "live", "status must be one of"),
    ],
)
def test_new_card_names_the_bad_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        new_card(**(FORM | {field: value}))


def test_new_card_keeps_the_storyline_context():
    card = new_card(**FORM)
    assert card["storyline"] == "blackout · oreo" and card["post_ids"] == ["x:1"] and card["moment"] == T0
    assert card["title"] == "Dunk in the dark" and card["owner"] == "Sam"


def test_approval_is_refused_while_the_summary_breaks_a_guardrail():
    card = {"id": "c1", "title": "Lights out", "summary": "We GUARANTEE a cookie for everyone", "status": "in review"}
    moved, message = transition(card, "approved", ["guarantee", "politics"])
    assert moved["status"] == "in review" and "guarantee" in message and moved["note"] == message
    clean = {**card, "summary": "A cookie for everyone in the dark"}
    moved, message = transition(clean, "approved", ["guarantee", "politics"])
    assert moved["status"] == "approved" and moved["note"] == ""


def test_transition_follows_the_flow():
    card, message = transition({"title": "t", "status": "new"}, "posted", [])
    assert card["status"] == "new" and "cannot go from new to posted" in message


def test_new_card_trims_and_bounds_the_fields():
    card = new_card("  " + "t" * 200 + "  ", " " + "s" * 2000, "threat", "P3", "  Ana  ", "drafting", None)
    assert len(card["title"]) == 120 and card["title"] == "t" * 120
    assert len(card["summary"]) == 1000 and card["owner"] == "Ana"
    assert card["type"] == "threat" and card["status"] == "drafting" and card["priority"] == "P3"
    assert card["post_id"] is None and card["moment"] is None, "no context: a card without an anchor"


def test_new_card_keeps_the_post_context():
    context = {"post_id": "x:9", "moment": T0, "handle": "fan", "text": "Oreo in the dark", "url": "https://x.com/9"}
    card = new_card(**(FORM | {"context": context}))
    assert (card["post_id"], card["post_handle"], card["post_text"], card["moment"]) == (
        "x:9",
        "fan",
        "Oreo in the dark",
        T0,
    )


def test_every_status_the_form_offers_is_in_the_flow_and_every_move_lands_on_a_status():
    assert set(NEXT) == set(STATUSES)
    assert all(target in STATUSES for targets in NEXT.values() for target in targets)
    assert TYPES == ["opportunity", "threat"] and [p for p, _ in PRIORITIES] == ["P1", "P2", "P3"]


def test_a_card_walks_from_new_to_posted():
    card = new_card(**FORM)
    for status in ("drafting", "in review", "approved", "posted"):
        card, message = transition(card, status, BANNED)
        assert card["status"] == status and message.endswith(f"is now {status}.") and card["note"] == ""
    assert next_statuses(card) == []
    stuck, message = transition(card, "drafting", BANNED)
    assert stuck is card and "cannot go from posted to drafting" in message


@pytest.mark.parametrize(("start", "target"), [("new", "approved"), ("drafting", "posted"), ("approved", "new")])
def test_skipping_a_step_is_refused_and_leaves_the_card_as_it_was(start, target):
    card = {"title": "t", "status": start, "note": "kept"}
    moved, message = transition(card, target, BANNED)
    assert moved == {"title": "t", "status": start, "note": "kept"}
    assert f"cannot go from {start} to {target}" in message


def test_a_dismissed_card_can_come_back_and_a_card_without_status_is_new():
    assert transition({"title": "t", "status": "dismissed"}, "new", [])[0]["status"] == "new"
    assert next_statuses({"title": "t"}) == NEXT["new"]


def test_guardrails_also_read_the_title_and_only_block_approval():
    card = {"title": "No politics tonight", "summary": "", "status": "in review"}
    moved, message = transition(card, "approved", BANNED)
    assert moved["status"] == "in review" and message == "Guardrails: remove politics before approval."
    moved, _ = transition(card, "drafting", BANNED)
    assert moved["status"] == "drafting", "only approval checks the guardrails"


# Roles -----------------------------------------------------------------------------------------------------
SAM = Identity("sam", frozenset({"strategist"}))
VIC = Identity("vic", frozenset({"viewer"}))
WALL = Identity("kiosk:k1", frozenset({"wall"}), kind="kiosk")
ANN = Identity("ann", frozenset({"approver"}), frozenset({"brand"}))
ADA = Identity("ada", frozenset({"admin", "strategist"}))
ONLY_ADMIN = Identity("root", frozenset({"admin"}))


@pytest.mark.parametrize(
    ("pathname", "path"),
    [("/", "/"), (None, "/"), ("/wall", "/wall"), ("/exec/", "/exec"), ("/wall/x", "/wall"), ("/nope", "/")],
)
def test_page_path_reads_the_first_path_segment(pathname, path):
    assert page_path(pathname) == path


@pytest.mark.parametrize(
    ("ident", "pathname", "path", "layout"),
    [
        (SAM, "/", "/", "strategist"),
        (SAM, "/wall", "/wall", "wall"),
        (SAM, "/admin", "/", "strategist"),
        (SAM, "/audit", "/", "strategist"),
        (VIC, "/", "/exec", "exec"),
        (VIC, "/wall", "/wall", "wall"),
        (VIC, "/admin", "/exec", "exec"),
        (WALL, "/", "/wall", "wall"),
        (WALL, "/exec", "/wall", "wall"),
        (ANN, "/", "/", "strategist"),
        (ADA, "/admin", "/admin", "admin"),
        (ADA, "/audit", "/audit", "audit"),
    ],
)
def test_the_page_shown_is_one_the_roles_may_see(ident, pathname, path, layout):
    view = view_for(ident, pathname)
    assert (view.path, view.layout) == (path, layout)


def test_controls_are_the_roles_write_permissions_on_the_command_center_only():
    assert view_for(SAM, "/").can(POST_FRAME) and view_for(SAM, "/").can(CARD_CREATE)
    assert view_for(SAM, "/wall").controls == frozenset() and view_for(SAM, "/exec").controls == frozenset()
    assert view_for(ANN, "/").controls == {CARD_APPROVE, CARD_REJECT, CARD_COMMENT}
    assert view_for(ONLY_ADMIN, "/").controls == {CARD_COMMENT}  # an admin takes part in a card's discussion
    assert view_for(None, "/") is None
    assert view_for(SAM, "/").key == view_for(Identity("kim", frozenset({"strategist"})), "/x").key


def test_pages_for_lists_what_each_may_open():
    assert pages_for(WALL) == ["/wall"] and pages_for(VIC) == ["/wall", "/exec"]
    assert pages_for(SAM) == ["/", "/wall", "/exec"] and pages_for(ADA) == list(LAYOUTS)


def test_moves_need_the_right_permission():
    card = {"title": "t", "status": "in review", "group": "brand"}
    assert move_actions(card, "approved") == [(CARD_APPROVE, "brand")]
    assert move_actions(card, "drafting") == [(CARD_MOVE, None), (CARD_REJECT, "brand")]
    assert move_actions({**card, "status": "new"}, "drafting") == [(CARD_MOVE, None)]
