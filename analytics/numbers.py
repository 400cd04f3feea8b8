"""Numbers for people: 2.1M, 340k, 12.5 (the one formatter the alerts, the reasons and the screens share)."""

from __future__ import annotations


def compact(n: float | None) -> str:
    """Millions and thousands to one decimal (trailing .0 dropped); smaller numbers as they are; None as a dash."""
    if n is None:
        return "–"
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + unit
    return f"{n:.0f}" if float(n).is_integer() else f"{n:.1f}"
