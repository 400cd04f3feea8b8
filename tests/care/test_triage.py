"""Care triage, cases, timers and escalation, pure (analytics/care.py)."""

from __future__ import annotations

import pytest

from analytics import care
from analytics.care import CareModel, InvalidModel, Triager
from config.settings import ROOT, load_event

EVENT = load_event(ROOT / "config" / "superbowl.yaml")
CFG = EVENT.care
T0 = 1_000_000.0


@pytest.fixture(scope="module")
def triager() -> Triager:
    return Triager(EVENT)


def item(pid: str, text: str, kind: str, at: float = T0, handle: str = "fan1", followers: int = 100, safety=()):
    return {
        "post": {
            "id": pid,
            "source": "bluesky",
            "url": None,
            "text": text,
            "reply_to": None,
            "author": {"handle": handle, "name": handle, "followers": followers, "verified": False},
        },
        "kind": kind,
        "reasons": [f"{kind}: test"],
        "safety": list(safety),
        "sentiment": -0.5,
        "at": at,
    }


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("@oreo my pack arrived crushed, every cookie broken", "complaint"),
        ("lol @oreo my pack arrived crushed", "complaint"),  # a hard complaint survives a joke marker
        ("I hate how good this Oreo ad is lol", "none"),  # sarcasm: a soft word halved by the joke
        ("where can i find Oreo Double Stuf in Austin?", "question"),
        ("found something sharp in my Oreo cookies", "safety"),
        ("love the new Oreo flavor", "praise"),
        ("Just dunked an Oreo in milk during the game", "none"),
    ],
)
def test_rules_from_the_event_file(triager, text, kind):
    t = triager.one(text, ["oreo"] if "@oreo" in text else [])
    assert t.kind == kind
    if kind != "none":
        assert t.reasons, "a triaged post says why"


def test_safety_words_always_win_even_over_a_model_taught_otherwise(triager):
    model = CareModel()
    for _ in range(5):
        model.learn(["found something sharp in my cookies", "my pack arrived crushed"], ["none", "complaint"])
    t = triager.one("found something sharp in my Oreo cookies", [], model)
    assert t.kind == "safety" and t.safety == ("sharp",)


def test_a_model_taught_safety_flags_a_complaint_but_only_safety_words_raise_safety(triager):
    model = CareModel()
    for _ in range(5):  # a case corrected (or confirmed) as safety: the model learns the kind like any other
        model.learn(["my kid got sick after eating these oreo", "love the new Oreo flavor"], ["safety", "praise"])
    t = triager.one("my kid got sick after eating these oreo", [], model)
    assert t.kind == "complaint" and t.safety == ()
    assert any(r.startswith("learned: safety") for r in t.reasons)


def test_corrections_teach_the_model_and_it_survives_a_round_trip(triager):
    text = "thanks a lot Oreo, love how I can't stop eating 🙄"
    assert triager.one(text).kind == "praise"  # the rules see "love"
    model = CareModel()
    model.learn([text, "love the new Oreo flavor, best snack"], ["none", "praise"])
    for _ in range(4):
        model.learn([text], ["none"])
    restored = CareModel.from_bytes(model.to_bytes())
    t = triager.one(text, [], restored)
    assert t.kind == "none"
    assert any(r.startswith("learned: none") for r in t.reasons)
    assert restored.corrections == model.corrections == 6
    again = CareModel.from_bytes(restored.to_bytes())  # saved again before its classifier was used: the same
    assert again.predict([text, "where is my order"]) == model.predict([text, "where is my order"])
    with pytest.raises(InvalidModel):
        CareModel.from_bytes(b"\x80\x04pickle")


def test_cases_fold_an_authors_posts_once_and_a_resolved_case_starts_over():
    a = care.fold(None, item("bluesky:1", "crushed pack", "complaint"))
    b = care.fold(a, item("bluesky:2", "still waiting", "complaint", T0 + 60))
    assert len(b["posts"]) == 2 and b["id"] == a["id"] and b["opened_at"] == T0
    assert care.fold(b, item("bluesky:2", "still waiting", "complaint", T0 + 60)) is b  # re-delivered: no change
    c = care.fold(b, item("bluesky:3", "sharp thing", "safety", T0 + 90, safety=["sharp"]))
    assert c["kind"] == "safety" and c["safety"] == ["sharp"]
    assert care.fold(None, item("bluesky:4", "love it", "praise")) is None  # thanks alone opens no case
    resolved = {**c, "state": care.RESOLVED}
    fresh = care.fold(resolved, item("bluesky:5", "refund please", "complaint", T0 + 999))
    assert fresh["id"] != c["id"] and len(fresh["posts"]) == 1


def test_folding_a_ticks_posts_at_once_matches_one_by_one_and_leaves_the_read_cases_alone():
    replied = {**care.fold(None, item("bluesky:1", "crushed pack", "complaint")), "state": care.REPLIED}
    other = care.fold(None, item("bluesky:9", "where to buy", "question", handle="fan2"))
    before = repr([replied, other])
    items = [
        item("bluesky:2", "still crushed", "complaint", T0 + 10),
        item("bluesky:2", "still crushed", "complaint", T0 + 10),  # re-delivered in the same tick
        item("bluesky:3", "and sharp", "safety", T0 + 20, safety=["sharp"]),
        item("bluesky:4", "me too", "complaint", T0 + 30, handle="fan3"),
        item("bluesky:5", "and another", "complaint", T0 + 40, handle="fan3"),
    ]
    by_id, changed = care.fold_all([replied, other], items)
    assert repr([replied, other]) == before, "the cases read from the store are not changed in place"
    one_by_one: dict = {}
    for it in items:
        handle = it["post"]["author"]["handle"]
        current = one_by_one.get(handle) or {"fan1": replied, "fan2": other}.get(handle)
        one_by_one[handle] = care.fold(current, it) or current
    assert sorted(changed) == sorted(c["id"] for h, c in one_by_one.items() if h in ("fan1", "fan3"))
    for c in one_by_one.values():
        assert by_id[c["id"]] == c
    mine = by_id[replied["id"]]
    assert [p["id"] for p in mine["posts"]] == ["bluesky:1", "bluesky:2", "bluesky:3"]
    assert mine["state"] == care.NEW and mine["kind"] == "safety"  # the customer wrote again after our reply


def test_timer_warns_before_the_target_and_breaches_after():
    case = care.fold(None, item("bluesky:1", "crushed", "complaint"))  # 15 min target, warn at 70 %
    assert care.timer(case, CFG, T0 + 60)["status"] == "ok"
    assert care.timer(case, CFG, T0 + 0.75 * 900)["status"] == "warning"
    late = care.timer(case, CFG, T0 + 901)
    assert late["status"] == "breached" and late["left_s"] < 0


def test_escalation_at_once_for_safety_and_on_a_missed_target_once():
    safety = care.fold(None, item("bluesky:1", "sharp", "safety", safety=["sharp"]))
    assert care.escalation_due(safety, CFG, T0) == "safety"
    done = care.escalate(safety, "legal", "safety", "system", T0)
    assert done["state"] == care.ESCALATED and care.escalation_due(done, CFG, T0 + 10) is None
    assert CFG.escalation_target("safety") == "legal" and CFG.escalation_target("question") == "care-lead"
    complaint = care.fold(None, item("bluesky:2", "crushed", "complaint"))
    assert care.escalation_due(complaint, CFG, T0 + 899) is None
    assert care.escalation_due(complaint, CFG, T0 + 901) == "breach"
    answered = {**complaint, "first_response_at": T0 + 100}
    assert care.escalation_due(answered, CFG, T0 + 5000) is None


def test_lane_puts_safety_on_top_then_urgency():
    big = care.fold(None, item("bluesky:1", "crushed", "complaint", handle="star", followers=5_000_000))
    small_q = care.fold(None, item("bluesky:2", "where can i buy", "question", handle="q"))
    safety = care.fold(None, item("bluesky:3", "sharp", "safety", handle="s", followers=3, safety=["sharp"]))
    order = [c["author"]["handle"] for c in care.lane([small_q, big, safety], CFG, T0 + 30)]
    assert order == ["s", "star", "q"]


def test_tick_decides_escalations_with_alerts_and_the_snapshot_numbers():
    inputs = care.CareInputs(
        items=[
            item("bluesky:1", "sharp", "safety", safety=["sharp"]),
            item("bluesky:2", "crushed", "complaint", handle="b"),
        ],
        response_s=[60.0, 120.0, 600.0],
        stats={"breaches": 1},
    )
    built = care.tick(CFG, inputs, CareModel(), T0 + 5)
    assert [(r, to) for _, r, to in built.escalations] == [("safety", "legal")]
    assert built.alerts[0]["severity"] == "critical" and built.alerts[0]["escalated_to"] == "legal"
    m = built.snap["metrics"]
    assert m["backlog"] == 2 and m["safety_open"] == 1 and m["first_response_p50_s"] == 120.0
    assert m["breaches"] == 1 and built.snap["cases"][0]["kind"] == "safety"
