"""store/guardrails.py and the audited pause on the real embedded Valkey: the override replaces the event file's
lists it holds, is validated with errors that say what to write, and every change lands in the audit trail with
its before and after."""

from __future__ import annotations

import pytest

from analytics.guardrails import Context, check, rules_for
from auth.identity import Identity
from config.settings import load_event
from store import audit, publishing
from store import guardrails as g
from tests.conftest import ROOT

EVENT = load_event(ROOT / "config" / "superbowl.yaml")
ADA = Identity("ada", frozenset({"admin"}))


def test_without_an_override_the_event_file_applies(r, keys):
    assert g.override(r, keys) is None
    assert g.effective(r, keys, EVENT) == rules_for(EVENT)


def test_an_override_replaces_the_lists_it_holds_and_is_audited_with_before_and_after(r, keys):
    g.set_override(
        r,
        keys,
        {
            "banned_phrases": "guarantee\nfree cookies\nGuarantee",
            "allowed_domains": "oreo.com\n*.mondelez.com",
            "competitors": "Chips Ahoy: #chipsahoy, chips ahoy\nHydrox",
        },
        EVENT,
        actor=ADA,
    )
    rules = g.effective(r, keys, EVENT)
    assert rules.banned_phrases == ("guarantee", "free cookies")  # "cure" taken out, a duplicate dropped
    assert rules.topics_to_avoid == rules_for(EVENT).topics_to_avoid  # not in the override: the event file's
    assert rules.allowed_domains == ("oreo.com", "mondelez.com")
    assert rules.competitors == (("Chips Ahoy", ("chips ahoy", "chipsahoy")), ("Hydrox", ("hydrox",)))
    entry = audit.query(r, keys, action="guardrails.set", limit=1)[0]
    assert entry["who"] == "ada" and entry["roles"] == ["admin"] and entry["object_type"] == "guardrails"
    assert "cure" in entry["before"]["banned_phrases"] and "cure" not in entry["after"]["banned_phrases"]
    assert [c["name"] for c in entry["after"]["competitors"]] == ["Chips Ahoy", "Hydrox"]

    # the check reads the effective rules: the new phrase blocks, the removed one no longer does
    found = {f.rule: f for f in check({"text": "Free cookies, a cure for Monday", "network": "x"}, Context(), rules)}
    assert found["banned_phrase"].words == ("free cookies",)
    found = {f.rule for f in check({"text": "Hydrox who?", "network": "x"}, Context(), rules)}
    assert "competitor" in found

    # a second change keeps the lists it does not name
    g.set_override(r, keys, {"topics_to_avoid": "Referees"}, EVENT, actor=ADA)
    rules = g.effective(r, keys, EVENT)
    assert rules.topics_to_avoid == ("referees",) and rules.banned_phrases == ("guarantee", "free cookies")

    assert g.clear_override(r, keys, EVENT, actor=ADA) is True
    assert g.effective(r, keys, EVENT) == rules_for(EVENT)
    cleared = audit.query(r, keys, action="guardrails.clear", limit=1)[0]
    assert cleared["before"]["topics_to_avoid"] == ["referees"] and "cure" in cleared["after"]["banned_phrases"]
    assert g.clear_override(r, keys, EVENT, actor=ADA) is False  # nothing to clear: nothing written
    assert len(audit.query(r, keys, action="guardrails.", limit=10)) == 3


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"allowed_domains": "https://oreo.com/deals"}, "write just the host, e.g. “oreo.com”"),
        ({"allowed_domains": "not a domain"}, "is not a domain name"),
        ({"banned_phrases": "x" * 81}, "longer than 80"),
        ({"competitors": ": milano"}, "has no name"),
        ({"competitors": "Milano\nmilano: pepperidge"}, "listed twice"),
        ({"banned_phrases": "\n".join(f"p{i}" for i in range(201))}, "at most 200"),
        ({"colour": "red"}, "unknown guardrail field"),
        ({}, "nothing to change"),
    ],
)
def test_bad_input_is_refused_with_what_to_change_and_nothing_is_written(r, keys, values, message):
    with pytest.raises(ValueError, match=message):
        g.set_override(r, keys, values, EVENT, actor=ADA)
    assert g.override(r, keys) is None and audit.query(r, keys, limit=1) == []


def test_the_form_text_round_trips(r, keys):
    text = g.as_text(rules_for(EVENT))
    assert "Milano: milanos, pepperidge farm" in text["competitors"].splitlines()  # the name is not repeated
    g.set_override(r, keys, text, EVENT, actor=ADA)
    assert g.effective(r, keys, EVENT) == rules_for(EVENT)


def test_pause_and_resume_are_audited_in_the_same_write(r, keys):
    state = publishing.pause(r, keys, "  Injury on the field ", ADA, now=10.0)
    assert state == {"reason": "Injury on the field", "by": "ada", "at": 10.0}
    assert publishing.paused(r, keys) == state
    entry = audit.query(r, keys, action="publishing.pause", limit=1)[0]
    assert entry["who"] == "ada" and entry["before"] is None and entry["after"] == state
    publishing.pause(r, keys, "Still checking", ADA, now=11.0)  # a new reason replaces the old, audited too
    again = audit.query(r, keys, action="publishing.pause", limit=1)[0]
    assert again["before"]["reason"] == "Injury on the field" and again["after"]["reason"] == "Still checking"
    ended = publishing.resume(r, keys, ADA)
    assert ended["reason"] == "Still checking" and publishing.paused(r, keys) is None
    resumed = audit.query(r, keys, action="publishing.resume", limit=1)[0]
    assert resumed["who"] == "ada" and resumed["before"]["reason"] == "Still checking"
    assert publishing.resume(r, keys, ADA) is None  # not paused: nothing written
    assert len(audit.query(r, keys, action="publishing.", limit=10)) == 3
    with pytest.raises(ValueError, match="why"):
        publishing.pause(r, keys, "   ", ADA)
    assert publishing.paused(r, keys) is None
