"""The command center page, built for a view (web/roles.py): the wall (read-only, big type), strategists,
executives; the header says who is signed in and as what."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import flask
from dash import dcc, html

from auth import roles as table
from auth.identity import KIOSK, Identity
from config.settings import Settings
from layouts import ids
from layouts.care import make_care_panel
from layouts.comments import make_comments_drawer, may_comment, mentions_button
from layouts.exec import report_button
from layouts.feed import make_feed_panel
from layouts.framing import make_framing_form
from layouts.render import panel, row_list
from layouts.responses import make_respond_drawer, may_respond
from layouts.volume import make_volume_chart
from web.roles import pages_for

TICK_MS = ids.TICK_MS


PAGE_NAMES = {"/": "command center", "/wall": "wall", "/exec": "exec", "/admin": "admin", "/audit": "audit"}


def whoami(ident: Identity | None) -> html.Div:
    """Who is signed in and as what, with Sign out (a wall screen is signed out by revoking its kiosk link)."""
    if ident is None:
        return html.Div()
    roles = ", ".join(sorted(ident.roles, key=table.ROLES.index))
    if ident.kind == KIOSK:
        return html.Div(
            [html.Span("wall screen ", className="text-muted"), html.B(ident.display or ident.name)],
            id=ids.WHOAMI,
            className="whoami small",
        )
    csrf = flask.g.get("csrf") if flask.has_request_context() else None
    return html.Div(
        [
            html.B(ident.display or ident.name, className="whoami-name"),
            html.Span(f" · {roles}", className="text-muted whoami-roles"),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf", value=csrf or "", id=ids.SIGN_OUT_CSRF),
                    html.Button("Sign out", type="submit", id=ids.SIGN_OUT, className="btn btn-sm btn-outline-light"),
                ],
                action="/logout",
                method="post",
                className="d-inline ms-2",
            ),
        ],
        id=ids.WHOAMI,
        className="whoami small d-flex align-items-center",
    )


def make_header(settings: Settings, view, ident: Identity | None, live: bool = True) -> html.Div:
    ev = settings.event
    parts = [
        html.Div(
            [
                html.Span("WAR ROOM", className="brand-mark me-3"),
                html.Span(f"{ev.name} · {ev.brand.name}", className="event-name"),
            ]
        )
    ]
    if live:
        parts += [
            html.Div(id=ids.GAME_CLOCK, className="game-clock"),
            html.Div(id=ids.HEADER_STATUS, className="header-status small text-muted"),
            html.Div(
                [html.Span(className="fresh-dot"), html.Span("connecting…", id=ids.FRESHNESS)],
                className="freshness fresh-bad",
                id=f"{ids.FRESHNESS}-box",
            ),
        ]
    else:
        parts.append(html.Div(className="header-status"))
    pages = pages_for(ident)
    if len(pages) > 1:
        parts.append(
            dbc.Nav(
                [
                    dbc.NavLink(
                        PAGE_NAMES.get(p, p), href=p, active=view is not None and p == view.path, className="py-0"
                    )
                    for p in pages
                ],
                pills=True,
                className="ms-3 role-nav",
            )
        )
    if live and may_comment(view) and ident is not None and ident.kind != KIOSK:
        parts.append(mentions_button())  # this person's unread mentions (its own clock: the screen's is shared)
    parts.append(whoami(ident))
    return html.Div(parts, className="topbar")


def forbidden_page(settings: Settings, ident: Identity | None) -> html.Div:
    """Nothing on this site is for these roles (a 403 page inside the app)."""
    return html.Div(
        [
            make_header(settings, None, ident, live=False),
            html.Div("Your role cannot open this page.", className="p-4 fs-4", id=ids.FORBIDDEN),
        ],
        className="cc",
    )


def make_page(settings: Settings, view, ident: Identity | None = None) -> html.Div:
    """A live screen for a view (web/roles.py): the strategists' command center, the wall or the exec summary;
    write controls only where the view's controls allow them."""
    role = view.layout
    strategist = view.can(table.POST_FRAME)
    volume = panel("Live volume · posts per second · last 15 min", make_volume_chart(), class_name="p-volume")
    trending = panel("Trending now · by how unusual", row_list(ids.TRENDING), class_name="p-trending")
    feed = panel(
        "Conversation · ranked by relevance",
        make_feed_panel(strategist),
        class_name="p-feed",
        hold="feed" if strategist else None,
    )
    cards_body = [make_framing_form()] if view.can(table.CARD_CREATE) else []
    # What the last save or move said (every page that may move a card needs it: an approver's too).
    cards_body.append(html.Div(id=ids.CARD_SAVED, className="small mt-1 mb-1", role="status"))
    cards_body.append(html.Div(id=ids.CARDS, className="cards-list"))
    if may_respond(view):  # a card's Respond opens it (off-canvas: no room taken in the grid)
        cards_body.append(make_respond_drawer(view))
    if may_comment(view):  # a card's "comments · N" opens its discussion (off-canvas too)
        cards_body.append(make_comments_drawer(view))
    framing = panel(
        "Framing · opportunities and threats",
        cards_body,
        class_name="p-framing",
        extra=report_button() if strategist else None,
    )
    acks = view.can(table.ALERT_ACK)
    alerts = panel("Alerts", row_list(ids.ALERTS), class_name="p-alerts", hold="alerts" if acks else None)
    sources = panel(
        "Sources", [html.Div(id=ids.PIPELINE, className="small mb-1"), html.Div(id=ids.SOURCES)], class_name="p-sources"
    )
    stories = panel(
        "Storylines · last 10 min",
        row_list(ids.STORYLINES),
        class_name="p-stories",
        extra=html.Span(id=ids.LEARNING, className="small text-muted"),
        hold="stories" if strategist else None,
    )
    sentiment = panel(
        "Sentiment · brand vs competitors",
        dcc.Graph(id=ids.SENTIMENT_CHART, config={"displayModeBar": False}, style={"height": "100%"}),
        class_name="p-sentiment",
    )
    panels = [volume, trending, feed, stories, framing, alerts, sentiment, sources]
    approver = view.can(table.CARD_APPROVE)  # care replies wait for approvers: they see the lane too
    if strategist or approver:  # customer care (issue 12): the care lane, separate from the marketing feed
        lane = make_care_panel(strategist, can_approve=approver)
        panels.append(panel("Customer care · by urgency", lane, class_name="p-care"))
    grid = html.Div(panels, className=f"cc-grid role-{role}")
    return html.Div(
        [
            dcc.Interval(id=ids.TICK, interval=TICK_MS),
            dcc.Store(id=ids.LAST_SEEN, data=None),
            # What this page has rendered: a new page (another role) starts from nothing and gets everything.
            dcc.Store(id=ids.SNAP_VERSION, data=0),
            dcc.Store(id=ids.PUSH, data=None),
            dcc.Store(id=ids.CARDS_VERSION, data=-1),
            dcc.Store(id=ids.FOCUS, data=None),
            dcc.Store(id=ids.HOLD, data=None),
            dcc.Store(id=ids.ROWS_DRAWN, data=None),
            *[dcc.Store(id=ids.gate(kind), data=None) for kind in ids.GATED],
            make_header(settings, view, ident),
            html.Div(id=ids.STALE_BANNER, className="stale-banner", hidden=True),
            html.Div(id=ids.ALERT_FLASH, className="alert-flash"),
            dbc.Toast(
                id=ids.ALERT_TOAST,
                is_open=False,
                dismissable=True,
                duration=8000,
                icon="danger",
                header="Alert",
                className="alert-toast",
            ),
            grid,
        ],
        className=f"cc role-{role}",
    )


def make_shell(settings: Settings) -> html.Div:
    """What Dash serves: the URL and a slot the page is rendered into. Each live page brings its own clock:
    a shared one would fire every page's screen callback on every page (outputs missing, errors in the console)."""
    return html.Div(
        [
            dcc.Location(id=ids.URL),
            html.Div(id=ids.PUSH_CONFIG, hidden=True, **{"data-port": str(settings.push_port)}),
            # Filled by the route callback for the signed-in identity: nothing is drawn before the server says
            # which page (and which controls) this person gets.
            html.Div(html.Div("Loading…", className="p-4 text-muted"), id="page"),
        ]
    )
