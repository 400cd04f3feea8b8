"""Every Dash callback that writes (and every privileged read), as the raw HTTP request Dash's renderer sends:
refused with no session, from a wall screen, from a viewer, from a viewer whose page claims to be the command
center ("/"), from a signed-in strategist who is not an admin (admin callbacks), and without the CSRF token or
from another site — and the store is byte-for-byte unchanged. Each callback's request is first shown to work
for someone who may, so a refusal is never a malformed request. The real app (create_app), guard and Valkey.
"""

from __future__ import annotations

import time

import orjson
import pytest
from argon2 import PasswordHasher

from app import create_app
from auth import passwords
from auth.identity import Identity
from config.settings import load_settings
from layouts import care as care_ui
from layouts import exec as exec_ui
from layouts import ids
from store import alerts as alert_store
from store import audit, publishing, tokens, users
from store import cards as card_store
from store import care as care_store
from store import guardrails as guard_store
from store import snapshot as snapshot_store
from streams.aggregator import Aggregator
from tests.web.dash_client import PASSWORD, callback_key, dispatch_body, open_kiosk, sign_in
from web import comments, responses

ADMIN = Identity("setup", frozenset({"admin"}), kind="cli")
FORM = ("Dunk in the dark", "We answer with a cookie.", "opportunity", "P1", "Sam", "new")
POST = {
    "id": "bluesky:1",
    "source": "bluesky",
    "text": "Oreo in the dark",
    "score": 3.0,
    "received_at": 1.0,
    "author": {"handle": "fan1", "followers": 10},
}
ALERT = {"id": "a1", "kind": "spike", "severity": "high", "title": "Spike", "detail": "x8", "at": 1.0, "moment": 1.0}


@pytest.fixture(autouse=True)
def cheap_hashes():
    previous = passwords.configure(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    yield
    passwords.configure(previous)


@pytest.fixture
def app(tmp_path, r):
    app = create_app(load_settings({"WARROOM_VAR": str(tmp_path / "var")}), r)
    s = app.services
    for name, roles, groups in (
        ("sam", ["strategist"], []),
        ("vic", ["viewer"], []),
        ("ann", ["approver"], ["brand"]),
        ("ada", ["admin"], []),
    ):
        users.create(r, s.keys, name, roles, groups, actor=ADMIN, password=PASSWORD)
    app.case_id = seed_case(app)  # the aggregator's tick writes a snapshot: keep its care lane in ours
    care = snapshot_store.read(r, s.keys)["care"]
    snap = {"version": 1, "built_at": 1.0, "feed": [POST], "feed_by_source": {}, "alerts": [ALERT], "storylines": []}
    snap["care"] = care
    snapshot_store.write(r, s.keys, snap, 1)
    alert_store.add(r, s.keys, [ALERT])
    card = {**dict(zip(("title", "summary", "type", "priority", "owner", "status"), FORM, strict=True))}
    card_store.save(r, s.keys, {**card, "id": "c1", "group": "brand"}, audit.entry(ADMIN, "card.create", "card", ""))
    card_store.save(
        r, s.keys, {**card, "id": "c2", "status": "in review", "group": "brand"}, audit.entry(ADMIN, "x", "card", "")
    )
    app.drafts = seed_responses(app)
    ann = Identity("ann", frozenset({"approver"}), frozenset({"brand"}))
    app.comment_id = comments.add(s, ann, "c1", "@sam can you look")["id"]  # sam has a mention not yet read
    tokens.create_api_token(r, s.keys, "grafana", ["read"], actor=ADMIN)
    app.kiosk_id = tokens.create_kiosk(r, s.keys, "spare screen", actor=ADMIN)[1]["id"]
    app.token_id = tokens.api_tokens(r, s.keys)[0]["id"]
    # paused, with an override: resuming and going back to the event file's guardrails then change the store
    publishing.pause(r, s.keys, "seeded pause", ADMIN)
    guard_store.set_override(r, s.keys, {"banned_phrases": "seeded phrase"}, s.settings.event, actor=ADMIN)
    return app


def seed_case(app) -> str:
    """One open care case (a complaint), folded by the aggregator as in the room."""
    s, now = app.services, time.time()
    post = {**POST, "id": "bluesky:9", "text": "@oreo my pack arrived crushed", "author": {"handle": "ann.bsky"}}
    item = {"post": post, "kind": "complaint", "reasons": ["complaint: test"], "safety": [], "sentiment": -0.6}
    pipe = s.r.pipeline(transaction=True)
    care_store.queue(pipe, s.keys, [{**item, "at": now}])
    pipe.execute()
    Aggregator(s.settings, s.r, s.keys).tick(now)
    return care_store.open_cases(s.r, s.keys)[0]["id"]


PENDING_TEXT = "Still dunking in the dark, cookie in hand"


def seed_responses(app) -> dict:
    """On card c1: a response waiting for its first approval and one approved through the fast lane."""
    s = app.services
    sam = Identity("sam", frozenset({"strategist"}))
    pending = responses.create_and_submit(s, sam, "c1", "x", PENDING_TEXT)
    template = next(t for t in responses.offered(s, card_store.get(s.r, s.keys, "c1"), "x") if t["pre_approved"])
    fast = responses.create_and_submit(s, sam, "c1", "x", template["text"], template_id=template["id"])
    responses.approve(s, Identity("bob", frozenset({"approver"}), frozenset({"brand"})), fast["id"])
    return {"pending": pending["id"], "approved": fast["id"]}


def store_state(r) -> dict:
    """Every key and its serialized value: equal before and after means the request changed nothing."""
    return {k: r.dump(k) for k in sorted(r.keys("*"))}


# name -> (who may, first input, inputs, state); `app` fills ids that exist only once the fixture ran.
def writes(app) -> dict:
    return {
        "save card": ("sam", ids.CARD_SAVE, [1], [*FORM, None]),
        "move card": ("sam", ids.CARD_STATUS_SET, [[({"type": ids.CARD_STATUS_SET, "card": "c1", "status": "drafting"}, 1)]], []),
        "approve card": ("ann", ids.CARD_STATUS_SET, [[({"type": ids.CARD_STATUS_SET, "card": "c2", "status": "approved"}, 1)]], []),
        "mark post": ("sam", ids.gate(ids.MARK_POST), [gated({"type": ids.MARK_POST, "post": "bluesky:1", "relevant": True})], []),
        "correct sentiment": ("sam", ids.gate(ids.SENTIMENT_POST), [gated({"type": ids.SENTIMENT_POST, "post": "bluesky:1", "label": "negative"})], []),
        "acknowledge": ("sam", ids.gate(ids.ACK_ALERT), [gated({"type": ids.ACK_ALERT, "alert": "a1"})], []),
        "add person": ("ada", ids.NEW_USER_ADD, [1], ["lee", ["viewer"], "", 0]),
        "disable person": ("ada", ids.USER_TOGGLE, [[({"type": ids.USER_TOGGLE, "user": "vic"}, 1)]], [0]),
        "create kiosk link": ("ada", ids.NEW_KIOSK_ADD, [1], ["lobby", 0]),
        "revoke kiosk link": ("ada", ids.KIOSK_REVOKE, [[({"type": ids.KIOSK_REVOKE, "kiosk": app.kiosk_id}, 1)]], [0]),
        "create API token": ("ada", ids.NEW_TOKEN_ADD, [1], ["export", ["audit"], 0]),
        "revoke API token": ("ada", ids.TOKEN_REVOKE, [[({"type": ids.TOKEN_REVOKE, "token": app.token_id}, 1)]], [0]),
        "pause publishing": ("ada", ids.PUBLISH_PAUSE, [1], ["Injury on the field", 0]),
        "resume publishing": ("ada", ids.PUBLISH_RESUME, [1], [0]),
        "save guardrails": ("ada", ids.GUARD_SAVE, [1], ["guarantee\nfree cookies", "referees", "oreo.com", "Milano", 0]),
        "use the event file's guardrails": ("ada", ids.GUARD_RESET, [1], [0]),
        "assign care case": ("sam", care_ui.BUTTONS["assign"], [1, *[None] * (len(care_ui.BUTTONS) - 1)],
                             [app.case_id, None, "sam", None, "", None, None, "", "/"]),
        "submit response": ("sam", ids.RESPOND_SUBMIT, [1], ["c1", "x", "new", None, "Still dunking", "", "", None, 0]),
        "approve response": ("ann", ids.RESPOND_APPROVE, [[({"type": ids.RESPOND_APPROVE, "draft": app.drafts["pending"]}, 1)]], [0]),
        "reject response": ("ann", ids.RESPOND_REJECT, [[({"type": ids.RESPOND_REJECT, "draft": app.drafts["pending"]}, 1)]], ["Say cookie", 0]),
        "publish response": ("sam", ids.RESPOND_PUBLISH, [[({"type": ids.RESPOND_PUBLISH, "draft": app.drafts["approved"]}, 1)]], [0]),
        "comment on a card": ("sam", ids.COMMENT_ADD, [1], ["c1", "@ann looks good", 0]),
        "read my mentions": ("sam", ids.MENTIONS_BUTTON, [1], []),
    }  # fmt: skip


def gated(button: dict) -> dict:
    """What assets/rows.js sends for a click on `button`."""
    return {"id": button, "n": 1, "at": 1}


# Callbacks that change nothing on the server but answer only those who may: (who may, first input, inputs,
# state, what only they get to see).
def reads(app) -> dict:
    return {
        "pick context": (
            "sam",
            ids.gate(ids.FRAME_POST),
            [gated({"type": ids.FRAME_POST, "post": "bluesky:1"}), None, None, None],
            [""],
            "Framing @fan1",
        ),
        "admin lists": ("ada", ids.ADMIN_VERSION, [0], [], "grafana"),
        "guardrails form": ("ada", ids.GUARD_LOAD, [0], [], "seeded phrase"),
        "audit search": ("ada", ids.AUDIT_SEARCH, [1], [None, None, None, ""], "card.create"),
        "care lane": ("sam", ids.SNAP_VERSION, [1], [None], "ann.bsky"),
        "open care case": ("sam", ids.gate(care_ui.OPEN), [gated({"type": care_ui.OPEN, "case": app.case_id})], [], "crushed"),
        "report download": ("vic", exec_ui.REPORT_BUTTON, [1], ["/exec"], "Report ready"),
        # the Respond drawer: the form's reads answer drafters only, the drawer and its drafts approvers too
        "response templates": ("sam", ids.RESPOND_NETWORK, ["x", "c1"], [], "You can still dunk in the dark"),
        "response fill": ("sam", ids.RESPOND_TEMPLATE, ["dunk-in-the-dark"], ["c1", "x"], "Power out?"),
        "response preview": ("sam", ids.RESPOND_TEXT, ["See https://evil.example/x", "x"], ["c1", None], "Link only to"),
        "response edit": ("sam", ids.RESPOND_EDIT, [[({"type": ids.RESPOND_EDIT, "draft": app.drafts["pending"]}, 1)]], [],
                          PENDING_TEXT),
        "open respond": ("sam", ids.RESPOND_OPEN, [[({"type": ids.RESPOND_OPEN, "card": "c1"}, 1)]], [], "Dunk in the dark"),
        "response drafts": ("ann", ids.RESPOND_VERSION, [0, "c1", 1, 3], [None], PENDING_TEXT),
        "open respond link": ("sam", ids.RESPOND_REQUEST, ["c1"], [], "Dunk in the dark"),
        # the Discussion drawer and the header's mentions: strategists, approvers and admins
        "open comments": ("sam", ids.COMMENTS_OPEN, [[({"type": ids.COMMENTS_OPEN, "card": "c1"}, 1)]], [], "Dunk in the dark"),
        "open comments link": ("sam", ids.COMMENTS_REQUEST, ["c1"], [], "Dunk in the dark"),
        "open a mention": ("sam", ids.MENTION_OPEN,
                           [[({"type": ids.MENTION_OPEN, "card": "c1", "comment": app.comment_id}, 1)]], [], "Dunk in the dark"),
        "comments": ("sam", ids.COMMENTS_VERSION, [0, "c1", 1, 3], [None], "can you look"),
        "comment hint": ("sam", ids.COMMENT_TEXT, ["@brand and @ada please"], [], "(through @brand)"),
        "mention count": ("sam", ids.MENTIONS_TICK, [1], [], "not yet read"),
    }  # fmt: skip


# Callbacks every signed-in screen may call: they write nothing and what they show depends only on the view
# (tested below and in test_callbacks.py).
OPEN_TO_EVERY_SCREEN = {ids.URL, ids.TICK, ids.FEED_SOURCE, ids.CARD_SAVED, ids.gate(ids.FOCUS_ALERT)}
# The wall's and the executive view's own screen callbacks (first input TICK too, so named by their keys).
ROOM_SCREENS = ("wall-version.data", "exec-version.data")


def test_every_callback_is_in_this_matrix(app):
    covered = {callback_key(app, spec[1]) for spec in [*writes(app).values(), *reads(app).values()]}
    covered |= {callback_key(app, first) for first in OPEN_TO_EVERY_SCREEN}
    covered |= {k for k in app.callback_map if any(f"..{screen}.." in k for screen in ROOM_SCREENS)}
    server_side = {k for k, cb in app.callback_map.items() if cb.get("callback") is not None}
    assert server_side - covered == set(), "a new callback needs its row in this matrix"


def post(client, headers, app, spec, extra_headers=None):
    _, first, inputs, state = spec[:4]
    body = dispatch_body(app, first, inputs, state)
    return client.post("/_dash-update-component", json=body, headers={**headers, **(extra_headers or {})})


def refused(res) -> bool:
    """401/403 from the guard, or the callback's own refusal: a message naming the missing permission."""
    if res.status_code in (401, 403):
        return True
    return res.status_code == 200 and "may not" in res.get_data(as_text=True)


WRITE_NAMES = [
    "save card",
    "move card",
    "approve card",
    "mark post",
    "correct sentiment",
    "acknowledge",
    "add person",
    "disable person",
    "create kiosk link",
    "revoke kiosk link",
    "create API token",
    "revoke API token",
    "pause publishing",
    "resume publishing",
    "save guardrails",
    "use the event file's guardrails",
    "assign care case",
    "submit response",
    "approve response",
    "reject response",
    "publish response",
    "comment on a card",
    "read my mentions",
]


@pytest.mark.parametrize("name", WRITE_NAMES)
def test_the_request_works_for_who_may(app, r, name):
    spec = writes(app)[name]
    before = store_state(r)
    res = post(*sign_in(app, spec[0]), app, spec)
    assert res.status_code == 200 and "may not" not in res.get_data(as_text=True), res.get_data(as_text=True)
    assert store_state(r) != before
    assert audit.query(r, app.services.keys, limit=1)[0]["who"] == spec[0], "the change carries its audit entry"


def as_(kind: str, app, r):
    """(client, headers) for a kind of caller."""
    if kind == "anonymous":
        return app.server.test_client(), {}
    if kind == "wall":
        return open_kiosk(app, tokens.create_kiosk(r, app.services.keys, "lobby", actor=ADMIN)[0])
    if kind in ("viewer", "viewer on /"):
        return sign_in(app, "vic")
    if kind == "strategist":
        return sign_in(app, "sam")
    if kind == "approver":
        return sign_in(app, "ann")
    if kind in ("no csrf", "wrong csrf", "other site"):
        return None  # built per callback: its own permitted person, without a good token
    raise ValueError(kind)


# "viewer on /": the exact request the command center page sends, from a viewer's session on a page that says
# it is "/" (write callbacks take no path at all: the page grants nothing).
KINDS = ["anonymous", "wall", "viewer", "viewer on /", "no csrf", "wrong csrf", "other site"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", WRITE_NAMES)
def test_a_write_is_refused_and_the_store_is_unchanged(app, r, name, kind):
    spec = writes(app)[name]
    caller = as_(kind, app, r)
    extra = {}
    if caller is None:
        client, headers = sign_in(app, spec[0])
        headers = {
            "no csrf": {},
            "wrong csrf": {"X-CSRFToken": "forged"},
            "other site": {**headers, "Origin": "http://evil.example"},
        }[kind]
        caller = (client, headers)
    if kind == "viewer on /":
        extra = {"Referer": "http://localhost/"}  # the page it claims to be on: the path grants nothing
    before = store_state(r)
    res = post(*caller, app, spec, extra)
    assert refused(res), (name, kind, res.status_code, res.get_data(as_text=True)[:300])
    assert store_state(r) == before


@pytest.mark.parametrize("name", ["save card", "move card", "mark post", "correct sentiment", "acknowledge"])
def test_strategists_work_is_refused_to_an_approver_and_an_admin(app, r, name):
    spec = writes(app)[name]
    for who in ("ann", "ada"):
        caller = sign_in(app, who)
        before = store_state(r)
        assert refused(post(*caller, app, spec)), (name, who)
        assert store_state(r) == before


ADMIN_WRITES = [
    "add person",
    "disable person",
    "create kiosk link",
    "revoke API token",
    "pause publishing",
    "resume publishing",
    "save guardrails",
    "use the event file's guardrails",
]


@pytest.mark.parametrize("name", ADMIN_WRITES)
def test_admin_work_is_refused_to_a_strategist_and_an_approver(app, r, name):
    spec = writes(app)[name]
    for who in ("sam", "ann"):
        caller = sign_in(app, who)
        before = store_state(r)
        assert refused(post(*caller, app, spec)), who
        assert store_state(r) == before


def test_approving_is_refused_to_a_strategist_and_to_an_approver_of_another_group(app, r):
    spec = writes(app)["approve card"]
    users.create(r, app.services.keys, "lee", ["approver"], ["legal"], actor=ADMIN, password=PASSWORD)
    for who in ("sam", "lee", "vic"):
        caller = sign_in(app, who)
        before = store_state(r)
        assert refused(post(*caller, app, spec)), who
        assert store_state(r) == before
    assert card_store.get(r, app.services.keys, "c2")["status"] == "in review"


@pytest.mark.parametrize(
    "name",
    [
        "pick context",
        "admin lists",
        "guardrails form",
        "audit search",
        "response templates",
        "response fill",
        "response preview",
        "response edit",
    ],
)
@pytest.mark.parametrize("kind", ["anonymous", "wall", "viewer", "strategist", "approver"])
def test_privileged_reads_answer_only_who_may(app, r, name, kind):
    spec = reads(app)[name]
    secret_bit = spec[4]
    ok = post(*sign_in(app, spec[0]), app, spec)
    assert ok.status_code == 200 and secret_bit in ok.get_data(as_text=True)
    if kind == "strategist" and spec[0] == "sam":
        return  # the strategist is who may pick a context
    caller = as_(kind, app, r)
    before = store_state(r)
    res = post(*caller, app, spec)
    assert refused(res) and secret_bit not in res.get_data(as_text=True), (name, kind)
    assert store_state(r) == before


@pytest.mark.parametrize(
    "name", ["open respond", "open respond link", "response drafts", "care lane", "open care case"]
)
@pytest.mark.parametrize("kind", ["anonymous", "wall", "viewer", "admin"])
def test_the_respond_drawer_and_the_care_lane_answer_drafters_and_approvers_only(app, r, name, kind):
    spec = reads(app)[name]
    for who in ("sam", "ann"):
        ok = post(*sign_in(app, who), app, spec)
        assert ok.status_code == 200 and spec[4] in ok.get_data(as_text=True), who
    caller = sign_in(app, "ada") if kind == "admin" else as_(kind, app, r)
    before = store_state(r)
    res = post(*caller, app, spec)
    assert refused(res) and spec[4] not in res.get_data(as_text=True), (name, kind)
    assert store_state(r) == before


COMMENT_READS = ["open comments", "open comments link", "open a mention", "comments", "comment hint", "mention count"]


@pytest.mark.parametrize("name", COMMENT_READS)
@pytest.mark.parametrize("kind", ["anonymous", "wall", "viewer"])
def test_the_discussion_answers_strategists_approvers_and_admins_only(app, r, name, kind):
    spec = reads(app)[name]
    for who in ("sam", "ann", "ada"):
        ok = post(*sign_in(app, who), app, spec)
        assert ok.status_code == 200 and spec[4] in ok.get_data(as_text=True), (name, who)
    caller = as_(kind, app, r)
    before = store_state(r)
    res = post(*caller, app, spec)
    assert refused(res) and spec[4] not in res.get_data(as_text=True), (name, kind)
    assert store_state(r) == before


def test_approvers_and_admins_comment_too(app, r):
    spec = writes(app)["comment on a card"]
    for who in ("ann", "ada"):
        res = post(*sign_in(app, who), app, spec)
        assert res.status_code == 200 and "Commented" in res.get_data(as_text=True), who
        assert audit.query(r, app.services.keys, action="comment.add", limit=1)[0]["who"] == who


@pytest.mark.parametrize("name", ["submit response", "publish response"])
def test_drafting_and_publishing_are_refused_to_an_approver_and_an_admin(app, r, name):
    spec = writes(app)[name]
    for who in ("ann", "ada"):
        caller = sign_in(app, who)
        before = store_state(r)
        assert refused(post(*caller, app, spec)), (name, who)
        assert store_state(r) == before


@pytest.mark.parametrize("name", ["approve response", "reject response"])
def test_approving_a_response_is_refused_to_a_strategist_and_an_admin(app, r, name):
    """(And approving to an approver outside the waiting step's group; rejecting is open to every group of the
    chain, web/approvals.py.)"""
    spec = writes(app)[name]
    users.create(r, app.services.keys, "lee", ["approver"], ["legal"], actor=ADMIN, password=PASSWORD)
    for who in ("sam", "ada"):
        caller = sign_in(app, who)
        before = store_state(r)
        assert refused(post(*caller, app, spec)), (name, who)
        assert store_state(r) == before
    if name == "approve response":
        caller = sign_in(app, "lee")
        before = store_state(r)
        res = post(*caller, app, spec)  # legal: not the waiting step's group
        assert res.status_code == 200 and "Brand lead needs someone in brand" in res.get_data(as_text=True)
        assert store_state(r) == before


def test_the_report_is_for_strategists_and_executives_only(app, r):
    spec = reads(app)["report download"]
    for kind in ("anonymous", "wall"):
        caller = as_(kind, app, r)  # a wall's kiosk link is made first: that is not the report's doing
        before = store_state(r)
        res = post(*caller, app, spec)
        assert res.status_code in (401, 403) or spec[4] not in res.get_data(as_text=True), kind
        assert store_state(r) == before
    ok = post(*sign_in(app, spec[0]), app, spec)
    assert ok.status_code == 200 and spec[4] in ok.get_data(as_text=True)


# The screens: the path asked for grants nothing ----------------------------------------------------------------


def screen_body(app, pathname: str) -> dict:
    return dispatch_body(app, ids.TICK, [1, None], [0, -1, None, "all", 0, pathname, None])


def route_body(app, pathname: str) -> dict:
    return dispatch_body(app, ids.URL, [pathname], [])


@pytest.mark.parametrize("kind", ["wall", "viewer"])
def test_a_read_only_screen_asking_as_the_command_center_gets_no_controls(app, r, kind):
    client, headers = as_(kind, app, r)
    page = client.post("/_dash-update-component", json=route_body(app, "/"), headers=headers).get_data(as_text=True)
    assert f'"{ids.CARD_SAVE}"' not in page and ("wall-version" if kind == "wall" else "exec-version") in page
    assert ids.COMMENTS_DRAWER not in page and ids.MENTIONS_BUTTON not in page
    for path in ("/", "/admin", "/audit"):
        answer = client.post("/_dash-update-component", json=screen_body(app, path), headers=headers)
        text = answer.get_data(as_text=True)
        assert answer.status_code == 200 and "bluesky:1" in text, path  # the feed, without its buttons
        for kind_id in (
            ids.MARK_POST,
            ids.SENTIMENT_POST,
            ids.FRAME_POST,
            ids.ACK_ALERT,
            ids.CARD_STATUS_SET,
            ids.RESPOND_OPEN,
            ids.COMMENTS_OPEN,
        ):
            assert kind_id not in text, (path, kind_id)
        cards = client.post(
            "/_dash-update-component",
            json=dispatch_body(app, ids.CARD_SAVED, ["x"], [path]),
            headers=headers,
        ).get_data(as_text=True)
        assert "c1" in cards and ids.CARD_STATUS_SET not in cards and ids.RESPOND_OPEN not in cards
        assert ids.COMMENTS_OPEN not in cards


def test_a_strategist_gets_the_controls_and_no_admin_page(app):
    client, headers = sign_in(app, "sam")
    text = client.post("/_dash-update-component", json=screen_body(app, "/"), headers=headers).get_data(as_text=True)
    assert ids.MARK_POST in text and ids.SENTIMENT_POST in text and ids.ACK_ALERT in text
    page = client.post("/_dash-update-component", json=route_body(app, "/admin"), headers=headers)
    assert ids.NEW_USER_ADD not in page.get_data(as_text=True) and f'"{ids.CARD_SAVE}"' in page.get_data(as_text=True)


def test_screens_of_one_role_set_share_an_answer_and_other_role_sets_do_not(app, r):
    users.create(r, app.services.keys, "kim", ["strategist"], actor=ADMIN, password=PASSWORD)
    cache = app.services.cache
    sam, kim, vic = sign_in(app, "sam"), sign_in(app, "kim"), sign_in(app, "vic")

    def ask(caller, path="/"):
        client, headers = caller
        return client.post("/_dash-update-component", json=screen_body(app, path), headers=headers).get_data()

    first = ask(sam)
    hits = cache.hits
    assert ask(kim, "/x") == first and cache.hits == hits + 1  # another strategist, another path to "/": shared
    viewer = ask(vic, "/")
    assert viewer != first and ids.MARK_POST.encode() not in viewer and cache.hits == hits + 1
    assert ask(vic, "/exec") == viewer and cache.hits == hits + 2


def test_pages_and_dash_need_a_session_and_health_tells_outsiders_only_what_is_down(app, r):
    c = app.server.test_client()
    assert c.get("/").status_code == 303 and c.get("/admin").status_code == 303
    for path in ("/_dash-layout", "/_dash-dependencies", "/api/snapshot", "/api/cards", "/api/audit"):
        assert c.get(path).status_code == 401, path
    body = c.get("/api/health").get_json()
    assert set(body) == {"status", "down"} and "aggregator" in body["down"]  # the test snapshot is old
    client, _ = sign_in(app, "vic")
    assert {"pipeline", "sources", "snapshot"} <= set(client.get("/api/health").get_json())
    token, _ = tokens.create_api_token(r, app.services.keys, "grafana", ["read"], actor=ADMIN)
    full = c.get("/api/health", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert "pipeline" in full
    assert c.get("/api/snapshot", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_sign_out_from_the_header_form_ends_the_session(app, r):
    client, headers = sign_in(app, "sam")
    page = client.post("/_dash-update-component", json=route_body(app, "/"), headers=headers).get_data(as_text=True)
    csrf = orjson.loads(page)["response"]["page"]["children"]
    token = next(iter(_find(csrf, "name", "csrf")))["value"]
    res = client.post("/logout", data={"csrf": token})
    assert res.status_code == 303 and res.headers["Location"] == "/login"
    assert client.post("/_dash-update-component", json=screen_body(app, "/"), headers=headers).status_code == 401
    assert audit.query(r, app.services.keys, action="signout")[0]["who"] == "sam"


def _find(node, key, value):
    """Props dicts in a serialized Dash tree with props[key] == value."""
    if isinstance(node, list):
        for child in node:
            yield from _find(child, key, value)
    elif isinstance(node, dict):
        props = node.get("props", {})
        if props.get(key) == value:
            yield props
        yield from _find(props.get("children"), key, value)


def test_an_admin_gets_the_admin_and_audit_pages_and_their_answers(app):
    client, headers = sign_in(app, "ada")
    for path, marker in (("/admin", ids.NEW_USER_ADD), ("/audit", ids.AUDIT_SEARCH)):
        res = client.post("/_dash-update-component", json=route_body(app, path), headers=headers)
        assert res.status_code == 200 and marker in res.get_data(as_text=True), path
    added = post(client, headers, app, writes(app)["add person"]).get_json()["response"]
    assert "/auth/link/" in added[ids.ADMIN_MESSAGE]["children"] and added[ids.ADMIN_VERSION]["data"] == 1
    lists = post(client, headers, app, ("ada", ids.ADMIN_VERSION, [1], [])).get_data(as_text=True)
    assert "lee" in lists and "spare screen" in lists and "grafana" in lists
    assert '"hash"' not in lists and "password_hash" not in lists  # no stored secret is ever drawn
