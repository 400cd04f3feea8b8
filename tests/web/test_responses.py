"""The response service (web/responses.py) on real Services and the embedded Valkey: drafting on a card, the
approval chain, guardrails re-checked on the server, publishing (dry run shows the exact request; paused refuses),
and every write with its audit entry in the same transaction."""

from __future__ import annotations

import time

import flask
import pytest
from dash import no_update

from auth.identity import KIOSK, Identity
from callbacks import responses as cb
from config.settings import load_settings
from layouts import ids
from store import audit
from store import cards as card_store
from store import publishing as pub_store
from store import snapshot as snapshot_store
from web import responses
from web.responses import Refused
from web.services import build_services

SAM = Identity("sam", frozenset({"strategist"}))
KIM = Identity("kim", frozenset({"strategist"}))
ALICE = Identity("alice", frozenset({"approver"}), frozenset({"brand"}))
BOB = Identity("bob", frozenset({"approver"}), frozenset({"brand"}))
CAROL = Identity("carol", frozenset({"approver"}), frozenset({"legal"}))
DANA = Identity("dana", frozenset({"strategist", "approver"}), frozenset({"brand"}))
VIC = Identity("vic", frozenset({"viewer"}))
WALL = Identity("kiosk:k1", frozenset({"wall"}), kind=KIOSK)
ADA = Identity("ada", frozenset({"admin"}))
CARD = {
    "id": "c1",
    "title": "Lights out",
    "summary": "The stadium went dark",
    "type": "opportunity",
    "priority": "P1",
    "status": "drafting",
    "post_id": "x:1789",
    "post_handle": "fan1",
    "post_text": "Lights out at the Super Bowl, @nfl what now",
    "group": "brand",
}


@pytest.fixture
def s(tmp_path, r):
    s = build_services(load_settings({"WARROOM_VAR": str(tmp_path / "var")}), r)
    card_store.save(r, s.keys, CARD, audit.entry("setup", "card.create", "card", ""))
    snapshot_store.write(r, s.keys, {"version": 1, "built_at": time.time(), "alerts": [], "storylines": []}, 1)
    return s


def entries(s, action):
    return audit.query(s.r, s.keys, action=action, limit=50)


def test_a_draft_on_a_card_is_stored_with_its_audit_entry(s):
    d = responses.create(s, SAM, "c1", "x", "Still dunking. https://oreo.com/dark", respond_as="reply")
    stored = pub_store.get_draft(s.r, s.keys, d["id"])
    assert stored["author"] == "sam" and stored["reply_to"] == "1789" and stored["card_id"] == "c1"
    (e,) = entries(s, responses.DRAFT)
    assert e["who"] == "sam" and e["object_type"] == "draft" and e["object_id"] == d["id"]
    assert e["after"]["text"] == stored["text"] and e["roles"] == ["strategist"]
    assert responses.for_card(s, "c1")[0]["measure"] == {"length": 15 + 23, "limit": 280, "over": 0}


def test_reply_only_on_the_framed_posts_network(s):
    with pytest.raises(Refused, match="only reply on the network the framed post came from"):
        responses.create(s, SAM, "c1", "bluesky", "Hello", respond_as="reply")
    assert pub_store.drafts_for_card(s.r, s.keys, "c1") == []


@pytest.mark.parametrize("ident", [VIC, WALL, ADA, ALICE, None], ids=lambda i: getattr(i, "name", "nobody"))
def test_only_strategists_draft_submit_and_publish(s, ident):
    d = responses.create(s, SAM, "c1", "x", "Still dunking")
    before = s.r.hgetall(s.keys.drafts), s.r.xlen(s.keys.audit)
    with pytest.raises(Refused, match="may not card.draft"):
        responses.create(s, ident, "c1", "x", "Mine")
    with pytest.raises(Refused, match="may not card.draft"):
        responses.submit(s, ident, d["id"])
    with pytest.raises(Refused, match="may not card.draft"):
        responses.edit(s, ident, d["id"], "changed")
    with pytest.raises(Refused, match="may not card.draft"):
        responses.publish(s, ident, d["id"])
    assert (s.r.hgetall(s.keys.drafts), s.r.xlen(s.keys.audit)) == before


@pytest.mark.parametrize("ident", [SAM, VIC, WALL, ADA, None], ids=lambda i: getattr(i, "name", "nobody"))
def test_only_approvers_approve_or_reject(s, ident):
    d = responses.submit(s, SAM, responses.create(s, SAM, "c1", "x", "Still dunking")["id"])
    with pytest.raises(Refused, match="may not card.approve"):
        responses.approve(s, ident, d["id"])
    with pytest.raises(Refused, match="may not card.reject"):
        responses.reject(s, ident, d["id"], "no")
    assert pub_store.get_draft(s.r, s.keys, d["id"])["approval"]["state"] == "pending"


def test_the_full_chain_then_a_dry_run_publish_shows_the_request(s):
    d = responses.create_and_submit(s, SAM, "c1", "x", "Still dunking in the dark", respond_as="quote")
    assert d["approval"]["steps"][0]["group"] == "brand" and len(d["approval"]["steps"]) == 2
    with pytest.raises(Refused, match="Not published: Waiting for Brand lead"):
        responses.publish(s, SAM, d["id"])
    with pytest.raises(Refused, match="Brand lead needs someone in brand"):
        responses.approve(s, CAROL, d["id"])  # legal is the second step
    d = responses.approve(s, ALICE, d["id"])
    with pytest.raises(Refused, match="Legal needs someone in legal"):
        responses.approve(s, BOB, d["id"])
    d = responses.approve(s, CAROL, d["id"])
    assert responses.summary(d, time.time())["state"] == "approved"
    d = responses.publish(s, SAM, d["id"])
    request = d["dry_run"]["request"]
    assert request["method"] == "POST" and request["url"].endswith("/2/tweets")
    assert request["json"]["text"] == "Still dunking in the dark" and request["json"]["quote_tweet_id"] == "1789"
    assert not d.get("published")  # a dry run sends nothing
    (e,) = entries(s, responses.PUBLISH)
    assert e["who"] == "sam" and e["after"]["dry_run"]["request"] == request and "dry run" in e["detail"]
    approvers = [x["who"] for x in entries(s, responses.APPROVE)]
    assert sorted(approvers) == ["alice", "carol"]
    assert pub_store.intent(s.r, s.keys, "x") is None and s.r.zcard(s.keys.publish_pending) == 0


def test_fast_lane_a_pre_approved_template_unchanged_needs_one_approver(s):
    offered = responses.offered(s, CARD, "x")
    dunk = next(t for t in offered if t["id"] == "dunk-in-the-dark")
    assert "sorry-for-the-wait" not in {t["id"] for t in offered}  # a threat template on an opportunity card
    d = responses.create_and_submit(s, SAM, "c1", "x", dunk["text"], template_id="dunk-in-the-dark")
    assert d["approval"]["fast_lane"] and len(d["approval"]["steps"]) == 1
    d = responses.approve(s, ALICE, d["id"])
    assert responses.summary(d, time.time())["state"] == "approved"


def test_a_sensitive_moment_sends_a_playful_template_to_legal_too(s):
    alert = {"id": "a1", "kind": "spike", "title": "Player injury on the field", "detail": "", "at": 1.0}
    snapshot_store.write(s.r, s.keys, {"version": 2, "built_at": time.time(), "alerts": [alert], "storylines": []}, 2)
    text = responses.offered(s, CARD, "x")[0]["text"]
    assert any(
        rule == "sensitive_moment"
        for _, rule, _ in responses.preview(s, "c1", "x", text, "dunk-in-the-dark")["findings"]
    )
    d = responses.create_and_submit(s, SAM, "c1", "x", text, template_id="dunk-in-the-dark")
    assert [x["group"] for x in d["approval"]["steps"]] == ["brand", "legal"]
    d = responses.approve(s, ALICE, d["id"])
    assert responses.summary(d, time.time())["message"].startswith("Waiting for Sensitive moment")
    d = responses.approve(s, CAROL, d["id"])
    assert responses.summary(d, time.time())["state"] == "approved"


def test_a_changed_template_text_is_not_the_fast_lane_whatever_the_browser_says(s):
    d = responses.create_and_submit(
        s, SAM, "c1", "x", "Power out? We are still dunking. #DunkInTheDark", template_id="dunk-in-the-dark"
    )
    assert not d["approval"]["fast_lane"] and len(d["approval"]["steps"]) == 2
    with pytest.raises(Refused, match="not offered"):
        responses.create(s, SAM, "c1", "x", "x", template_id="no-such-template")


def test_nobody_approves_their_own_draft(s):
    d = responses.create_and_submit(s, DANA, "c1", "x", "Still dunking")
    with pytest.raises(Refused, match="someone else must approve"):
        responses.approve(s, DANA, d["id"])


def test_blocking_guardrails_refuse_submission_in_words_and_the_draft_stays(s):
    with pytest.raises(Refused, match=r"Draft saved, not submitted: Guardrails: .*Link only to oreo.com"):
        responses.create_and_submit(s, SAM, "c1", "x", "Read this https://evil.example/x")
    (d,) = pub_store.drafts_for_card(s.r, s.keys, "c1")
    assert d["approval"]["state"] == "drafting"
    assert entries(s, responses.SUBMIT) == []
    p = responses.preview(s, "c1", "x", "Read this https://evil.example/x and the betting odds")
    rules = {rule for _, rule, _ in p["findings"]}
    assert {"link_domain", "topic"} <= rules and p["limit"] == 280


def test_reject_with_a_note_then_edit_restarts_the_chain(s):
    d = responses.create_and_submit(s, SAM, "c1", "x", "Still dunking")
    with pytest.raises(Refused, match="needs a note"):
        responses.reject(s, ALICE, d["id"], "  ")
    d = responses.reject(s, ALICE, d["id"], "Say cookie")
    assert responses.summary(d, time.time())["message"] == "Sent back by alice: Say cookie"
    d = responses.edit(s, KIM, d["id"], "Still dunking, cookie in hand")
    assert "kim" in d["approval"]["authors"] and d["approval"]["state"] == "rejected"
    d = responses.submit(s, KIM, d["id"])
    d = responses.approve(s, ALICE, d["id"])
    d = responses.edit(s, SAM, d["id"], "Still dunking, cookie in hand!")
    assert d["approval"]["state"] == "drafting" and d["approval"]["approvals"] == []
    assert [e["who"] for e in entries(s, responses.REJECT)] == ["alice"]
    assert entries(s, responses.REJECT)[0]["detail"] == "Say cookie"


def test_publishing_refuses_while_paused(s):
    d = responses.create_and_submit(s, SAM, "c1", "x", responses.offered(s, CARD, "x")[0]["text"],
                                    template_id=responses.offered(s, CARD, "x")[0]["id"])  # fmt: skip
    d = responses.approve(s, ALICE, d["id"])
    pub_store.pause(s.r, s.keys, "blackout: hold everything", "ada")
    with pytest.raises(Refused, match="paused by ada: blackout: hold everything"):
        responses.publish(s, SAM, d["id"])
    assert not pub_store.get_draft(s.r, s.keys, d["id"]).get("dry_run")
    pub_store.resume(s.r, s.keys, "ada")
    assert responses.publish(s, SAM, d["id"])["dry_run"]


def test_every_write_bumps_the_cards_version_so_screens_redraw(s):
    v = card_store.version(s.r, s.keys)
    responses.create(s, SAM, "c1", "mastodon", "Toot")
    assert card_store.version(s.r, s.keys) == v + 1
    assert set(responses.by_card(s)) == {"c1"}


# The drawer's callbacks, called directly as a signed-in request would run them ----------------------------------
_CONTEXT_APP = flask.Flask("response-callback-tests")


def as_(ident, fn, *args):
    with _CONTEXT_APP.test_request_context("/_dash-update-component", method="POST"):
        flask.g.identity = ident
        return fn(*args)


def buttons(tree) -> list[str]:
    """The pattern-id types of the buttons in a rendered tree."""
    found = []

    def walk(node):
        if isinstance(node, (list, tuple)):
            for child in node:
                walk(child)
        elif hasattr(node, "to_plotly_json"):
            if isinstance(getattr(node, "id", None), dict):
                found.append(node.id["type"])
            walk(getattr(node, "children", None))

    walk(tree)
    return found


def test_the_drawer_offers_approval_to_the_waiting_group_only_and_never_to_the_author(s):
    d = responses.create_and_submit(s, DANA, "c1", "x", "<b>Still</b> dunking")
    for ident, expected in ((ALICE, True), (DANA, False), (CAROL, False)):
        rows, _ = as_(ident, cb.drafts_view, s, 0, "c1", 1, None)
        assert (ids.RESPOND_APPROVE in buttons(rows)) is expected, ident.name
    rows, seen = as_(SAM, cb.drafts_view, s, 0, "c1", 1, None)
    assert ids.RESPOND_APPROVE not in buttons(rows) and ids.RESPOND_EDIT in buttons(rows)
    assert as_(SAM, cb.drafts_view, s, 0, "c1", 2, seen) == (no_update, no_update)  # unchanged: not redrawn
    texts = [n.children for n in _walk(rows) if "respond-draft-text" in (getattr(n, "className", "") or "")]
    assert texts == ["<b>Still</b> dunking"]  # a text child: React escapes it, never HTML
    assert as_(VIC, cb.drafts_view, s, 0, "c1", 1, None)[0] == "vic (viewer) may not card.draft"
    responses.approve(s, ALICE, d["id"])
    message, version = as_(SAM, cb.decide, s, "publish", {"type": ids.RESPOND_PUBLISH, "draft": d["id"]}, None, 3)
    assert message.startswith("Not published: Waiting for Legal") and version == 4


def test_submit_from_the_form_runs_as_the_signed_in_person(s):
    args = (
        1,
        "c1",
        "x",
        "new",
        "dunk-in-the-dark",
        "Power out? No problem. You can still dunk in the dark. #DunkInTheDark",
    )
    message, version, editing = as_(SAM, cb.submit, s, *args, "", "", None, 0)
    assert message.startswith("Submitted. Waiting for Brand lead (fast lane)") and version == 1 and editing is None
    (d,) = pub_store.drafts_for_card(s.r, s.keys, "c1")
    assert d["author"] == "sam" and entries(s, responses.SUBMIT)[0]["who"] == "sam"
    message, _, _ = as_(VIC, cb.submit, s, *args, "", "", None, 1)
    assert message == "vic (viewer) may not card.draft"
    assert len(pub_store.drafts_for_card(s.r, s.keys, "c1")) == 1
    count, findings = as_(SAM, cb.preview, s, "See https://evil.example", "bluesky", "c1", None)
    assert count == "24 / 300" and any("Link only to oreo.com" in li.children for li in findings)


IMAGE = "https://images.oreo.com/dunk.png"
ALT = "An Oreo cookie half dunked in milk, lit by a phone screen"


def test_an_image_from_the_form_needs_alt_text_and_an_allowed_domain_and_reaches_the_dry_run(s):
    form = (1, "c1", "x", "new", None, "Still dunking in the dark")
    message, _, _ = as_(SAM, cb.submit, s, *form, IMAGE, "  ", None, 0)
    assert message.startswith("Not saved: describe the image in its alt text") and "screen readers" in message
    assert pub_store.drafts_for_card(s.r, s.keys, "c1") == []  # nothing saved without the alt text
    message, _, _ = as_(SAM, cb.submit, s, *form, "https://cdn.evil.example/dunk.png", ALT, None, 1)
    assert message.startswith("Draft saved, not submitted: Guardrails:")
    assert "Use an image from oreo.com (the allowed domains, as for links)" in message
    (refused,) = pub_store.drafts_for_card(s.r, s.keys, "c1")
    assert refused["approval"]["state"] == "drafting"

    message, _, editing = as_(SAM, cb.submit, s, *form, IMAGE, ALT, None, 2)
    assert message.startswith("Submitted.") and editing is None
    d = next(d for d in pub_store.drafts_for_card(s.r, s.keys, "c1") if d["id"] != refused["id"])
    assert d["image"] == {"url": IMAGE, "alt": ALT}
    assert entries(s, responses.DRAFT)[0]["after"]["image"] == {"url": IMAGE, "alt": ALT}  # audited with it
    rows, _ = as_(SAM, cb.drafts_view, s, 0, "c1", 1, None)
    lines = [n.children for n in _walk(rows) if "respond-image-line" in (getattr(n, "className", "") or "")]
    assert lines == [f"Image: {IMAGE} · alt text: {ALT}", f"Image: https://cdn.evil.example/dunk.png · alt text: {ALT}"]

    d = responses.approve(s, CAROL, responses.approve(s, ALICE, d["id"])["id"])
    d = responses.publish(s, SAM, d["id"])  # dry run (no credentials): the card shows the image in the request
    (media,) = d["dry_run"]["request"]["media"]
    assert media["url"] == IMAGE and media["alt"] == ALT and media["upload"].endswith("/2/media/upload")
    assert d["dry_run"]["request"]["json"]["media"] == {"media_ids": ["(uploaded when published)"]}


def test_editing_loads_the_image_and_changing_or_removing_it_restarts_the_chain(s):
    d = responses.create_and_submit(s, SAM, "c1", "mastodon", "Dunk on", image_url=IMAGE, image_alt=ALT)
    d = responses.approve(s, ALICE, d["id"])
    editing, text, network, url, alt, said = as_(SAM, cb.load_edit, s, {"type": ids.RESPOND_EDIT, "draft": d["id"]})
    assert (editing, text, network, url, alt) == (d["id"], "Dunk on", "mastodon", IMAGE, ALT) and "Editing" in said
    message, _, _ = as_(SAM, cb.submit, s, 1, "c1", "mastodon", "new", None, "Dunk on", IMAGE, "", d["id"], 0)
    assert message.startswith("Not saved: describe the image")
    assert pub_store.get_draft(s.r, s.keys, d["id"])["approval"]["approvals"]  # the refused edit changed nothing
    message, _, _ = as_(SAM, cb.submit, s, 1, "c1", "mastodon", "new", None, "Dunk on", "", "", d["id"], 1)
    assert message.startswith("Submitted.")
    after = pub_store.get_draft(s.r, s.keys, d["id"])
    assert after["image"] is None and after["approval"]["approvals"] == []  # removed, and the chain starts over
    assert responses.edit(s, SAM, d["id"], "Dunk on!")["image"] is None  # text-only edits keep what is there


def _walk(node):
    if isinstance(node, (list, tuple)):
        for child in node:
            yield from _walk(child)
    elif hasattr(node, "to_plotly_json"):
        yield node
        yield from _walk(getattr(node, "children", None))


def test_approvers_are_told_through_the_webhook_with_a_link_that_opens_the_card(tmp_path, r):
    from streams.notify import Notifier
    from tests.streams.test_notify import Hook, serving

    hook = Hook()
    with serving(hook) as url:
        s = build_services(load_settings({"WARROOM_VAR": str(tmp_path / "var"), "WARROOM_BASE_URL": "https://room"}), r)
        s.notifier = Notifier(url).start()
        card_store.save(r, s.keys, CARD, audit.entry("setup", "card.create", "card", ""))
        snapshot_store.write(r, s.keys, {"version": 1, "built_at": time.time(), "alerts": [], "storylines": []}, 1)
        d = responses.create_and_submit(s, SAM, "c1", "x", "Still dunking in the dark.")
        responses.approve(s, ALICE, d["id"])  # brand done: legal is next
        deadline = time.monotonic() + 10
        while len(hook.bodies) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        s.notifier.stop()
    first, second = (b["alert"] for b in hook.bodies)
    assert "awaiting brand approval (@alice, @bob)" in first["title"] and CARD["title"] in first["title"]
    assert first["link"] == "https://room/?respond=c1" and "<https://room/?respond=c1|" in first["detail"]
    assert "Still dunking in the dark." in first["detail"]
    assert "awaiting legal approval (@carol)" in second["title"]


def test_a_link_to_a_card_opens_its_drawer_for_who_may_read_it(s):
    card_id, is_open, _head, network, editing = as_(SAM, cb.open_card, s, {"card": "c1"})
    assert (card_id, is_open, editing) == ("c1", True, None) and network
