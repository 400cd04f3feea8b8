"""The room's guardrails at runtime: the event file's, with an admin's override on top.

    effective(r, keys, event) -> analytics.guardrails.Rules   # the one place a guardrail check gets its rules
    override(r, keys)         -> dict | None                  # what an admin set (and who, when), or None
    set_override(r, keys, values, event, actor=ident)          # validated; audited with before and after
    clear_override(r, keys, actor=ident)                       # back to the event file; audited

The override holds the four lists an admin edits: banned phrases, topics to avoid, allowed link domains and
competitor names (with the phrases that name them). Each list in the override *replaces* the event file's list of
that name (so a phrase can be taken out as well as added); a list it does not hold comes from the event file, as do
the rest of the rules (sensitive words, tone, all-caps, handles). Changing a competitor here changes what the
guardrail warns about, not what the room tracks.
"""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Any

import orjson
import redis

from analytics.guardrails import Rules, rules_for
from store import audit
from store.keys import Keys

FIELDS = ("banned_phrases", "topics_to_avoid", "allowed_domains", "competitors")
LABELS = {
    "banned_phrases": "Banned phrases",
    "topics_to_avoid": "Topics to avoid",
    "allowed_domains": "Allowed link domains",
    "competitors": "Competitors",
}
MAX_ITEMS = 200
MAX_PHRASE = 80
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


# --- validation: one line per item, errors that say which line and what to write instead
def _lines(text: str | list | None) -> list[str]:
    if text is None:
        return []
    items = text if isinstance(text, list) else str(text).splitlines()
    return [str(i).strip() for i in items if str(i).strip()]


def _phrases(field: str, text, lower: bool) -> list[str]:
    out: list[str] = []
    for line in _lines(text):
        if len(line) > MAX_PHRASE:
            raise ValueError(f"{LABELS[field]}: “{line[:30]}…” is longer than {MAX_PHRASE} characters")
        if lower:
            line = line.lower()
        if line.lower() not in {o.lower() for o in out}:
            out.append(line)
    if len(out) > MAX_ITEMS:
        raise ValueError(f"{LABELS[field]}: at most {MAX_ITEMS} entries ({len(out)} given)")
    return out


def _domains(text) -> list[str]:
    out: list[str] = []
    for line in _lines(text):
        d = line.lower().rstrip(".")
        if "://" in d or "/" in d or "@" in d:
            host = re.sub(r"^[a-z]+://", "", d).split("/")[0].split("@")[-1]
            raise ValueError(f"Allowed link domains: “{line}” is not a domain; write just the host, e.g. “{host}”")
        if d.startswith("*."):
            d = d[2:]  # subdomains are always allowed
        if not DOMAIN_RE.match(d):
            raise ValueError(f"Allowed link domains: “{line}” is not a domain name (e.g. oreo.com)")
        if d not in out:
            out.append(d)
    if len(out) > MAX_ITEMS:
        raise ValueError(f"Allowed link domains: at most {MAX_ITEMS} entries ({len(out)} given)")
    return out


def _competitors(text) -> list[dict]:
    """One per line: "Name" or "Name: phrase, phrase" (the name itself always counts as a phrase)."""
    out: list[dict] = []
    for line in _lines(text):
        name, _, rest = line.partition(":")
        name = name.strip()
        if not name:
            raise ValueError(f"Competitors: “{line}” has no name before the colon; write “Name: phrase, phrase”")
        if len(name) > MAX_PHRASE:
            raise ValueError(f"Competitors: the name “{name[:30]}…” is longer than {MAX_PHRASE} characters")
        phrases = [p.strip().lstrip("#@").lower() for p in rest.split(",") if p.strip().lstrip("#@")]
        if any(len(p) > MAX_PHRASE for p in phrases):
            raise ValueError(f"Competitors: a phrase for {name} is longer than {MAX_PHRASE} characters")
        if any(c["name"].lower() == name.lower() for c in out):
            raise ValueError(f"Competitors: {name} is listed twice; put all its phrases on one line")
        out.append({"name": name, "phrases": list(dict.fromkeys([name.lower(), *phrases]))})
    if len(out) > MAX_ITEMS:
        raise ValueError(f"Competitors: at most {MAX_ITEMS} entries ({len(out)} given)")
    return out


def parse(values: dict) -> dict:
    """The four fields from an admin's text (one item per line) or lists; ValueError says what to change.
    A field missing from `values` is left out (the event file's applies)."""
    out: dict = {}
    if "banned_phrases" in values:
        out["banned_phrases"] = _phrases("banned_phrases", values["banned_phrases"], lower=False)
    if "topics_to_avoid" in values:
        out["topics_to_avoid"] = _phrases("topics_to_avoid", values["topics_to_avoid"], lower=True)
    if "allowed_domains" in values:
        out["allowed_domains"] = _domains(values["allowed_domains"])
    if "competitors" in values:
        out["competitors"] = _competitors(values["competitors"])
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ValueError(f"unknown guardrail field(s) {unknown}; the fields are {list(FIELDS)}")
    return out


# --- the text an admin edits
def as_text(rules: Rules) -> dict[str, str]:
    """The effective rules as the admin form shows them: one item per line."""
    comps = []
    for name, phrases in rules.competitors:
        extra = [p for p in phrases if p != name.lower()]
        comps.append(f"{name}: {', '.join(extra)}" if extra else name)
    return {
        "banned_phrases": "\n".join(rules.banned_phrases),
        "topics_to_avoid": "\n".join(rules.topics_to_avoid),
        "allowed_domains": "\n".join(rules.allowed_domains),
        "competitors": "\n".join(comps),
    }


def as_lists(rules: Rules) -> dict[str, list]:
    return {
        "banned_phrases": list(rules.banned_phrases),
        "topics_to_avoid": list(rules.topics_to_avoid),
        "allowed_domains": list(rules.allowed_domains),
        "competitors": [{"name": n, "phrases": list(p)} for n, p in rules.competitors],
    }


# --- the store
def override(r: redis.Redis, keys: Keys) -> dict | None:
    raw = r.get(keys.guardrails_override)
    return orjson.loads(raw) if raw else None


def merge(base: Rules, over: dict | None) -> Rules:
    """`base` with each list the override holds replacing the base's (pure)."""
    if not over:
        return base
    change: dict[str, Any] = {}
    for field in ("banned_phrases", "topics_to_avoid", "allowed_domains"):
        if field in over:
            change[field] = tuple(over[field])
    if "competitors" in over:
        change["competitors"] = tuple((c["name"], tuple(c["phrases"])) for c in over["competitors"])
    return dataclasses.replace(base, **change)


def effective(r: redis.Redis, keys: Keys, event) -> Rules:
    """The guardrails in force: the event file's rules (analytics.guardrails.rules_for) merged with the override.
    Every guardrail check reads its rules here. One small GET; callers in a hot loop may cache per snapshot."""
    return merge(rules_for(event), override(r, keys))


def set_override(r: redis.Redis, keys: Keys, values: dict, event, *, actor: Any, now: float | None = None) -> dict:
    """Validate and store the override (the fields in `values`); audited "guardrails.set" with the effective
    lists before and after, in one durable transaction. Returns the stored override."""
    parsed = parse(values)
    if not parsed:
        raise ValueError("nothing to change: give at least one of " + ", ".join(LABELS.values()))
    base = rules_for(event)
    record = {
        **parsed,
        "by": actor if isinstance(actor, str) else actor.name,
        "at": time.time() if now is None else now,
    }

    def build(pipe):
        raw = pipe.get(keys.guardrails_override)
        old = orjson.loads(raw) if raw else None
        kept = {k: v for k, v in (old or {}).items() if k in FIELDS and k not in parsed}
        new = {**kept, **record}
        before, after = as_lists(merge(base, old)), as_lists(merge(base, new))
        pipe.multi()
        pipe.set(keys.guardrails_override, orjson.dumps(new))
        audit.append(pipe, keys, audit.entry(actor, "guardrails.set", "guardrails", "room", before=before, after=after))
        return new

    return audit.write(r, [keys.guardrails_override], build)


def clear_override(r: redis.Redis, keys: Keys, event, *, actor: Any) -> bool:
    """Back to the event file's guardrails; audited "guardrails.clear" (False, nothing written, if none was set)."""
    base = rules_for(event)

    def build(pipe):
        raw = pipe.get(keys.guardrails_override)
        if raw is None:
            return False
        old = orjson.loads(raw)
        pipe.multi()
        pipe.delete(keys.guardrails_override)
        audit.append(
            pipe,
            keys,
            audit.entry(
                actor, "guardrails.clear", "guardrails", "room", before=as_lists(merge(base, old)), after=as_lists(base)
            ),
        )
        return True

    return audit.write(r, [keys.guardrails_override], build)
