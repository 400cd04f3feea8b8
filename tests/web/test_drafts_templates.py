"""Drafts (network, reply or quote of the framed post, image) and the template library."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.settings import ConfigError, EventConfig, Template, load_event
from tests.conftest import ROOT
from web import drafts, templates

NOW = datetime(2026, 2, 8, 23, 45, tzinfo=UTC)
CARD = {
    "id": "c1",
    "type": "opportunity",
    "title": "the blackout",
    "post_id": "bluesky:at://did:plc:f/app.bsky.feed.post/3k",
    "post_handle": "fan.bsky.social",
}


def test_reply_and_quote_only_on_the_framed_posts_network():
    d = drafts.new_draft(CARD, "bluesky", " Dunk anyway ", "dana", 1.0, respond_as="reply")
    assert d["reply_to"] == "at://did:plc:f/app.bsky.feed.post/3k" and d["text"] == "Dunk anyway"
    assert drafts.new_draft(CARD, "bluesky", "q", "dana", 1.0, respond_as="quote")["quote_of"].startswith("at://")
    with pytest.raises(ValueError, match="network the framed post came from"):
        drafts.new_draft(CARD, "x", "Dunk", "dana", 1.0, respond_as="reply")
    assert drafts.framed_on({"post_id": "x:123"}, "x") == "123"
    assert drafts.framed_on({"post_id": "x:123"}, "mastodon") is None


def test_draft_validation_says_what_to_fix():
    for kwargs, words in [
        ({"network": "myspace"}, "network must be one of"),
        ({"text": "  "}, "no text"),
        ({"author": ""}, "author"),
        ({"image_url": "javascript:alert(1)"}, "http"),
    ]:
        args = {"network": "x", "text": "hi", "author": "dana", **kwargs}
        image = args.pop("image_url", None)
        with pytest.raises(ValueError, match=words):
            drafts.new_draft(CARD, args["network"], args["text"], args["author"], 1.0, image_url=image)
    d = drafts.new_draft(
        CARD, "mastodon", "hi", "dana", 1.0, image_url="https://www.oreo.com/a.png", image_alt="A cookie"
    )
    assert d["image"] == {"url": "https://www.oreo.com/a.png", "alt": "A cookie"}
    for alt in (None, "", "   \n"):
        with pytest.raises(ValueError, match="describe the image in its alt text: people using screen readers"):
            drafts.new_draft(CARD, "x", "hi", "dana", 1.0, image_url="https://www.oreo.com/a.png", image_alt=alt)
    with pytest.raises(ValueError, match="keep it under 1000"):
        drafts.new_draft(CARD, "x", "hi", "dana", 1.0, image_url="https://www.oreo.com/a.png", image_alt="a" * 1001)
    assert drafts.new_draft(CARD, "x", "hi", "dana", 1.0, image_url="  ", image_alt="ignored")["image"] is None


def test_measure_uses_the_networks_counting():
    d = drafts.new_draft(CARD, "x", "日" * 141, "dana", 1.0)
    assert drafts.measure(d) == {"length": 282, "limit": 280, "over": 2}
    assert drafts.measure({**d, "network": "bluesky"}) == {"length": 141, "limit": 300, "over": 0}


def _t(**kw):
    base = {"id": "dunk", "name": "Dunk", "text": "{handle} you can still dunk in the dark with {brand}"}
    return Template.model_validate({**base, **kw})


def test_offered_filters_network_card_type_and_validity():
    lib = [
        _t(id="any"),
        _t(id="xonly", networks=["x"]),
        _t(id="threat", card_type="threat"),
        _t(id="expired", valid_until="2026-02-08T23:00:00Z"),
        _t(id="later", valid_from="2026-02-09T00:00:00Z"),
        _t(id="now", valid_from="2026-02-08T23:00:00Z", valid_until="2026-02-09T01:00:00Z"),
    ]
    assert [t.id for t in templates.offered(lib, "bluesky", "opportunity", NOW)] == ["any", "now"]
    assert [t.id for t in templates.offered(lib, "x", "threat", NOW)] == ["any", "xonly", "threat", "now"]


def test_render_fills_placeholders_or_names_the_missing_one():
    t = _t(text="{handle}: {brand} saw {moment}")
    assert templates.render(t, brand="Oreo", handle="fan", moment="the blackout") == "@fan: Oreo saw the blackout"
    with pytest.raises(ValueError, match=r"\{handle\}"):
        templates.render(t, brand="Oreo", moment="x")
    filled = templates.fill(_t(pre_approved=True, tags=["Playful"]), CARD, "Oreo")
    assert filled == {
        "id": "dunk",
        "text": "@fan.bsky.social you can still dunk in the dark with Oreo",
        "pre_approved": True,
        "tags": ["playful"],
    }
    d = drafts.new_draft(CARD, "x", filled["text"], "dana", 1.0, template=filled)
    assert drafts.from_template_unchanged(d)


def test_template_validation():
    with pytest.raises(ValueError, match="unknown placeholder"):
        _t(text="{team} wins")
    with pytest.raises(ValueError, match="after valid_from"):
        _t(valid_from="2026-02-09T00:00:00Z", valid_until="2026-02-08T00:00:00Z")


def test_library_reads_the_event_file_and_the_file_it_names(tmp_path):
    event = load_event(ROOT / "config" / "superbowl.yaml")
    lib = templates.library(event, ROOT / "config" / "superbowl.yaml")
    assert {"dunk-in-the-dark", "sorry-for-the-wait"} <= {t.id for t in lib}
    assert len(lib) > len(event.publishing.templates)  # superbowl-templates.yaml adds more
    (tmp_path / "t.yaml").write_text("- {id: dunk-in-the-dark, name: again, text: hi}\n")
    raw = event.model_dump()
    raw["publishing"]["templates_file"] = "t.yaml"
    dup = EventConfig.model_validate(raw)
    with pytest.raises(ConfigError, match="unique"):
        templates.library(dup, tmp_path / "event.yaml")
    raw["publishing"]["templates_file"] = "missing.yaml"
    with pytest.raises(ConfigError, match="not found"):
        templates.library(EventConfig.model_validate(raw), tmp_path / "event.yaml")
