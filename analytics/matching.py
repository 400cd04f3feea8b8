"""Which watched series (brand, competitors, terms) a text mentions, with one compiled regex.

Keywords match whole words, with the usual English endings ("commercial" finds "commercials", "dunk" finds
"dunked" and "dunking", "oreo" finds "oreo's"); @handles and #tags match exactly. A keyword in a script
written without spaces (Chinese, Japanese, Thai) matches anywhere in the text, and a Latin keyword
next to such characters still matches ("我爱Oreo饼干").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Scripts written without spaces between words: Hiragana, Katakana, CJK ideographs, Hangul syllables
# (whose particles attach to the noun), Thai.
NO_SPACES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\u0e00-\u0e7f"
_NO_SPACES = re.compile(f"[{NO_SPACES}]")
# A word character that is not of those scripts: what a Latin keyword must not touch.
_WORDISH = rf"(?:(?![{NO_SPACES}])\w)"
SUFFIXES = ("s", "es", "'s", "’s", "ed", "d", "ing")
SHORT_SUFFIXES = ("s",)  # keywords under 4 letters: "ads" yes, "added" no


def _inflects(keyword: str) -> bool:
    return keyword[:1] not in "@#" and keyword[-1:].isalpha() and not _NO_SPACES.search(keyword)


class Matcher:
    """Maps keyword phrases to series names; `match` returns the series a text mentions."""

    def __init__(self, series: Iterable[tuple[str, Iterable[str]]]):
        self._owner: dict[str, list[str]] = {}
        for name, keywords in series:
            for kw in keywords:
                if kw.strip():
                    self._owner.setdefault(kw.strip().lower(), []).append(name)
        spaced = [k for k in self._owner if not _NO_SPACES.search(k)]
        unspaced = [k for k in self._owner if _NO_SPACES.search(k)]
        # Longest first so "lights out" wins over "lights"; boundaries keep "ad" out of "bad".
        alternation = "|".join(re.escape(k) for k in sorted(spaced, key=len, reverse=True))
        suffix = "|".join(re.escape(s) for s in sorted(SUFFIXES, key=len, reverse=True))
        # The lookahead on the keywords' first letters comes first: without it the lookbehind is tried at every
        # position of every text (3-4x slower).
        lead = "".join(re.escape(c) for c in sorted({k[0] for k in spaced}))
        self._regex = (
            re.compile(rf"(?=[{lead}])(?<!{_WORDISH})({alternation})({suffix})?(?!{_WORDISH})") if spaced else None
        )
        self._unspaced = (
            re.compile("|".join(re.escape(k) for k in sorted(unspaced, key=len, reverse=True))) if unspaced else None
        )

    def _found(self, text: str) -> list[str]:
        low = text.lower()
        found = []
        if self._regex is not None:
            for kw, ending in self._regex.findall(low):
                if not ending or (_inflects(kw) and ending in (SUFFIXES if len(kw) >= 4 else SHORT_SUFFIXES)):
                    found.append(kw)
        if self._unspaced is not None and not low.isascii():
            found += self._unspaced.findall(low)
        return found

    def match(self, text: str) -> list[str]:
        """Series names mentioned in `text`, in first-seen order."""
        found: dict[str, None] = {}
        for kw in self._found(text):
            for name in self._owner[kw]:
                found[name] = None
        return list(found)

    def keywords(self, text: str) -> list[str]:
        """The keyword phrases found in `text`."""
        return list(dict.fromkeys(self._found(text)))
