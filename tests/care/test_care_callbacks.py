"""The care lane's writes, called directly with real Services on the real embedded Valkey: the permission check,
the audit entry with each change, and a reply through drafts, guardrails, approvals and the (dry-run) outbox."""

from __future__ import annotations

import time

import flask
import pytest

from analytics import care
from auth.identity import KIOSK, Identity
from callbacks import care as care_callbacks
from config.settings import load_settings
from layouts.care import case_detail
from store import audit
from store import care as care_store
from store import publishing as pub_store
from streams.aggregator import Aggregator
from web.services import build_services

DANA = Identity("dana", frozenset({"strategist", "approver"}), frozenset({"brand"}))  # drafts; cannot approve own
PEOPLE = {
    "dana": DANA,
    "alice": Identity("alice", frozenset({"approver"}), frozenset({"brand"})),
    "carol": Identity("carol", frozenset({"approver"}), frozenset({"legal"})),
}
# Who a page's request comes from when it is not the command center: the wall's kiosk, an executive.
OTHERS = {
    "/wall": Identity("kiosk:k1", frozenset({"wall"}), kind=KIOSK),
    "/exec": Identity("vic", frozenset({"viewer"})),
}
_CONTEXT_APP = flask.Flask("care-tests")


def as_(ident, fn, *args):
    """Call a callback as the request of `ident` (what the sign-in guard sets after checking the session)."""
    with _CONTEXT_APP.test_request_context("/_dash-update-component", method="POST"):
        flask.g.identity = ident
        return fn(*args)


def act(s, action, case_id, values, path):
    """A lane action from a signed-in person: `values["user"]` on the command center, else that page's caller."""
    ident = PEOPLE[values["user"]] if path == "/" else OTHERS[path]
    return as_(ident, care_callbacks.act, s, action, case_id, values, path)


@pytest.fixture
def s(r):
    return build_services(load_settings({}), r)


def seed_case(s, text="@oreo my pack arrived crushed", kind="complaint", source="bluesky", safety=()) -> dict:
    now = time.time()  # per case: a module-level clock would age every case by the time the suite took
    item = {
        "post": {
            "id": f"{source}:at://did:plc:ann/app.bsky.feed.post/3k1",
            "source": source,
            "url": "javascript:alert(1)",
            "text": text,
            "reply_to": None,
            "author": {"handle": "ann.bsky.social", "name": "Ann", "followers": 500, "verified": False},
        },
        "kind": kind,
        "reasons": [f"{kind}: test"],
        "safety": list(safety),
        "sentiment": -0.6,
        "at": now - 120,
    }
    pipe = s.r.pipeline(transaction=True)
    care_store.queue(pipe, s.keys, [item])
    pipe.execute()
    Aggregator(s.settings, s.r, s.keys).tick(now)
    return care_store.open_cases(s.r, s.keys)[0]


@pytest.mark.parametrize("path", ["/wall", "/exec"])
def test_writes_from_other_pages_are_refused_and_change_nothing(s, path):
    case = seed_case(s)
    for action in ("assign", "escalate", "correct", "resolve", "draft", "publish"):
        msg = act(s, action, case["id"], {"owner": "x", "to": "y", "kind": "none"}, path)
        assert "may not" in msg, msg
    assert care_store.get(s.r, s.keys, case["id"]) == case
    assert audit.timeline(s.r, s.keys, "care", case["id"]) == []


def test_assign_correct_and_resolve_are_audited_with_the_change(s):
    case = seed_case(s)
    msg = act(s, "assign", case["id"], {"user": "dana", "owner": "dana"}, "/")
    assert "assigned" in msg
    after = care_store.get(s.r, s.keys, case["id"])
    assert after["owner"] == "dana" and after["state"] == "assigned"
    msg = act(s, "correct", case["id"], {"user": "dana", "kind": "question"}, "/")
    corrections = care_store.read_corrections(s.r, s.keys, "0-0")[1]
    assert corrections == [{"text": "@oreo my pack arrived crushed", "kind": "question"}]
    act(s, "resolve", case["id"], {"user": "dana"}, "/")
    trail = audit.timeline(s.r, s.keys, "care", case["id"])
    assert [(e["action"], e["who"]) for e in trail] == [
        ("care.assign", "dana"),
        ("care.correct", "dana"),
        ("care.resolve", "dana"),
    ]
    assert trail[0]["before"]["state"] == "new" and trail[0]["after"]["owner"] == "dana"
    assert care_store.open_cases(s.r, s.keys) == []
    assert not s.r.hexists(s.keys.care_authors, "ann.bsky.social")


def test_a_reply_goes_through_the_chain_threaded_to_the_customers_post(s):
    case = seed_case(s)
    msg = act(s, "draft", case["id"], {"user": "dana", "template": "care-sorry"}, "/")
    assert "submitted" in msg, msg
    draft_id = care_store.get(s.r, s.keys, case["id"])["drafts"][-1]
    draft = pub_store.get_draft(s.r, s.keys, draft_id)
    assert draft["reply_to"] == "at://did:plc:ann/app.bsky.feed.post/3k1" and draft["network"] == "bluesky"
    assert draft["text"].startswith("@ann.bsky.social we're sorry")
    assert [st["name"] for st in draft["approval"]["steps"]] == ["Care lead (fast lane)"]
    msg = act(s, "publish", case["id"], {"user": "dana", "draft": draft_id}, "/")
    assert msg.startswith("Not published: Waiting for Care lead")
    assert "someone else" in act(s, "approve", case["id"], {"user": "dana", "draft": draft_id}, "/")
    assert "needs someone in brand" in act(s, "approve", case["id"], {"user": "carol", "draft": draft_id}, "/")
    assert "Approved" in act(s, "approve", case["id"], {"user": "alice", "draft": draft_id}, "/")
    msg = act(s, "publish", case["id"], {"user": "dana", "draft": draft_id}, "/")
    assert msg.startswith("Reply dry-run") and "replied" in msg
    after = care_store.get(s.r, s.keys, case["id"])
    assert after["state"] == "replied" and after["first_response_at"] and after["responded_by"] == "dana"
    assert [float(x) for x in s.r.lrange(s.keys.care_response_times, 0, -1)] == [pytest.approx(120, abs=5)]
    assert [e["action"] for e in audit.timeline(s.r, s.keys, "care", case["id"])] == ["care.reply", "care.reply"]
    trail = audit.timeline(s.r, s.keys, "draft", draft_id)  # the draft and its approval are audited too
    assert [(e["action"], e["who"]) for e in trail] == [("care.draft", "dana"), ("care.approve", "alice")]
    assert trail[1]["before"]["approval"]["approvals"] == []
    assert [a["user"] for a in trail[1]["after"]["approval"]["approvals"]] == ["alice"]
    snap = Aggregator(s.settings, s.r, s.keys).tick(time.time())
    assert snap["care"]["metrics"]["first_response_p50_s"] == pytest.approx(120, abs=5)
    assert snap["care"]["metrics"]["backlog"] == 0
    # Answered as triaged: the reply confirms the kind to the model (once, not again when it is resolved).
    act(s, "resolve", case["id"], {"user": "dana"}, "/")
    confirmed = care_store.read_corrections(s.r, s.keys, "0-0")[1]
    assert confirmed == [{"text": "@oreo my pack arrived crushed", "kind": "complaint"}]


def test_a_case_resolved_as_triaged_teaches_the_model_its_kind(s):
    case = seed_case(s, "@oreo where can I buy the new flavor?", "question")
    act(s, "resolve", case["id"], {"user": "dana"}, "/")
    assert care_store.read_corrections(s.r, s.keys, "0-0")[1] == [
        {"text": "@oreo where can I buy the new flavor?", "kind": "question"}
    ]
    snap = Aggregator(s.settings, s.r, s.keys).tick(time.time())
    assert snap["care"]["model"]["corrections"] == 1


def test_safety_replies_need_the_full_chain(s):
    case = seed_case(s, "found something sharp in my Oreo", "safety", safety=["sharp"])
    act(s, "draft", case["id"], {"user": "dana", "template": "care-safety"}, "/")
    draft = pub_store.get_draft(s.r, s.keys, care_store.get(s.r, s.keys, case["id"])["drafts"][-1])
    assert [st["group"] for st in draft["approval"]["steps"]] == ["brand", "legal"]


def test_post_text_is_rendered_as_text_and_unsafe_links_are_dropped(s):
    case = seed_case(s, "<script>alert(1)</script> @oreo my pack arrived crushed")
    rendered = str(case_detail(care_store.get(s.r, s.keys, case["id"])))
    assert "<script>alert(1)</script>" in rendered  # a plain string child: Dash escapes it in the browser
    assert "javascript:" not in rendered
    assert "dangerously" not in rendered.lower()


def test_the_lane_renders_from_the_snapshot(s):
    seed_case(s)
    metrics, rows = as_(DANA, care_callbacks.lane, s, None, None)
    assert "backlog 1" in str(metrics) and "ann.bsky.social" in str(rows)
    assert care.timer(care_store.open_cases(s.r, s.keys)[0], s.settings.event.care, time.time())["status"] == "ok"


def test_the_care_panel_is_on_the_strategists_and_approvers_pages_only(r):
    from app import create_app
    from layouts.command_center import make_page
    from layouts.pages import page_for
    from web.roles import view_for

    settings = load_settings({})
    app = create_app(settings, r)
    assert any("care-lane-rows.data" in k for k in app.callback_map)
    room = make_page(settings, view_for(DANA, "/"), DANA)
    approver = PEOPLE["alice"]
    theirs = make_page(settings, view_for(approver, "/"), approver)
    assert "care-lane" in str(room) and "care-lane" in str(theirs)
    # An approver's lane shows Approve; the strategists' controls are not shown to them (and refused if sent).
    hidden = {c.id for c in _walk(theirs) if getattr(c, "hidden", False) for c in _walk(c) if getattr(c, "id", None)}
    assert {"care-assign", "care-draft", "care-publish", "care-text"} <= hidden and "care-approve" not in hidden
    viewer = Identity("vic", frozenset({"viewer"}))
    assert "care-lane" not in str(make_page(settings, view_for(viewer, "/"), viewer))
    assert "care-lane" not in str(page_for(settings, "wall")) and "care-lane" not in str(page_for(settings, "exec"))


def _walk(component):
    """A Dash component and everything inside it."""
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json"):
            yield from _walk(child)


def test_a_reply_is_checked_against_the_admins_guardrail_override(s):
    from store import guardrails as guard_store

    case = seed_case(s)
    admin = Identity("ada", frozenset({"admin"}))
    guard_store.set_override(s.r, s.keys, {"banned_phrases": "free box"}, s.settings.event, actor=admin)
    msg = act(s, "draft", case["id"], {"user": "dana", "text": "@ann.bsky.social a free box is on its way"}, "/")
    assert msg.startswith("Not submitted: Guardrails: Remove “free box”"), msg
    assert care_store.get(s.r, s.keys, case["id"]).get("drafts", []) == []
    guard_store.clear_override(s.r, s.keys, s.settings.event, actor=admin)
    msg = act(s, "draft", case["id"], {"user": "dana", "text": "@ann.bsky.social a free box is on its way"}, "/")
    assert "submitted" in msg and not msg.startswith("Not"), msg
