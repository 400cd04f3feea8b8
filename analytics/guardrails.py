"""Brand guardrails: what a framed response must not say before it can be approved."""

from __future__ import annotations

import re


def violations(text: str, banned_phrases: list[str]) -> list[str]:
    """The banned phrases a draft contains (whole words, any case)."""
    found = []
    for phrase in banned_phrases:
        if re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", text.lower()):
            found.append(phrase)
    return found
