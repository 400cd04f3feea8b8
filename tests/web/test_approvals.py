"""The approval chain, pure: each rule by example, then invariants over random sequences of actions (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.settings import Approvals, ApprovalStep
from web import approvals, drafts
from web.approvals import ApprovalError

T0 = 1_000_000.0
CARD = {"id": "c1", "type": "opportunity", "title": "Blackout", "post_id": "x:99"}
TWO_STEPS = Approvals(
    steps=[ApprovalStep(name="Brand lead", group="brand"), ApprovalStep(name="Legal", group="legal", mode="all")],
    groups={"brand": ["alice", "bob"], "legal": ["carol", "dave"]},
)
GROUPS = {"alice": ["brand"], "bob": ["brand"], "carol": ["legal"], "dave": ["legal"], "erin": ["brand", "legal"]}


def draft(text="Dunk in the dark.", author="dana", template=None):
    return drafts.new_draft(CARD, "x", text, author, T0, template=template)


def submitted(config=TWO_STEPS, **kw):
    return approvals.submit(draft(**kw), config, "dana", T0)


def test_steps_in_order_any_then_all():
    d = submitted()
    assert approvals.status(d, T0).state == "pending"
    assert approvals.next_step(d, T0)["name"] == "Brand lead"
    assert approvals.who_can_approve(d, T0)["users"] == ["alice", "bob"]
    with pytest.raises(ApprovalError, match="needs someone in brand"):
        approvals.approve(d, "carol", ["legal"], T0)
    d = approvals.approve(d, "alice", ["brand"], T0 + 1)
    assert approvals.next_step(d, T0 + 1)["name"] == "Legal"
    d = approvals.approve(d, "carol", ["legal"], T0 + 2)
    st_ = approvals.status(d, T0 + 2)
    assert st_.state == "pending" and "every member of legal" in st_.message
    assert approvals.who_can_approve(d, T0 + 2)["users"] == ["dave"]
    d = approvals.approve(d, "dave", ["legal"], T0 + 3)
    assert approvals.status(d, T0 + 3).state == "approved"
    assert approvals.status(d, T0 + 3).approvers == ("alice", "carol", "dave")
    assert approvals.next_step(d, T0 + 3) is None


def test_nobody_approves_their_own_draft_nor_an_edit_they_made():
    d = approvals.submit(draft(author="alice"), TWO_STEPS, "alice", T0)
    with pytest.raises(ApprovalError, match="someone else"):
        approvals.approve(d, "alice", ["brand"], T0)
    d = approvals.edit(d, "Dunk in the dark!", "bob", T0 + 1)
    d = approvals.submit(d, TWO_STEPS, "bob", T0 + 2)
    with pytest.raises(ApprovalError, match="someone else"):
        approvals.approve(d, "bob", ["brand"], T0 + 2)
    assert approvals.who_can_approve(d, T0 + 2)["users"] == []


def test_one_person_passes_one_step():
    config = Approvals(steps=[ApprovalStep(name="A", group="brand"), ApprovalStep(name="B", group="legal")])
    d = approvals.approve(submitted(config), "erin", GROUPS["erin"], T0)
    with pytest.raises(ApprovalError, match="already approved"):
        approvals.approve(d, "erin", GROUPS["erin"], T0)
    assert approvals.status(approvals.approve(d, "carol", ["legal"], T0), T0).state == "approved"


def test_all_step_needs_every_listed_member_but_the_author():
    d = approvals.submit(draft(author="carol"), TWO_STEPS, "carol", T0)
    d = approvals.approve(d, "bob", ["brand"], T0)
    d = approvals.approve(d, "dave", ["legal"], T0)
    assert approvals.status(d, T0).state == "approved"  # carol wrote it: dave is all of legal that may approve


def test_all_step_is_refused_to_unlisted_members():
    d = approvals.approve(submitted(), "alice", ["brand"], T0)
    with pytest.raises(ApprovalError, match="not listed"):
        approvals.approve(d, "zoe", ["legal"], T0)


def test_reject_needs_a_note_and_returns_to_the_author():
    d = approvals.approve(submitted(), "alice", ["brand"], T0)
    with pytest.raises(ApprovalError, match="needs a note"):
        approvals.reject(d, "carol", ["legal"], "  ", T0)
    with pytest.raises(ApprovalError, match="in the approval chain"):
        approvals.reject(d, "zed", ["social"], "no", T0)
    d = approvals.reject(d, "carol", ["legal"], "Too soon after the injury news", T0 + 5)
    st_ = approvals.status(d, T0 + 5)
    assert st_.state == "rejected" and "carol" in st_.message and "injury" in st_.message
    with pytest.raises(ApprovalError, match="Nothing to approve"):
        approvals.approve(d, "bob", ["brand"], T0 + 6)
    d = approvals.submit(approvals.edit(d, "Later.", "dana", T0 + 7), TWO_STEPS, "dana", T0 + 8)
    assert approvals.next_step(d, T0 + 8)["name"] == "Brand lead" and d["approval"]["approvals"] == []


def test_an_edit_after_approval_restarts_the_chain():
    d = approvals.approve(submitted(config=Approvals()), "alice", ["brand"], T0)
    assert approvals.status(d, T0).state == "approved"
    d = approvals.edit(d, "Dunk in the dark, again.", "dana", T0 + 1)
    assert approvals.status(d, T0 + 1).state == "drafting"
    with pytest.raises(ApprovalError):
        approvals.approve(d, "alice", ["brand"], T0 + 1)
    d = approvals.submit(d, Approvals(), "dana", T0 + 2)
    assert approvals.status(d, T0 + 2).state == "pending"


def test_approvals_expire():
    config = Approvals(expire_minutes=15)
    d = approvals.approve(submitted(config), "alice", ["brand"], T0)
    assert approvals.status(d, T0 + 15 * 60 - 1).state == "approved"
    late = approvals.status(d, T0 + 15 * 60)
    assert late.state == "pending" and late.expired == ("alice",) and "expired" in late.message
    d = approvals.approve(d, "alice", ["brand"], T0 + 15 * 60 + 1)  # may approve again
    assert approvals.status(d, T0 + 15 * 60 + 2).state == "approved"


def test_fast_lane_for_a_pre_approved_template_used_unchanged():
    template = {"id": "dunk", "text": "You can still dunk in the dark.", "pre_approved": True, "tags": []}
    d = approvals.submit(draft(template["text"], template=template), TWO_STEPS, "dana", T0)
    assert d["approval"]["fast_lane"] and len(d["approval"]["steps"]) == 1
    assert approvals.status(approvals.approve(d, "bob", ["brand"], T0), T0).state == "approved"
    changed = approvals.submit(draft(template["text"] + "!", template=template), TWO_STEPS, "dana", T0)
    assert not changed["approval"]["fast_lane"] and len(changed["approval"]["steps"]) == 2
    not_pre = {**template, "pre_approved": False}
    assert not approvals.submit(draft(template["text"], template=not_pre), TWO_STEPS, "dana", T0)["approval"][
        "fast_lane"
    ]


def test_sensitive_moment_adds_legal_for_playful_templates():
    config = Approvals(groups={"legal": ["carol"]})
    playful = {"id": "p", "text": "Dunk!", "pre_approved": True, "tags": ["playful"]}
    d = approvals.submit(draft("Dunk!", template=playful), config, "dana", T0, sensitive=True)
    assert [s["group"] for s in d["approval"]["steps"]] == ["brand", "legal"]
    d = approvals.approve(d, "alice", ["brand"], T0)
    assert approvals.status(d, T0).state == "pending" and approvals.who_can_approve(d, T0)["users"] == ["carol"]
    assert approvals.status(approvals.approve(d, "carol", ["legal"], T0), T0).state == "approved"
    calm = approvals.submit(draft("Dunk!", template=playful), config, "dana", T0, sensitive=False)
    assert [s["group"] for s in calm["approval"]["steps"]] == ["brand"]


def test_blocking_guardrail_findings_stop_submit_and_approve():
    from analytics.guardrails import Finding

    block = [Finding("banned_phrase", "block", ("guarantee",), "Remove “guarantee”.")]
    with pytest.raises(ApprovalError, match="guarantee"):
        approvals.submit(draft(), Approvals(), "dana", T0, findings=block)
    d = approvals.submit(draft(), Approvals(), "dana", T0, findings=[Finding("all_caps", "warn", (), "x")])
    with pytest.raises(ApprovalError, match="guarantee"):
        approvals.approve(d, "alice", ["brand"], T0, findings=block)


def test_published_drafts_cannot_move():
    d = {**approvals.approve(submitted(Approvals()), "alice", ["brand"], T0), "published": {"id": "1"}}
    assert approvals.status(d, T0).state == "published"
    with pytest.raises(ApprovalError):
        approvals.edit(d, "new", "dana", T0)
    with pytest.raises(ApprovalError):
        approvals.submit(d, Approvals(), "dana", T0)


def test_an_all_step_without_members_is_a_config_error():
    with pytest.raises(ValueError, match="list its members"):
        Approvals(steps=[ApprovalStep(name="Legal", group="legal", mode="all")])


# --- invariants over random action sequences
USERS = ["dana", "alice", "bob", "carol", "dave", "erin"]
action = st.one_of(
    st.tuples(st.just("submit"), st.sampled_from(USERS)),
    st.tuples(st.just("approve"), st.sampled_from(USERS)),
    st.tuples(st.just("reject"), st.sampled_from(USERS)),
    st.tuples(st.just("edit"), st.sampled_from(USERS)),
    st.tuples(st.just("wait"), st.sampled_from([1.0, 60.0, 901.0])),
)


def _run(actions, config):
    d, now = draft(author="dana"), T0
    for kind, arg in actions:
        now += 1
        try:
            if kind == "submit":
                d = approvals.submit(d, config, arg, now)
            elif kind == "approve":
                before = approvals.status(d, now).state
                d = approvals.approve(d, arg, GROUPS.get(arg, []), now)
                assert arg not in d["approval"]["authors"]
                assert before == "pending"
            elif kind == "reject":
                d = approvals.reject(d, arg, GROUPS.get(arg, []), "change it", now)
            elif kind == "edit":
                d = approvals.edit(d, f"text {now}", arg, now)
                # an edit always resets: nothing approved, no approvals left, not waiting on anyone
                assert d["approval"]["approvals"] == []
                assert approvals.status(d, now).state in ("drafting", "rejected")
            else:
                now += arg
        except ApprovalError:
            pass
        yield d, now


@settings(max_examples=300, deadline=None)
@given(st.lists(action, max_size=25), st.sampled_from([TWO_STEPS, Approvals(), Approvals(expire_minutes=1)]))
def test_invariants(actions, config):
    for d, now in _run(actions, config):
        a = d["approval"]
        st_ = approvals.status(d, now)
        if st_.state == "approved":
            # no self-approval ever completes a chain; every step is passed by people of its group
            authors = set(a["authors"])
            assert set(st_.approvers).isdisjoint(authors) and st_.approvers
            counted = [x for x in a["approvals"] if x["user"] in st_.approvers and x["revision"] == a["revision"]]
            for i, step in enumerate(a["steps"]):
                users = {x["user"] for x in counted if x["step"] == i and now - x["at"] < a["expire_s"]}
                assert users, f"step {i} passed without an approval"
                assert all(step["group"] in GROUPS[u] for u in users)
                if step["mode"] == "all":
                    assert set(step["members"]) - authors <= users
            # one person passes at most one step
            per_user = {}
            for x in counted:
                per_user.setdefault(x["user"], set()).add(x["step"])
            assert all(len(s) == 1 for s in per_user.values())
            # and an approval never outlives expire_s
            assert approvals.status(d, now + a["expire_s"]).state != "approved"
