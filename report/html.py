"""The report as one self-contained HTML page (inline CSS and SVG, no scripts, no network); the PDF prints it."""

from __future__ import annotations

import html
import re
import time

import pandas as pd

from report.build import Report, _iso
from report.svg import bar_chart, line_chart

_SAFE = re.compile(r"^https?://", re.IGNORECASE)

CSS = """
@page { size: A4 landscape; margin: 14mm 12mm; @bottom-right { content: "page " counter(page) " of " counter(pages);
  font-size: 9pt; color: #333; } }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: #111;
  background: #fff; font-size: 11pt; line-height: 1.35; max-width: 1200px; margin: 0 auto; padding: 0 1rem; }
h1 { font-size: 22pt; margin: 0 0 .2rem; } h2 { font-size: 15pt; margin: 1.4rem 0 .4rem; border-bottom: 2px solid #111;
  break-after: avoid; } .sub { color: #333; margin: 0 0 1rem; }
section { break-inside: auto; } .chart { width: 100%; height: auto; max-height: 95mm; } .bars { max-height: 60mm; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; margin: .3rem 0 .8rem; }
th, td { border: 1px solid #999; padding: 3px 5px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #e8e8e8; } tr { break-inside: avoid; } td.num { text-align: right; white-space: nowrap; }
.summary { display: flex; gap: 1rem; flex-wrap: wrap; } .kpi { border: 1px solid #999; padding: .4rem .8rem; }
.kpi b { display: block; font-size: 16pt; } .empty { color: #333; font-style: italic; }
.page-break { break-before: page; }
"""


def _esc(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return ""
    return html.escape(str(v))


def _cell(col: str, v) -> str:
    if col == "url":
        safe = v if isinstance(v, str) and _SAFE.match(v) else ""
        return f'<td><a href="{html.escape(safe, quote=True)}">link</a></td>' if safe else "<td></td>"
    if isinstance(v, int | float) and not isinstance(v, bool) and not pd.isna(v):
        text = f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}".rstrip("0").rstrip(".")
        return f'<td class="num">{text}</td>'
    return f"<td>{_esc(v)}</td>"


def table(frame: pd.DataFrame, cols: list[str] | None = None, labels: dict[str, str] | None = None, limit=60) -> str:
    cols = [c for c in (cols or list(frame.columns)) if c in frame.columns]
    if frame.empty:
        return '<p class="empty">Nothing recorded in this period.</p>'
    labels = labels or {}
    head = "".join(f'<th scope="col">{_esc(labels.get(c, c.replace("_", " ")))}</th>' for c in cols)
    body = "".join(
        "<tr>" + "".join(_cell(c, row[c]) for c in cols) + "</tr>" for _, row in frame.head(limit).iterrows()
    )
    more = f'<p class="empty">{len(frame) - limit} more rows in the CSV.</p>' if len(frame) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def care_kpis(care: pd.DataFrame) -> list[tuple[str, str]]:
    """The care lane's figures at the end of the report's window."""
    if care.empty:
        return [("care first response", "–")]
    last = care.iloc[-1]

    def minutes(v) -> str:
        return "–" if pd.isna(v) else f"{float(v) / 60:.1f} min"

    return [
        (
            "care first response p50 / p95",
            f"{minutes(last['first_response_p50_s'])} / {minutes(last['first_response_p95_s'])}",
        ),
        ("care breaches", f"{int(last['breaches'])}"),
        ("care backlog at the end", f"{int(last['backlog'])}"),
    ]


def render(rep: Report) -> str:
    t, ev = rep.tables, rep.event
    brand = ev.get("brand", "")
    brands = [brand] + list(ev.get("competitors", []))
    vol = t["volume_by_minute"]
    xs = [float(m) for m in vol["minute"]] if len(vol) else []
    peak_marks = [(float(p["minute"]), float(p["posts"]), str(p["rank"])) for _, p in t["peaks"].iterrows()]
    series = {"All posts": vol["posts"].tolist()} | {b: vol[b].tolist() for b in brands if b in vol}
    sent = t["sentiment_by_minute"]
    sent_series = {b: [None if pd.isna(v) else float(v) for v in sent[b]] for b in brands if b in sent}
    sov = t["share_of_voice"]
    alerts = t["alerts"]
    acked = alerts["ack_after_s"].dropna() if len(alerts) else pd.Series(dtype=float)
    cards = t["cards"]
    approvals = cards["approval_after_s"].dropna() if len(cards) else pd.Series(dtype=float)
    kpis = [
        ("posts", f"{int(vol['posts'].sum()):,}" if len(vol) else "0"),
        ("busiest second", f"{int(vol['peak_per_s'].max()):,}/s" if len(vol) else "–"),
        (f"{brand} share of voice", f"{sov.loc[sov['series'] == brand, 'share_pct'].sum():.1f}%" if len(sov) else "–"),
        ("alerts", f"{len(alerts)} ({len(acked)} acknowledged)"),
        ("median time to acknowledge", f"{acked.median():.0f} s" if len(acked) else "–"),
        ("cards", f"{len(cards)}"),
        ("median time to approval", f"{approvals.median() / 60:.1f} min" if len(approvals) else "–"),
        ("responses published", f"{len(t['responses'])}"),
        *care_kpis(t["care"]),
    ]
    kpi_html = "".join(f'<div class="kpi">{_esc(k)}<b>{_esc(v)}</b></div>' for k, v in kpis)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>War Room report · {_esc(ev.get('name', ''))}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{CSS}</style></head><body><main>",
        f"<h1>War Room report · {_esc(ev.get('name', ''))}</h1>",
        f'<p class="sub">{_esc(brand)} against {_esc(", ".join(ev.get("competitors", [])) or "no competitors")}'
        f" · {_esc(_iso(rep.start))} to {_esc(_iso(rep.end))} · generated"
        f" {_esc(time.strftime('%Y-%m-%d %H:%M', time.localtime(rep.generated_at)))}</p>",
        f'<section><h2>Summary</h2><div class="summary">{kpi_html}</div></section>',
        "<section><h2>Volume by minute</h2>",
        line_chart("Posts per minute, with numbered peaks", xs, series, y_label="posts / minute", markers=peak_marks),
        "<h3>What drove each peak</h3>",
        table(
            t["peaks"],
            ["rank", "time", "posts", "times_median", "top_terms", "storyline", "alerts"],
            {"rank": "peak", "times_median": "× median minute"},
        ),
        "</section>",
        '<section class="page-break"><h2>Share of voice</h2>',
        bar_chart("Share of voice over the period", [(r.series, float(r.share_pct)) for r in sov.itertuples()]),
        table(sov, labels={"share_pct": "share %"}),
        "<h2>Sentiment per brand over time</h2>",
        line_chart(
            "Mean sentiment per minute (−1 negative to +1 positive)",
            [float(m) for m in sent["minute"]],
            sent_series,
            y_label="mean sentiment",
            y_range=(-1.0, 1.0),
        ),
        "</section>",
        '<section class="page-break"><h2>Top hashtags</h2>',
        table(t["top_hashtags"]),
        "<h2>Top posts</h2>",
        table(t["top_posts"], ["time", "kept_for", "source", "handle", "followers", "score", "text", "url"]),
        "</section>",
        '<section class="page-break"><h2>Storylines</h2>',
        table(t["storylines"]),
        "<h2>Alerts and how fast they were acknowledged</h2>",
        table(alerts, ["time", "severity", "kind", "title", "acked_by", "ack_after_s"], {"ack_after_s": "ack after s"}),
        "</section>",
        '<section class="page-break"><h2>Cards, responses and outcomes</h2>',
        table(cards, [c for c in cards.columns if c != "id"], {"approval_after_s": "approval after s"}),
        "<h3>Published responses and what they did</h3>",
        table(t["responses"]),
        "<h2>Customer care: first response, breaches and backlog</h2>",
        table(t["care"]),
        "<h2>Source coverage and gaps</h2>",
        table(t["source_coverage"]),
        "</section></main></body></html>",
    ]
    return "\n".join(parts)
