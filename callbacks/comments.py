"""The Discussion drawer's and the header mentions' callbacks: thin wrappers over web/comments.py, which checks the
signed-in identity (read here from the request, never from the browser) and writes each comment with its audit
entry.

Each is a plain function of the services and the values Dash passes; `register` only wires ids to them.
"""

from __future__ import annotations

from dash import ALL, Input, Output, State, no_update

from auth.web import current_identity
from callbacks.clicks import clicked
from layouts import comments as ui
from layouts import ids
from web import comments
from web.comments import Refused
from web.services import Services


def open_card(s: Services, trigger: dict | None) -> tuple:
    """(card id, drawer open, its head, the mentions list) for a card's "comments · N", a link or a mention."""
    card_id = (trigger or {}).get("card")
    if not card_id:
        return (no_update,) * 4
    try:
        comments.require(current_identity())
        card = comments.card(s, card_id)
    except Refused as exc:
        return no_update, True, str(exc), []
    return card["id"], True, ui.card_head(card), []


def add(s: Services, n, card_id: str | None, text: str | None, version) -> tuple:
    """(message, version, the form's text): the comment by the signed-in person; the text is kept if refused."""
    if not n:
        return no_update, no_update, no_update
    try:
        c = comments.add(s, current_identity(), card_id, text)
    except Refused as exc:
        return str(exc), no_update, no_update
    told = f" · told {', '.join('@' + u for u in c['told'])}" if c["told"] else ""
    unknown = (
        f" · {', '.join('@' + u for u in c['unknown'])} left as text (nobody by that name can take part)"
        if c["unknown"]
        else ""
    )
    saved = "on disk" if c["durable"] else "saved (server fsyncs every second)"
    return f"Commented · {saved}{told}{unknown}", (version or 0) + 1, ""


def hint(s: Services, text: str | None) -> str:
    """Whom the comment will tell, as it is typed."""
    try:
        return comments.hint(s, current_identity(), text)
    except Refused as exc:
        return str(exc)


def comments_view(s: Services, _version, card_id: str | None, _tick, seen) -> tuple:
    """(the card's comments, what was drawn); unchanged since the last draw: not redrawn."""
    ident = current_identity()
    if not card_id:
        return ([], "none") if seen != "none" else (no_update, no_update)
    try:
        items = comments.for_card(s, ident, card_id)
    except Refused as exc:
        return str(exc), None
    digest = f"{card_id}:{len(items)}:{items[-1]['id'] if items else ''}"
    if digest == seen:
        return no_update, no_update
    return ui.comments_list(items, ident.name), digest


def mention_count(s: Services, _tick) -> tuple:
    """(the header button's children, its title): the signed-in person's unread mentions."""
    try:
        n = comments.unread(s, current_identity())
    except Refused as exc:
        return str(exc), no_update
    return ui.mentions_label(n)


def open_mentions(s: Services, n) -> tuple:
    """(drawer open, the mentions list, the header button's children, its title): opening marks them read."""
    if not n:
        return (no_update,) * 4
    try:
        items = comments.open_mentions(s, current_identity())
    except Refused as exc:
        return True, str(exc), no_update, no_update
    return (True, ui.mentions_list(items), *ui.mentions_label(0))


def register(app, s: Services) -> None:
    opened = [
        Output(ids.COMMENTS_CARD, "data"),
        Output(ids.COMMENTS_DRAWER, "is_open"),
        Output(ids.COMMENTS_HEAD, "children"),
        Output(ids.MENTIONS_LIST, "children"),
    ]
    app.callback(*opened, Input({"type": ids.COMMENTS_OPEN, "card": ALL}, "n_clicks"), prevent_initial_call=True)(
        lambda _clicks: open_card(s, clicked())
    )
    again = [Output(o.component_id, o.component_property, allow_duplicate=True) for o in opened]
    app.callback(*again, Input({"type": ids.MENTION_OPEN, "card": ALL, "comment": ALL}, "n_clicks"),
                 prevent_initial_call=True)(lambda _clicks: open_card(s, clicked()))  # fmt: skip
    # A link to a card's discussion (the mention's notification: /?comments=<card id>) opens it once drawn.
    app.callback(*again, Input(ids.COMMENTS_REQUEST, "data"), prevent_initial_call=True)(
        lambda card_id: open_card(s, {"card": card_id} if isinstance(card_id, str) else None)
    )
    app.clientside_callback(
        """function (_) {
            var m = /[?&]comments=([^&#]+)/.exec(window.location.search);
            return m ? decodeURIComponent(m[1]) : window.dash_clientside.no_update;
        }""",
        Output(ids.COMMENTS_REQUEST, "data"),
        Input(ids.COMMENTS_REQUEST, "id"),
    )

    app.callback(
        Output(ids.COMMENT_MESSAGE, "children"),
        Output(ids.COMMENTS_VERSION, "data"),
        Output(ids.COMMENT_TEXT, "value"),
        Input(ids.COMMENT_ADD, "n_clicks"),
        State(ids.COMMENTS_CARD, "data"),
        State(ids.COMMENT_TEXT, "value"),
        State(ids.COMMENTS_VERSION, "data"),
        prevent_initial_call=True,
    )(lambda n, card_id, text, version: add(s, n, card_id, text, version))

    app.callback(
        Output(ids.COMMENT_HINT, "children"),
        Input(ids.COMMENT_TEXT, "value"),
        prevent_initial_call=True,
    )(lambda text: hint(s, text))

    app.callback(
        Output(ids.COMMENTS_LIST, "children"),
        Output(ids.COMMENTS_SEEN, "data"),
        Input(ids.COMMENTS_VERSION, "data"),
        Input(ids.COMMENTS_CARD, "data"),
        Input(ids.COMMENTS_TICK, "n_intervals"),  # a fallback
        Input(ids.CARDS_VERSION, "data"),  # a new comment anywhere: pushed with the snapshot
        State(ids.COMMENTS_SEEN, "data"),
    )(lambda version, card_id, tick, _cards, seen: comments_view(s, version, card_id, tick, seen))

    # The drawer's own clock runs only while it is open.
    app.clientside_callback(
        "function (open) { return !open; }",
        Output(ids.COMMENTS_TICK, "disabled"),
        Input(ids.COMMENTS_DRAWER, "is_open"),
    )

    app.callback(
        Output(ids.MENTIONS_BUTTON, "children"),
        Output(ids.MENTIONS_BUTTON, "title"),
        Input(ids.MENTIONS_TICK, "n_intervals"),
    )(lambda tick: mention_count(s, tick))
    app.callback(
        Output(ids.COMMENTS_DRAWER, "is_open", allow_duplicate=True),
        Output(ids.MENTIONS_LIST, "children", allow_duplicate=True),
        Output(ids.MENTIONS_BUTTON, "children", allow_duplicate=True),
        Output(ids.MENTIONS_BUTTON, "title", allow_duplicate=True),
        Input(ids.MENTIONS_BUTTON, "n_clicks"),
        prevent_initial_call=True,
    )(lambda n: open_mentions(s, n))
