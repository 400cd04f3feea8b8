"""Guardrail findings: each rule names the words, says what to change, and blocks or warns."""

from __future__ import annotations

from analytics.guardrails import BLOCK, WARN, Context, check, rules_for, sensitive_moment, violations
from config.settings import load_event
from tests.conftest import ROOT

EVENT = load_event(ROOT / "config" / "superbowl.yaml")
RULES = rules_for(EVENT)


def _draft(text, network="x", **kw):
    return {"text": text, "network": network, **kw}


def _rules(findings):
    return {f.rule: f for f in findings}


def test_violations_still_works_for_the_card_workflow():
    assert violations("We GUARANTEE it", ["guarantee", "cure"]) == ["guarantee"]
    assert violations("guaranteed", ["guarantee"]) == []


def test_a_clean_draft_has_no_findings():
    assert check(_draft("You can still dunk in the dark."), Context(), RULES) == []


def test_banned_phrase_and_topic_block_and_name_the_words():
    found = _rules(check(_draft("We guarantee no politics tonight"), Context(), RULES))
    assert found["banned_phrase"].severity == BLOCK and set(found["banned_phrase"].words) == {"guarantee", "politics"}
    assert "Remove" in found["banned_phrase"].message and "guarantee" in found["banned_phrase"].message
    topic = _rules(check(_draft("Thoughts on the referees?"), Context(), RULES))["topic"]
    assert topic.severity == BLOCK and topic.words == ("referees",)


def test_length_over_the_network_limit_blocks_with_how_much_to_cut():
    f = _rules(check(_draft("日" * 141), Context(), RULES))["length"]
    assert f.severity == BLOCK and "Cut 2 characters" in f.message and "280" in f.message
    assert "length" not in _rules(check(_draft("日" * 141, network="bluesky"), Context(), RULES))


def test_links_only_to_allowed_domains():
    f = _rules(check(_draft("More at https://evil.example/x and https://www.oreo.com/dark"), Context(), RULES))
    assert f["link_domain"].severity == BLOCK and f["link_domain"].words == ("https://evil.example/x",)
    img = _draft("Look", image={"url": "https://cdn.evil.example/a.png", "alt": "a cookie"})
    f = _rules(check(img, Context(), RULES))
    assert "link_domain" not in f  # the text has no link; the image has its own finding, naming the same rule
    assert f["image_domain"].severity == BLOCK and f["image_domain"].words == ("https://cdn.evil.example/a.png",)
    assert "allowed domains" in f["image_domain"].message and "oreo.com" in f["image_domain"].message
    ok = _draft("Look", image={"url": "https://images.oreo.com/a.png", "alt": "a cookie"})
    assert "image_domain" not in _rules(check(ok, Context(), RULES))


def test_competitors_are_named():
    f = _rules(check(_draft("Better than Chips Ahoy, ask @chipsahoy"), Context(conversation=("chipsahoy",)), RULES))
    assert f["competitor"].severity == WARN and "Chips Ahoy" in f["competitor"].message


def test_all_caps_warns_naming_the_words():
    f = _rules(check(_draft("WE ARE SO BACK #SUPERBOWL NFL"), Context(), RULES))["all_caps"]
    assert f.severity == WARN and f.words == ("WE", "ARE", "SO", "BACK", "NFL")  # hashtags are not shouting
    assert "all_caps" not in _rules(check(_draft("Go NFL fans"), Context(), RULES))


def test_negative_tone_names_the_negative_words():
    f = _rules(check(_draft("This is a terrible, awful night"), Context(), RULES))["negative_tone"]
    assert f.severity == WARN and set(f.words) == {"terrible", "awful"}


def test_mentions_outside_the_framed_conversation():
    ctx = Context(conversation=("fan", "friend@example.social"))
    f = _rules(check(_draft("@fan @friend @oreo @stranger hi"), ctx, RULES))["mention"]
    assert f.words == ("@stranger",)  # the framed author, someone it mentioned, the brand itself are fine


def test_sensitive_moment_lock_on_playful_templates():
    alert = {"kind": "spike", "title": "Player injury on the field", "subject": "volume"}
    ctx = Context(open_alerts=(alert,))
    assert sensitive_moment(ctx, RULES) == ("injury",)
    playful = _draft("Dunk!", template={"tags": ["playful"]})
    f = _rules(check(playful, ctx, RULES))["sensitive_moment"]
    assert f.words == ("injury",) and "legal" in f.message
    assert "sensitive_moment" not in _rules(check(_draft("Dunk!", template={"tags": ["calm"]}), ctx, RULES))
    acked = Context(open_alerts=({**alert, "acked_by": "alice"},))
    assert sensitive_moment(acked, RULES) == ()
    watch = Context(open_alerts=({"kind": "watch_word", "subject": "recall", "title": "Watch-word 'recall'"},))
    assert sensitive_moment(watch, RULES) == ("recall",)
    story = Context(storylines=({"label": ["stadium", "safety", "evacuation"]},))
    assert sensitive_moment(story, RULES) == ("evacuation", "safety")


def test_blocking_findings_come_first_and_image_needs_alt_text():
    found = check(_draft("I guarantee it", image={"url": "https://www.oreo.com/a.png", "alt": ""}), Context(), RULES)
    assert found[0].severity == BLOCK and found[-1].rule == "alt_text"
