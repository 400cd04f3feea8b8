"""Comments on a card with @-mentions (web/comments.py, store/comments.py, callbacks/comments.py) on real Services
and the embedded Valkey: who may comment, mentions resolved against the room's people (groups expanded, unknown
names left as text), every comment with its audit entry in the same transaction, the mentioned told on screen and
through the webhook, and comment text always drawn as text."""

from __future__ import annotations

import time

import flask
import pytest
from argon2 import PasswordHasher
from dash import no_update

from auth import passwords
from auth.identity import KIOSK, Identity
from callbacks import comments as cb
from config.settings import load_settings
from layouts import comments as ui
from layouts import ids
from store import audit, users
from store import cards as card_store
from store import comments as comment_store
from store.keys import COMMENTS_PER_CARD
from web import comments
from web.comments import MAX_CHARS, Refused
from web.mentions import parse, segments
from web.services import build_services

SETUP = Identity("setup", frozenset({"admin"}), kind="cli")
SAM = Identity("sam", frozenset({"strategist"}))
ANN = Identity("ann", frozenset({"approver"}), frozenset({"legal"}))
ADA = Identity("ada", frozenset({"admin"}))
VIC = Identity("vic", frozenset({"viewer"}))
WALL = Identity("kiosk:k1", frozenset({"wall"}), kind=KIOSK)
CARD = {"id": "c1", "title": "Lights out", "summary": "The stadium went dark", "type": "opportunity"}


@pytest.fixture(autouse=True)
def cheap_hashes():
    previous = passwords.configure(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    passwords.configure(previous)


class Told:
    """The notifier's seam: what would go to the alert webhook."""

    def __init__(self):
        self.messages = []

    def submit(self, message):
        self.messages.append(message)


@pytest.fixture
def s(tmp_path, r):
    s = build_services(load_settings({"WARROOM_VAR": str(tmp_path / "var"), "WARROOM_BASE_URL": "https://room"}), r)
    for name, roles, groups in (
        ("sam", ["strategist"], []),
        ("ann", ["approver"], ["legal"]),
        ("lee", ["approver"], ["legal", "brand"]),
        ("ada", ["admin"], []),
        ("vic", ["viewer"], []),
        ("old", ["strategist"], ["legal"]),
    ):
        users.create(r, s.keys, name, roles, groups, actor=SETUP)
    users.set_disabled(r, s.keys, "old", True, actor=SETUP)
    card_store.save(r, s.keys, CARD, audit.entry("setup", "card.create", "card", ""))
    s.notifier = Told()
    return s


def entries(s, action):
    return audit.query(s.r, s.keys, action=action, limit=50)


# Parsing, pure ---------------------------------------------------------------------------------------------------
PEOPLE = {"sam": [], "ann": ["legal"], "lee": ["legal", "brand"], "sam.k": []}


def test_mentions_match_real_people_case_insensitively_and_leave_the_rest_as_text():
    found = parse("Thanks @Sam, and @ANN. Mail x@sam.com; @nobody? @sam again, @sam.k", PEOPLE)
    assert found.users == ["sam", "ann", "sam.k"] and found.unknown == ["nobody"] and found.groups == {}
    assert found.notify == ["ann", "sam", "sam.k"]


def test_a_group_mention_tells_its_members_and_a_person_wins_over_a_group_of_the_same_name():
    found = parse("@legal please look", PEOPLE)
    assert found.groups == {"legal": ["ann", "lee"]} and found.users == [] and found.notify == ["ann", "lee"]
    assert parse("@legal", {**PEOPLE, "legal": []}).users == ["legal"]


def test_segments_cut_only_the_stored_mentions():
    assert segments("hi @Ann. and @bob", ["ann"]) == [("hi ", None), ("@Ann", "ann"), (". and @bob", None)]
    assert segments("", ["ann"]) == [] and segments("plain", []) == [("plain", None)]


# The service -----------------------------------------------------------------------------------------------------
def test_a_comment_is_stored_with_its_mentions_and_its_audit_entry(s):
    v = card_store.version(s.r, s.keys)
    c = comments.add(s, SAM, "c1", "  @Ann can legal clear this? cc @zed  ")
    (stored,) = comment_store.for_card(s.r, s.keys, "c1")
    assert stored["text"] == "@Ann can legal clear this? cc @zed" and stored["author"] == "sam"
    assert stored["mentions"] == ["ann"] and stored["card_id"] == "c1" and stored["at"] and stored["id"] == c["id"]
    assert c["told"] == ["ann"] and c["unknown"] == ["zed"] and c["durable"] is True
    (e,) = entries(s, comments.ADD)
    assert e["who"] == "sam" and e["roles"] == ["strategist"] and e["object_type"] == "comment"
    assert e["object_id"] == c["id"] and e["after"]["text"] == stored["text"] and "tells @ann" in e["detail"]
    assert comment_store.counts(s.r, s.keys) == {"c1": 1} and card_store.version(s.r, s.keys) == v + 1


def test_the_mentioned_are_told_on_screen_and_through_the_webhook_with_a_link(s):
    comments.add(s, SAM, "c1", "@legal <!channel> please look <https://evil|here>")
    assert comment_store.unread(s.r, s.keys, "ann") == 1 and comment_store.unread(s.r, s.keys, "lee") == 1
    assert comment_store.unread(s.r, s.keys, "old") == 0  # disabled: not mentionable
    assert comment_store.unread(s.r, s.keys, "sam") == 0
    (m,) = s.notifier.messages
    assert m["kind"] == "mention" and m["link"] == "https://room/?comments=c1" and m["subject"] == "c1"
    assert "sam mentioned @ann, @lee" in m["title"] and "Lights out" in m["title"]
    assert "&lt;!channel&gt;" in m["detail"] and "<!channel>" not in m["detail"]  # the comment cannot ping
    assert m["detail"].endswith("<https://room/?comments=c1|Open the card's discussion>")
    (mention,) = comments.open_mentions(s, ANN)
    assert mention["card_id"] == "c1" and mention["author"] == "sam" and mention["card_title"] == "Lights out"
    assert comments.unread(s, ANN) == 0 and entries(s, comments.SEEN)[0]["who"] == "ann"
    n = s.r.xlen(s.keys.audit)
    comments.open_mentions(s, ANN)  # nothing unread: nothing written
    assert s.r.xlen(s.keys.audit) == n


def test_mentioning_yourself_or_nobody_tells_nobody(s):
    comments.add(s, SAM, "c1", "@sam note to self; @vic is a viewer, @old has left")
    assert s.notifier.messages == [] and comment_store.unread(s.r, s.keys, "sam") == 0
    (stored,) = comment_store.for_card(s.r, s.keys, "c1")
    assert stored["mentions"] == ["sam"]


@pytest.mark.parametrize("ident", [ANN, ADA], ids=lambda i: i.name)
def test_approvers_and_admins_comment_too(s, ident):
    comments.add(s, ident, "c1", "Looks fine")
    assert comment_store.for_card(s.r, s.keys, "c1")[0]["author"] == ident.name


@pytest.mark.parametrize("ident", [VIC, WALL, None], ids=lambda i: getattr(i, "name", "nobody"))
def test_walls_viewers_and_nobody_may_not_comment_nor_read(s, ident):
    before = s.r.xlen(s.keys.audit), s.r.hgetall(s.keys.comment_counts)
    with pytest.raises(Refused, match="may not card.comment"):
        comments.add(s, ident, "c1", "hello @ann")
    for read in (lambda: comments.for_card(s, ident, "c1"), lambda: comments.unread(s, ident)):
        with pytest.raises(Refused, match="may not card.comment"):
            read()
    assert (s.r.xlen(s.keys.audit), s.r.hgetall(s.keys.comment_counts)) == before
    assert s.notifier.messages == []


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "write something first"),
        ("   \n\t ", "write something first"),
        ("x" * (MAX_CHARS + 1), f"at most {MAX_CHARS} characters; this one has {MAX_CHARS + 1}"),
    ],
)
def test_empty_and_too_long_are_refused_with_words(s, text, words):
    n = s.r.xlen(s.keys.audit)
    with pytest.raises(Refused, match=words):
        comments.add(s, SAM, "c1", text)
    assert comment_store.for_card(s.r, s.keys, "c1") == [] and s.r.xlen(s.keys.audit) == n


def test_exactly_the_limit_is_kept_and_control_characters_are_dropped(s):
    comments.add(s, SAM, "c1", "x" * MAX_CHARS)
    comments.add(s, SAM, "c1", "a\x00b\r\nc\x1b")
    assert [c["text"] for c in comment_store.for_card(s.r, s.keys, "c1")] == ["x" * MAX_CHARS, "ab\nc"]


def test_a_missing_card_and_a_full_discussion_are_refused(s):
    with pytest.raises(Refused, match="no longer exists"):
        comments.add(s, SAM, "nope", "hi")
    with pytest.raises(Refused, match="Pick a card"):
        comments.add(s, SAM, None, "hi")
    s.r.rpush(s.keys.comments("c1"), *[b"{}"] * COMMENTS_PER_CARD)
    with pytest.raises(Refused, match=f"{COMMENTS_PER_CARD} comments"):
        comments.add(s, SAM, "c1", "one more")
    assert s.r.llen(s.keys.comments("c1")) == COMMENTS_PER_CARD and entries(s, comments.ADD) == []


def test_every_key_carries_the_events_hash_tag(s):
    comments.add(s, SAM, "c1", "@ann look")
    tag = s.keys.tag
    written = [k.decode() for k in s.r.keys("*cmt*")]
    assert written and all(k.startswith(tag + ":cmt:") for k in written)


# The drawer's callbacks, as a signed-in request runs them -----------------------------------------------------
_CONTEXT_APP = flask.Flask("comment-callback-tests")


def as_(ident, fn, *args):
    with _CONTEXT_APP.test_request_context("/_dash-update-component", method="POST"):
        flask.g.identity = ident
        return fn(*args)


def _walk(node):
    if isinstance(node, (list, tuple)):
        for child in node:
            yield from _walk(child)
    elif hasattr(node, "to_plotly_json"):
        yield node
        yield from _walk(getattr(node, "children", None))
    elif isinstance(node, str):
        yield node


def test_the_form_comments_as_the_signed_in_person_and_says_whom_it_told(s):
    message, version, text = as_(ANN, cb.add, s, 1, "c1", "@sam @Lee ok by legal, @ghost?", 3)
    assert message.startswith("Commented · on disk · told @lee, @sam") and "@ghost left as text" in message
    assert (version, text) == (4, "")
    assert comment_store.for_card(s.r, s.keys, "c1")[0]["author"] == "ann"
    message, version, text = as_(ANN, cb.add, s, 1, "c1", "   ", 4)
    assert message.startswith("Not saved: write something first") and version is no_update and text is no_update
    message, *_ = as_(VIC, cb.add, s, 1, "c1", "hi", 4)
    assert message == "vic (viewer) may not card.comment" and len(comment_store.for_card(s.r, s.keys, "c1")) == 1
    assert as_(ANN, cb.add, s, 0, "c1", "hi", 4) == (no_update, no_update, no_update)


def test_the_hint_says_whom_the_comment_will_tell(s):
    assert as_(SAM, cb.hint, s, "@legal and @zed") == (
        "Tells @ann, @lee (through @legal). @zed: nobody by that name can take part here, left as text."
    )
    assert as_(SAM, cb.hint, s, "") == ""
    assert as_(VIC, cb.hint, s, "@legal") == "vic (viewer) may not card.comment"


def test_comment_text_is_drawn_as_text_and_mentions_as_spans(s):
    comments.add(s, SAM, "c1", "<script>alert(1)</script> **bold** @ann <b>hi</b>")
    rows, seen = as_(ANN, cb.comments_view, s, 0, "c1", 1, None)
    texts = [n for n in _walk(rows) if isinstance(n, str)]
    assert "<script>alert(1)</script> **bold** " in texts and " <b>hi</b>" in texts  # strings: React escapes them
    spans = [n for n in _walk(rows) if getattr(n, "className", None) == "mention"]
    assert [sp.children for sp in spans] == ["@ann"]
    (body,) = [n for n in _walk(rows) if getattr(n, "className", None) == "comment-text"]
    kinds = [type(child).__name__ for child in body.children]
    assert kinds == ["str", "Span", "str"]  # only text and the mention's span: no markup from the comment
    assert "comment-mentions-me" in rows[0].className  # ann sees the comment that mentions her marked
    assert as_(ANN, cb.comments_view, s, 0, "c1", 2, seen) == (no_update, no_update)  # unchanged: not redrawn
    assert as_(VIC, cb.comments_view, s, 0, "c1", 1, None) == ("vic (viewer) may not card.comment", None)


def test_the_header_counts_unread_mentions_and_opening_them_marks_them_read(s):
    children, title = as_(ANN, cb.mention_count, s, 1)
    assert children == ["@"] and "none" in title
    comments.add(s, SAM, "c1", "@ann first")
    comments.add(s, SAM, "c1", "@legal second")
    children, title = as_(ANN, cb.mention_count, s, 2)
    assert children[1].children == "2" and title == "2 mentions of you not yet read"
    is_open, listed, children, title = as_(ANN, cb.open_mentions, s, 1)
    assert is_open is True and children == ["@"]
    excerpts = [n.children for n in _walk(listed) if getattr(n, "className", None) == "mention-excerpt"]
    assert excerpts == ["@legal second", "@ann first"]
    opens = [n.id for n in _walk(listed) if isinstance(getattr(n, "id", None), dict)]
    assert {o["type"] for o in opens} == {ids.MENTION_OPEN} and len({o["comment"] for o in opens}) == 2
    assert as_(ANN, cb.mention_count, s, 3)[0] == ["@"]
    assert as_(VIC, cb.mention_count, s, 1) == ("vic (viewer) may not card.comment", no_update)


def test_a_card_a_link_or_a_mention_opens_the_discussion(s):
    card_id, is_open, head, listed = as_(SAM, cb.open_card, s, {"type": ids.COMMENTS_OPEN, "card": "c1"})
    assert (card_id, is_open, listed) == ("c1", True, []) and head[0].children == "Lights out"
    assert as_(VIC, cb.open_card, s, {"card": "c1"})[:3] == (no_update, True, "vic (viewer) may not card.comment")
    assert as_(SAM, cb.open_card, s, None) == (no_update,) * 4


def test_the_card_shows_its_comment_count_to_who_may_comment_only(s):
    from layouts.framing import card_item
    from web.roles import view_for

    for ident, shown in ((SAM, True), (ANN, True), (ADA, True), (VIC, False), (WALL, False)):
        view = view_for(ident, "/")
        item = card_item(CARD, time.time(), view, comments=3)
        labels = [n.children for n in _walk(item) if isinstance(getattr(n, "id", None), dict)]
        assert ("comments · 3" in labels) is shown, ident.name


def test_the_drawer_and_the_mentions_button_are_on_the_command_center_of_who_may_comment(s):
    from layouts.command_center import make_page
    from web.roles import view_for

    for ident, shown in ((SAM, True), (ADA, True), (VIC, False)):
        view = view_for(ident, "/")
        page = make_page(s.settings, view, ident).to_plotly_json()
        text = repr(page)
        assert (ids.COMMENTS_DRAWER in text and ids.MENTIONS_BUTTON in text) is shown, ident.name
    assert ui.mentions_label(1)[1] == "1 mention of you not yet read"
