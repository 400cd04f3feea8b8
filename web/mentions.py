"""@-mentions in a comment, pure (no Dash, no Redis): which `@name` tokens name people of the room.

    people = {"sam": {"legal"}, "ann": {"brand", "legal"}}   # who may be mentioned -> their approver groups
    found = parse("Thanks @Sam, @legal please look. mail x@sam.com", people)
    found.users == ["sam"]; found.groups == {"legal": ["ann", "sam"]}; found.unknown == []
    found.notify == ["ann", "sam"]                                 # people, groups expanded, each once

A token is `@` (not inside a word or an address) followed by a name's characters; it is matched without regard
to case against the people given, then without trailing punctuation ("@sam." at the end of a sentence). A person's
name wins over a group of the same name. Anything else stays text: unknown names are listed in `unknown` so the
composer can say so, and are never a mention.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# "@" not preceded by a word character, "@" or "." (an address: x@sam.com, a@@b), then what user names may hold.
TOKEN = re.compile(r"(?<![\w@.])@([A-Za-z0-9][A-Za-z0-9._@-]*)")
TRAILING = "._@-"


@dataclass(frozen=True)
class Found:
    users: list[str] = field(default_factory=list)  # people named directly, in order of first mention
    groups: dict[str, list[str]] = field(default_factory=dict)  # group named -> its members (sorted)
    unknown: list[str] = field(default_factory=list)  # @tokens that name nobody (left as text)

    @property
    def notify(self) -> list[str]:
        """Everyone mentioned, directly or through a group, each once (sorted)."""
        return sorted({*self.users, *(m for members in self.groups.values() for m in members)})


def _resolve(token: str, names: Iterable[str]) -> tuple[str, int] | None:
    """(the name matched, characters of the token it spans) or None."""
    lowered = token.lower()
    names = set(names)
    if lowered in names:
        return lowered, len(token)
    stripped = lowered.rstrip(TRAILING)
    if stripped and stripped in names:
        return stripped, len(stripped)
    return None


def parse(text: str, people: Mapping[str, Iterable[str]]) -> Found:
    """Mentions in `text` of `people` (name -> their groups); group tokens expand to the group's members."""
    members: dict[str, list[str]] = {}
    for name, groups in people.items():
        for g in groups:
            members.setdefault(g, []).append(name)
    users: list[str] = []
    groups: dict[str, list[str]] = {}
    unknown: list[str] = []
    for m in TOKEN.finditer(text or ""):
        token = m.group(1)
        if hit := _resolve(token, people):
            if hit[0] not in users:
                users.append(hit[0])
        elif hit := _resolve(token, members):
            groups.setdefault(hit[0], sorted(members[hit[0]]))
        elif token.rstrip(TRAILING) and token.rstrip(TRAILING).lower() not in unknown:
            unknown.append(token.rstrip(TRAILING).lower())
    return Found(users, groups, unknown)


def segments(text: str, names: Iterable[str]) -> list[tuple[str, str | None]]:
    """The text cut into (piece, mentioned name or None) for drawing: each `@name` of `names` (people or groups the
    comment was stored with) is its own piece; everything else, unknown tokens included, is plain text."""
    names = {n.lower() for n in names}
    out: list[tuple[str, str | None]] = []
    pos = 0
    for m in TOKEN.finditer(text or ""):
        hit = _resolve(m.group(1), names)
        if hit is None:
            continue
        start, end = m.start(), m.start(1) + hit[1]
        if start > pos:
            out.append((text[pos:start], None))
        out.append((text[start:end], hit[0]))
        pos = end
    if pos < len(text or ""):
        out.append((text[pos:], None))
    return out
