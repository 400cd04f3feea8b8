"""The Discussion drawer (a card's comments and the form that adds one), the card's "comments · N" button and the
header's mentions button.

Rendering only. Comment text is untrusted: it is only ever text children (never markdown or HTML); the people and
groups it mentions are spans around their own `@name`, everything else is text as typed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dash_bootstrap_components as dbc
from dash import dcc, html

from auth import roles as table
from layouts import ids
from web.comments import MAX_CHARS
from web.mentions import segments


def may_comment(view) -> bool:
    return view is not None and view.can(table.CARD_COMMENT)


def make_comments_drawer(view) -> html.Div:
    """The drawer (off-canvas, so it takes no room in the grid) with its stores and clock."""
    body = [
        html.Div(id=ids.COMMENTS_HEAD, className="comments-head small mb-2"),
        html.Div(id=ids.MENTIONS_LIST, className="mentions-list small mb-2"),
        html.Div(id=ids.COMMENTS_LIST, className="comments-list mb-2", role="log", **{"aria-live": "polite"}),
        dbc.Textarea(
            id=ids.COMMENT_TEXT,
            placeholder="Comment for the room; @name tells them, @group its members",
            rows=3,
            maxLength=MAX_CHARS * 2,  # the server refuses past MAX_CHARS and says by how much
            className="mb-1",
            title="Comment",
        ),
        html.Div(
            [
                html.Span(id=ids.COMMENT_HINT, className="comment-hint small text-muted me-2"),
                dbc.Button("Comment", id=ids.COMMENT_ADD, color="warning", size="sm", n_clicks=0),
            ],
            className="d-flex align-items-center justify-content-between mb-1",
        ),
        html.Div(id=ids.COMMENT_MESSAGE, className="comment-message small", role="status"),
    ]
    return html.Div(
        [
            dcc.Store(id=ids.COMMENTS_CARD, data=None),
            dcc.Store(id=ids.COMMENTS_REQUEST, data=None),
            dcc.Store(id=ids.COMMENTS_VERSION, data=0),
            dcc.Store(id=ids.COMMENTS_SEEN, data=None),
            dcc.Interval(id=ids.COMMENTS_TICK, interval=2000, disabled=True),
            dbc.Offcanvas(
                body, id=ids.COMMENTS_DRAWER, title="Discussion", is_open=False, placement="end", scrollable=True
            ),
        ]
    )


def comments_button(card_id: str, n: int) -> dbc.Button:
    return dbc.Button(
        f"comments · {n}",
        id={"type": ids.COMMENTS_OPEN, "card": card_id},
        size="sm",
        color="outline-info",
        className="me-1 mt-1 comments-open",
        n_clicks=0,
    )


def mentions_button() -> html.Div:
    """The header's "@": the count of the signed-in person's unread mentions, refreshed by its own clock (the
    screen's shared answer is the same for every person of a role set, so it cannot carry this)."""
    return html.Div(
        [
            dcc.Interval(id=ids.MENTIONS_TICK, interval=5000),
            dbc.Button(
                "@",
                id=ids.MENTIONS_BUTTON,
                size="sm",
                color="outline-light",
                className="ms-2 py-0",
                n_clicks=0,
                title="Your mentions",
            ),
        ],
        className="mentions d-inline-flex",
    )


def mentions_label(n: int) -> tuple[list, str]:
    """(the button's children, its title) for `n` unread mentions."""
    if not n:
        return ["@"], "Your mentions (none not yet read)"
    title = f"{n} mention{'s' * (n != 1)} of you not yet read"
    return ["@ ", dbc.Badge(str(n), color="warning", text_color="dark", className="mentions-count")], title


def _at(t: float | None) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S UTC") if t else "–"


def comment_text(c: dict) -> list:
    """The comment's text as children: plain strings, and a span for each @mention it was stored with."""
    names = [*(c.get("mentions") or []), *(c.get("groups") or [])]
    return [
        html.Span(piece, className="mention", **{"data-mention": name}) if name else piece
        for piece, name in segments(c.get("text", ""), names)
    ]


def comment_item(c: dict, me: str | None = None) -> html.Div:
    mine = me is not None and me in (c.get("mentions") or [])
    return html.Div(
        [
            html.Div(
                [html.B(c.get("author", ""), className="comment-author"), html.Span(f" · {_at(c.get('at'))}")],
                className="small text-muted",
            ),
            html.Div(comment_text(c), className="comment-text"),
        ],
        className="comment" + (" comment-mentions-me" if mine else ""),
        **{"data-comment-id": c.get("id", "")},
    )


def comments_list(items: list[dict], me: str | None = None) -> list:
    if not items:
        return [html.Div("No comment on this card yet.", className="text-muted small")]
    return [comment_item(c, me) for c in items]


def card_head(card: dict) -> list:
    return [html.Div(card.get("title", ""), className="fw-bold"), html.Div(card.get("summary", ""), className="small")]


def mentions_list(items: list[dict]) -> list:
    """The newest mentions of the signed-in person, each opening its card's discussion."""
    if not items:
        return [html.Div("Nobody has mentioned you yet.", className="text-muted")]
    rows = [
        html.Li(
            [
                html.Span(f"{_at(m.get('at'))} · {m.get('author', '')} on “{m.get('card_title', '')}”: "),
                html.Span(m.get("excerpt", ""), className="mention-excerpt"),
                dbc.Button(
                    "Open",
                    id={"type": ids.MENTION_OPEN, "card": m.get("card_id", ""), "comment": m.get("comment_id", "")},
                    size="sm",
                    color="link",
                    className="py-0",
                    n_clicks=0,
                ),
            ]
        )
        for m in items
    ]
    return [html.Div("Mentions of you", className="fw-bold"), html.Ul(rows, className="mentions-items")]
