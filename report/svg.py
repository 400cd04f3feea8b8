"""Hand-made SVG charts for the report: no plotting library, no network, text that stays text.

Every line is labelled with its name at its end and drawn with its own dash pattern, so colour is never the
only way to tell series apart (WCAG 1.4.1); peaks carry a numbered marker that the peaks table explains.
"""

from __future__ import annotations

import html
import math
import time

# Dark enough on white for 3:1 against the background (WCAG 1.4.11), and distinct dashes for each.
COLORS = ["#1c5fa8", "#b3261e", "#2e7d32", "#6a1b9a", "#a15c00", "#00696f", "#5d4037", "#37474f"]
DASHES = ["", "8 4", "2 3", "10 3 2 3", "4 4", "1 2", "12 4", "6 2 2 2"]
W, H = 900, 300
PAD_L, PAD_R, PAD_T, PAD_B = 64, 150, 20, 40


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def _clock(t: float) -> str:
    return time.strftime("%H:%M", time.gmtime(t))


def line_chart(
    title: str,
    xs: list[float],
    series: dict[str, list[float | None]],
    *,
    y_label: str,
    y_range: tuple[float, float] | None = None,
    markers: list[tuple[float, float, str]] = (),
) -> str:
    """Lines over time (x in unix seconds, shown as UTC HH:MM); `markers` are (x, y, label) circles."""
    if not xs:
        return f'<p class="empty">{_esc(title)}: no data in the archive for this period.</p>'
    x0, x1 = min(xs), max(xs)
    x1 = x1 if x1 > x0 else x0 + 60
    values = [v for ys in series.values() for v in ys if v is not None]
    lo, hi = y_range or (0.0, _nice_max(max(values, default=1)))
    iw, ih = W - PAD_L - PAD_R, H - PAD_T - PAD_B

    def px(x: float) -> float:
        return PAD_L + (x - x0) / (x1 - x0) * iw

    def py(y: float) -> float:
        return PAD_T + ih - (y - lo) / (hi - lo) * ih

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" aria-label="{_esc(title)}"'
        f' class="chart"><title>{_esc(title)}</title>'
    ]
    for k in range(5):
        y = lo + (hi - lo) * k / 4
        out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#c8c8c8"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{py(y) + 4:.1f}" text-anchor="end" font-size="12">{y:g}</text>')
    for k in range(6):
        x = x0 + (x1 - x0) * k / 5
        out.append(f'<text x="{px(x):.1f}" y="{H - PAD_B + 18}" text-anchor="middle" font-size="12">{_clock(x)}</text>')
    out.append(
        f'<text x="14" y="{PAD_T + ih / 2:.0f}" transform="rotate(-90 14 {PAD_T + ih / 2:.0f})" text-anchor="middle"'
        f' font-size="12">{_esc(y_label)}</text>'
    )
    out.append(f'<text x="{W - PAD_R}" y="{H - 4}" text-anchor="end" font-size="11">time (UTC)</text>')
    label_ys: list[float] = []
    for i, (name, ys) in enumerate(series.items()):
        color, dash = COLORS[i % len(COLORS)], DASHES[i % len(DASHES)]
        path, pen = [], "M"
        for x, y in zip(xs, ys, strict=False):
            if y is None:
                pen = "M"
                continue
            path.append(f"{pen}{px(x):.1f},{py(y):.1f}")
            pen = "L"
        if not path:
            continue
        out.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="2.2"'
            f' stroke-dasharray="{dash}"><title>{_esc(name)}</title></path>'
        )
        last = next((y for y in reversed(ys) if y is not None), lo)
        ly = py(last)
        while any(abs(ly - other) < 14 for other in label_ys):
            ly += 14
        label_ys.append(ly)
        out.append(
            f'<text x="{W - PAD_R + 6}" y="{ly + 4:.1f}" font-size="12" fill="{color}">'
            f'<tspan font-weight="700">{"—" if not dash else "- -"}</tspan> {_esc(name)}</text>'
        )
    for x, y, label in markers:
        cx, cy = px(x), py(min(max(y, lo), hi))
        out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="10" fill="#fff" stroke="#000" stroke-width="1.5"/>')
        out.append(
            f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" font-size="11" font-weight="700">'
            f"{_esc(label)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def bar_chart(title: str, bars: list[tuple[str, float]], *, unit: str = "%") -> str:
    """Horizontal bars, each with its name and value written beside it."""
    if not bars:
        return f'<p class="empty">{_esc(title)}: no data in the archive for this period.</p>'
    row, w_label, w_bars = 34, 160, 600
    height = row * len(bars) + 10
    top = max(v for _, v in bars) or 1
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w_label + w_bars + 90} {height}" role="img"'
        f' aria-label="{_esc(title)}" class="chart bars"><title>{_esc(title)}</title>'
    ]
    for i, (name, v) in enumerate(bars):
        y = 5 + i * row
        w = max(1.0, v / top * w_bars)
        out.append(f'<text x="{w_label - 8}" y="{y + 21}" text-anchor="end" font-size="14">{_esc(name)}</text>')
        out.append(f'<rect x="{w_label}" y="{y + 4}" width="{w:.1f}" height="{row - 10}" fill="{COLORS[i % 8]}"/>')
        out.append(f'<text x="{w_label + w + 6:.1f}" y="{y + 21}" font-size="14">{v:.1f}{_esc(unit)}</text>')
    out.append("</svg>")
    return "".join(out)
