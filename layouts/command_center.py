"""The command center page, built for a role: the wall (read-only, big type), strategists, executives."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from config.settings import Settings
from layouts import ids
from layouts.care import make_care_panel
from layouts.exec import report_button
from layouts.feed import make_feed_panel
from layouts.framing import make_framing_form
from layouts.render import panel
from layouts.volume import make_volume_chart
from web.roles import ROLES, STRATEGIST, can_write

TICK_MS = 500  # screens ask for news twice a second; cached answers make that cheap


def make_header(settings: Settings, role: str) -> html.Div:
    ev = settings.event
    return html.Div(
        [
            html.Div(
                [
                    html.Span("WAR ROOM", className="brand-mark me-3"),
                    html.Span(f"{ev.name} · {ev.brand.name}", className="event-name"),
                ]
            ),
            html.Div(id=ids.GAME_CLOCK, className="game-clock"),
            html.Div(id=ids.HEADER_STATUS, className="header-status small text-muted"),
            html.Div(
                [html.Span(className="fresh-dot"), html.Span("connecting…", id=ids.FRESHNESS)],
                className="freshness fresh-bad",
                id=f"{ids.FRESHNESS}-box",
            ),
            dbc.Nav(
                [
                    dbc.NavLink(r, href=f"/{r}" if r != STRATEGIST else "/", active=r == role, className="py-0")
                    for r in ROLES
                ],
                pills=True,
                className="ms-3 role-nav",
            ),
        ],
        className="topbar",
    )


def make_page(settings: Settings, role: str) -> html.Div:
    strategist = can_write(role)
    volume = panel("Live volume · posts per second · last 15 min", make_volume_chart(), class_name="p-volume")
    trending = panel("Trending now · by how unusual", html.Div(id=ids.TRENDING), class_name="p-trending")
    feed = panel(
        "Conversation · ranked by relevance",
        make_feed_panel(strategist),
        class_name="p-feed",
        hold="feed" if strategist else None,
    )
    cards_body = [make_framing_form()] if strategist else []
    cards_body.append(html.Div(id=ids.CARDS, className="cards-list"))
    framing = panel(
        "Framing · opportunities and threats",
        cards_body,
        class_name="p-framing",
        extra=report_button() if strategist else None,
    )
    alerts = panel("Alerts", html.Div(id=ids.ALERTS), class_name="p-alerts", hold="alerts" if strategist else None)
    sources = panel(
        "Sources", [html.Div(id=ids.PIPELINE, className="small mb-1"), html.Div(id=ids.SOURCES)], class_name="p-sources"
    )
    stories = panel(
        "Storylines · last 10 min",
        html.Div(id=ids.STORYLINES),
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
    if strategist:  # customer care (issue 12): the care lane, separate from the marketing feed
        panels.append(panel("Customer care · by urgency", make_care_panel(strategist), class_name="p-care"))
    grid = html.Div(panels, className=f"cc-grid role-{role}")
    return html.Div(
        [
            # What this page has rendered: a new page (another role) starts from nothing and gets everything.
            dcc.Store(id=ids.SNAP_VERSION, data=0),
            dcc.Store(id=ids.CARDS_VERSION, data=-1),
            dcc.Store(id=ids.FOCUS, data=None),
            dcc.Store(id=ids.HOLD, data=None),
            make_header(settings, role),
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
    """What Dash serves: the URL, the clocks, the stores, and a slot the page is rendered into."""
    return html.Div(
        [
            dcc.Location(id=ids.URL),
            dcc.Interval(id=ids.TICK, interval=TICK_MS),
            dcc.Store(id=ids.LAST_SEEN, data=None),
            html.Div(make_page(settings, STRATEGIST), id="page"),
        ]
    )
