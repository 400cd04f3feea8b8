"""Which watched series (brand, competitors, terms) a text mentions, with one compiled regex."""

from __future__ import annotations

import re
from collections.abc import Iterable


class Matcher:
    """Maps keyword phrases to series names; `match` returns the series a text mentions."""

    def __init__(self, series: Iterable[tuple[str, Iterable[str]]]):
        self._owner: dict[str, list[str]] = {}
        for name, keywords in series:
            for kw in keywords:
                self._owner.setdefault(kw.lower(), []).append(name)
        # Longest first so "lights out" wins over "lights"; boundaries keep "ad" out of "bad".
        alternation = "|".join(re.escape(k) for k in sorted(self._owner, key=len, reverse=True))
        self._regex = re.compile(rf"(?<![\w])(?:{alternation})(?![\w])") if self._owner else None

    def match(self, text: str) -> list[str]:
        """Series names mentioned in `text`, in first-seen order."""
        if self._regex is None:
            return []
        found: dict[str, None] = {}
        for kw in self._regex.findall(text.lower()):
            for name in self._owner[kw]:
                found[name] = None
        return list(found)

    def keywords(self, text: str) -> list[str]:
        """The keyword phrases found in `text`."""
        return list(dict.fromkeys(self._regex.findall(text.lower()))) if self._regex else []
