"""The relevance-ranked conversation feed: who, reach, where, when, mood, score and why."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from analytics.outcomes import words as outcome_words
from layouts import ids
from layouts.render import (
    SENTIMENT_COLORS,
    ago,
    compact,
    memo_rows,
    row_list,
    safe_href,
    sentiment_badge,
    source_badge,
)
from model.post import SOURCES


def make_feed_panel(with_controls: bool = True) -> html.Div:
    filters = html.Div(
        [
            dbc.Select(
                id=ids.FEED_SOURCE,
                options=[{"label": "All sources", "value": "all"}] + [{"label": s, "value": s} for s in SOURCES],
                value="all",
                className="feed-source w-auto",
            ),
            html.Div(
                [
                    html.Span("min score", className="small text-muted me-2"),
                    dcc.Slider(
                        id=ids.FEED_MIN_SCORE,
                        min=-2,
                        max=10,
                        step=0.5,
                        value=0,
                        marks=None,
                        tooltip={"placement": "bottom"},
                        className="flex-grow-1",
                    ),
                ],
                className="d-flex align-items-center flex-grow-1 ms-2",
            ),
        ],
        className="d-flex align-items-center feed-filters",
    )
    return html.Div(
        [filters, *row_list(ids.FEED, "feed-list")],
        className="feed-panel",
        **{"data-controls": "1" if with_controls else "0"},
    )


def filter_posts(snap: dict, source: str, min_score: float, limit: int = 25) -> list[dict]:
    posts = snap.get("feed", []) if source in (None, "all") else snap.get("feed_by_source", {}).get(source, [])
    return [p for p in posts if p.get("score", 0) >= (min_score or 0)][:limit]


NO_POSTS = html.Div("No posts match yet.", className="text-muted p-3")


def feed_items(posts: list[dict], with_controls: bool = True, can_correct: bool = False) -> list:
    return [feed_item(p, with_controls, can_correct) for p in posts] or [NO_POSTS]


def feed_rows(posts: list[dict], with_controls: bool = True, can_correct: bool = False) -> str:
    """feed_items as assets/rows.js draws them, each distinct post drawn once (layouts.render.memo_rows)."""
    return memo_rows(posts, feed_item, with_controls, can_correct, empty=NO_POSTS)


# The one-click sentiment correction: (label, button text, accessible name).
SENTIMENT_BUTTONS = (("positive", "＋", "positive"), ("neutral", "○", "neutral"), ("negative", "−", "negative"))


def post_sentiment(p: dict) -> list:
    """The post's mood: the lexicon's (or learned) compound, or the team's correction and who made it."""
    fix = p.get("sentiment_fix")
    if not fix:
        return [sentiment_badge(p.get("sentiment", 0.0))]
    name = fix.get("label", "neutral")
    return [
        dbc.Badge(f"{name} ✎", color=SENTIMENT_COLORS.get(name, "secondary"), className="me-1 sentiment-fixed"),
        # A string child: the corrector's name is rendered as text.
        html.Span(f"corrected by {fix.get('by', '?')}", className="small text-muted me-2 sentiment-by"),
    ]


def sentiment_buttons(p: dict) -> list:
    current = (p.get("sentiment_fix") or {}).get("label")
    return [
        html.Button(
            text,
            id={"type": ids.SENTIMENT_POST, "post": p["id"], "label": value},
            className="btn btn-sm btn-outline-secondary sentiment-btn" + (" active" if value == current else ""),
            title=f"Correct sentiment: {name}",
            **{"aria-label": f"Correct sentiment to {name}"},
        )
        for value, text, name in SENTIMENT_BUTTONS
    ]


def feed_item(p: dict, with_controls: bool, can_correct: bool = False) -> html.Div:
    # Every screen downloads this list twice a second: few elements per post, text joined where it can be.
    author = p.get("author", {})
    meta = " · ".join(
        x
        for x in (
            f"@{author.get('handle', '?')}" + (" ✔" if author.get("verified") else ""),
            f"{compact(author['followers'])} followers" if author.get("followers") is not None else "",
        )
        if x
    )
    head = html.Div(
        [
            html.Span(author.get("name") or author.get("handle", "?"), className="fw-bold me-1 author-name"),
            html.Span(
                [meta, ago(p["received_at"], before=" · ")] if p.get("received_at") else meta,
                className="text-muted me-2 small",
            ),
            source_badge(p.get("source", "?")),
            *post_sentiment(p),
            dbc.Badge(f"score {p.get('score', 0):.1f}", color="warning", text_color="dark", className="me-1"),
        ],
        className="feed-head",
    )
    text = html.Div(p.get("text", ""), className="feed-text")  # a string child: always rendered as text
    reasons = html.Div([html.Span(r, className="reason") for r in p.get("reasons", [])], className="feed-reasons")
    badge, outcome = ours_line(p)
    if badge is not None:
        head.children.insert(1, badge)
    if outcome is not None:
        reasons.children.append(outcome)
    actions = []
    if href := safe_href(p.get("url")):
        actions.append(
            html.A("open ↗", href=href, target="_blank", rel="noopener noreferrer nofollow", className="me-2 small")
        )
    if p.get("similar"):
        actions.append(html.Span(f"+{p['similar']} similar", className="badge bg-info me-2 similar"))
    if with_controls:
        actions += [
            html.Button(
                "Frame",
                id={"type": ids.FRAME_POST, "post": p["id"]},
                className="btn btn-sm btn-outline-warning frame-btn me-1",
            ),
            html.Button(
                "✓ relevant",
                id={"type": ids.MARK_POST, "post": p["id"], "relevant": True},
                className="btn btn-sm btn-outline-success mark-btn me-1",
                title="Teach the ranking: more like this",
            ),
            html.Button(
                "✗ not",
                id={"type": ids.MARK_POST, "post": p["id"], "relevant": False},
                className="btn btn-sm btn-outline-secondary mark-btn",
                title="Teach the ranking: less like this",
            ),
        ]
    if can_correct:
        actions.append(
            html.Span(
                sentiment_buttons(p),
                className="ms-2 sentiment-btns",
                role="group",
                **{"aria-label": "Correct this post's sentiment"},
            )
        )
    return html.Div(
        [head, text, reasons, html.Div(actions, className="feed-actions")],
        className="feed-item",
        **{"data-post-id": p["id"]},
    )


ANSWERS = {
    "replies": "↩ replies to our response",
    "quotes": "❝ quotes our response",
    "reposts": "⟳ reposts our response",
}


def ours_line(p: dict) -> tuple:
    """(badge, outcome) for our own published response in the feed (its outcome in words), or (badge, None) for a
    post answering one; (None, None) for any other post."""
    if ours := p.get("ours"):
        badge = dbc.Badge("our response", color="primary", className="me-1 ours-badge")
        said = outcome_words(ours.get("outcome")) or "no replies, quotes or reposts yet"
        return badge, html.Span(said, className="reason ours-outcome")
    if answers := p.get("answers"):
        label = ANSWERS.get(answers.get("kind"), "answers our response")
        return dbc.Badge(label, color="info", text_color="dark", className="me-1 answers-badge"), None
    return None, None


RISING_Z = 4.0  # the trend detector's threshold: below it a term is listed but not called rising


def trending_rows(items: list[dict], now: float) -> list:
    if not items:
        return [html.Div("Nothing unusual yet.", className="text-muted p-3")]
    top = max(i["significance"] for i in items) or 1
    rows = []
    for rank, item in enumerate(items, 1):
        since = item.get("rising_since")
        rows.append(
            html.Div(
                [
                    html.Span(f"{rank}", className="trend-rank"),
                    html.Div(
                        [
                            html.Div(
                                [
                                    html.Span(f"#{item['term']}", className="trend-term"),
                                    html.Span(f"{compact(item['rate_per_min'])}/min", className="trend-rate"),
                                ],
                                className="d-flex justify-content-between",
                            ),
                            html.Div(
                                className="trend-bar",
                                style={"width": f"{max(4, 100 * item['significance'] / top):.0f}%"},
                            ),
                            html.Div(
                                [
                                    f"baseline {compact(item['baseline_per_min'])}/min · ×{_ratio(item)} · "
                                    f"z {item['significance']:.1f}",
                                    *([ago(since, before=" · rising ")] if since else []),
                                ],
                                className="trend-meta",
                            ),
                        ],
                        className="flex-grow-1",
                    ),
                ],
                className="trend-row d-flex" + ("" if item["significance"] >= RISING_Z else " quiet"),
            )
        )
    return rows


def _ratio(item: dict) -> str:
    base = item.get("baseline_per_min") or 0
    return f"{item['rate_per_min'] / base:.0f}" if base >= 0.5 else "new"
