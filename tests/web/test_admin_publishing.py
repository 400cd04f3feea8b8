"""The admin page's Publishing and Guardrails sections, called directly with real Services on the real embedded
Valkey, and "Publishing paused: <reason> (by X)" on the three screens (command center, wall, exec view).
Raw-request refusals for every caller are in test_permissions.py."""

from __future__ import annotations

import time

import flask
import pytest
from dash import no_update

from analytics.guardrails import rules_for
from auth.identity import Identity
from callbacks import admin as admin_callbacks
from callbacks import exec as exec_callbacks
from callbacks import live as live_callbacks
from callbacks import wall as wall_callbacks
from config.settings import load_settings
from layouts import ids
from store import audit, publishing
from store import guardrails as guard_store
from store import snapshot as snapshot_store
from web.services import build_services

ADA = Identity("ada", frozenset({"admin"}))
SAM = Identity("sam", frozenset({"strategist"}))
VIC = Identity("vic", frozenset({"viewer"}))
WALL = Identity("kiosk:k1", frozenset({"wall"}))
_CONTEXT_APP = flask.Flask("admin-publishing-tests")


def as_(ident, fn, *args):
    with _CONTEXT_APP.test_request_context("/_dash-update-component", method="POST"):
        flask.g.identity = ident
        return fn(*args)


@pytest.fixture
def s(r, tmp_path):
    return build_services(load_settings({"WARROOM_VAR": str(tmp_path / "var")}), r)


def written(s) -> tuple:
    return s.r.get(s.keys.publish_paused), s.r.get(s.keys.guardrails_override), s.r.xlen(s.keys.audit)


# Publishing ------------------------------------------------------------------------------------------------------


def test_pausing_needs_a_reason_and_says_so(s):
    for reason in (None, "", "   "):
        message, version = as_(ADA, admin_callbacks.pause_publishing, s, 1, reason, 0)
        assert "say why publishing is paused" in message and version is no_update
    assert written(s) == (None, None, 0)


def test_an_admin_pauses_and_resumes_and_the_page_shows_who_when_why(s):
    message, version = as_(ADA, admin_callbacks.pause_publishing, s, 1, "Injury on the field", 4)
    assert message.startswith("Publishing paused: Injury on the field") and version == 5
    state = publishing.paused(s.r, s.keys)
    assert state["by"] == "ada" and state["reason"] == "Injury on the field"
    entry = audit.query(s.r, s.keys, limit=1)[0]
    assert (entry["action"], entry["who"], entry["after"]) == ("publishing.pause", "ada", state)

    shown = str(as_(ADA, admin_callbacks.lists, s, 5)[0])
    assert "Publishing paused by ada at" in shown and "Injury on the field" in shown and "UTC" in shown

    message, version = as_(ADA, admin_callbacks.resume_publishing, s, 1, 5)
    assert "resumed" in message and "Injury on the field" in message and version == 6
    assert publishing.paused(s.r, s.keys) is None
    assert audit.query(s.r, s.keys, limit=1)[0]["action"] == "publishing.resume"
    assert "Publishing is on." in str(as_(ADA, admin_callbacks.lists, s, 6)[0])
    assert as_(ADA, admin_callbacks.resume_publishing, s, 1, 6) == ("Publishing was not paused.", no_update)


@pytest.mark.parametrize("ident", [SAM, VIC, WALL, None], ids=lambda i: getattr(i, "name", "nobody"))
def test_only_admins_pause_resume_or_edit_guardrails(s, ident):
    publishing.pause(s.r, s.keys, "seeded", ADA)
    before = written(s)
    assert "may not event.pause" in as_(ident, admin_callbacks.pause_publishing, s, 1, "mine", 0)[0]
    assert "may not event.pause" in as_(ident, admin_callbacks.resume_publishing, s, 1, 0)[0]
    assert "may not guardrails.edit" in as_(ident, admin_callbacks.save_guardrails, s, 1, "x", "", "", "", 0)[0]
    assert "may not guardrails.edit" in as_(ident, admin_callbacks.reset_guardrails, s, 1, 0)[0]
    assert "may not" in as_(ident, admin_callbacks.guardrails_form, s, 0)[0]
    assert written(s) == before


# Guardrails ------------------------------------------------------------------------------------------------------


def test_the_form_opens_with_the_guardrails_in_force(s):
    note, banned, topics, domains, competitors = as_(ADA, admin_callbacks.guardrails_form, s, 0)
    assert note == "" and banned.splitlines() == ["guarantee", "cure", "politics", "tragedy"]
    assert domains == "oreo.com" and "Chips Ahoy: chipsahoy" in competitors.splitlines()
    assert "In force: the event file's guardrails." in str(as_(ADA, admin_callbacks.lists, s, 0)[1])


def test_saving_validates_stores_the_override_and_refills_the_form(s):
    out = as_(ADA, admin_callbacks.save_guardrails, s, 1, "guarantee", "", "https://oreo.com/deals", "", 0)
    assert (
        out[0]
        == "Not saved: Allowed link domains: “https://oreo.com/deals” is not a domain; write just the host, e.g. “oreo.com”"
    )
    assert out[1:] == [no_update] * 5 and written(s) == (None, None, 0)

    out = as_(
        ADA, admin_callbacks.save_guardrails, s, 1, "guarantee\nFree cookies", "Referees", "oreo.com", "Hydrox", 2
    )
    assert out[0].startswith("Guardrails saved") and out[1] == 3
    assert out[2:] == ["guarantee\nFree cookies", "referees", "oreo.com", "Hydrox"]
    rules = guard_store.effective(s.r, s.keys, s.settings.event)
    assert rules.banned_phrases == ("guarantee", "Free cookies") and rules.competitors == (("Hydrox", ("hydrox",)),)
    entry = audit.query(s.r, s.keys, limit=1)[0]
    assert entry["action"] == "guardrails.set" and entry["who"] == "ada"
    assert "cure" in entry["before"]["banned_phrases"] and entry["after"]["banned_phrases"] == [
        "guarantee",
        "Free cookies",
    ]
    state = str(as_(ADA, admin_callbacks.lists, s, 3)[1])
    assert "set by ada" in state and "Banned phrases" in state

    out = as_(ADA, admin_callbacks.reset_guardrails, s, 1, 3)
    assert out[0] == "Back to the event file's guardrails." and out[1] == 4
    assert out[2].splitlines() == list(rules_for(s.settings.event).banned_phrases)
    assert guard_store.override(s.r, s.keys) is None
    assert audit.query(s.r, s.keys, limit=1)[0]["action"] == "guardrails.clear"
    assert as_(ADA, admin_callbacks.reset_guardrails, s, 1, 4)[:2] == [
        "The event file's guardrails are already in force.",
        no_update,
    ]


def test_no_click_writes_nothing(s):
    assert as_(ADA, admin_callbacks.pause_publishing, s, 0, "why", 0) == (no_update, no_update)
    assert as_(ADA, admin_callbacks.save_guardrails, s, None, "x", "", "", "", 0) == [no_update] * 6
    assert written(s) == (None, None, 0)


# Every screen shows the pause --------------------------------------------------------------------------------------


def snap(s, version: int) -> None:
    now = time.time()
    body = {"version": version, "built_at": now, "feed": [], "feed_by_source": {}, "alerts": [], "storylines": []}
    body |= {"pipeline": {"data_age_s": 1.0}, "sources": {}, "volume": {"t": [], "series": {}, "kinds": {}}}
    snapshot_store.write(s.r, s.keys, body, version)
    s.snapshots._checked = 0.0  # the reader looks at most every 0.2 s: let it look now


def shown(s) -> dict[str, str]:
    """What each screen says about publishing for the current snapshot."""
    head = as_(SAM, live_callbacks.screen, s, 0, -1, None, "all", 0, "/", None)
    header = head[len(live_callbacks.HEAD) + live_callbacks.PANELS.index((ids.HEADER_STATUS, "children"))]
    wall = as_(WALL, wall_callbacks.wall_screen, s, 0, 28)
    exec_ = as_(VIC, exec_callbacks.exec_screen, s, 0)
    return {
        "command center": str(header),
        "wall": wall[-2] if wall[-1] is False else "",
        "exec": exec_[-2] if exec_[-1] is False else "",
    }


def test_every_screen_shows_the_pause_from_the_next_snapshot_and_drops_it_after_resume(s):
    snap(s, 1)
    assert all("paused" not in text for text in shown(s).values())
    publishing.pause(s.r, s.keys, "Injury on the field", ADA)
    # read once per snapshot version: the screens say it with the next snapshot (about a second)
    assert all("paused" not in text for text in shown(s).values())
    snap(s, 2)
    for screen, text in shown(s).items():
        assert "Publishing paused: Injury on the field (by ada)" in text, screen
    publishing.resume(s.r, s.keys, ADA)
    snap(s, 3)
    assert all("paused" not in text for text in shown(s).values())


def test_the_pause_is_read_once_per_snapshot_for_every_screen(s, monkeypatch):
    snap(s, 1)
    publishing.pause(s.r, s.keys, "Hold", ADA)
    reads = []
    real = publishing.paused
    monkeypatch.setattr(publishing, "paused", lambda r, keys: reads.append(1) or real(r, keys))
    snap(s, 2)
    for _ in range(3):
        shown(s)
    assert len(reads) == 1
