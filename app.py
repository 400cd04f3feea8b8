"""The Dash app: create_app(settings) -> Dash, wiring the web domain (web/) to screens and routes, behind sign-in."""

from __future__ import annotations

import dash
import redis

from auth.web import install as install_auth
from callbacks import admin as admin_callbacks
from callbacks import alerts as alert_callbacks
from callbacks import care as care_callbacks
from callbacks import comments as comment_callbacks
from callbacks import exec as exec_callbacks
from callbacks import framing as framing_callbacks
from callbacks import live as live_callbacks
from callbacks import responses as response_callbacks
from callbacks import sentiment as sentiment_callbacks
from callbacks import wall as wall_callbacks
from config.settings import Settings
from layouts.command_center import make_shell
from web.api import add_api
from web.services import build_services
from web.timing import install as install_timing


def create_app(settings: Settings, r: redis.Redis | None = None) -> dash.Dash:
    services = build_services(settings, r)
    app = dash.Dash(
        __name__,
        title=f"War Room · {settings.event.name}",
        update_title=None,
        external_stylesheets=[],  # Bootstrap is served from assets/: no CDN on war-room Wi-Fi
        suppress_callback_exceptions=True,
        serve_locally=True,
    )
    app.index_string = app.index_string.replace("<html>", '<html data-bs-theme="dark">')
    app.layout = make_shell(settings)
    live_callbacks.register(app, services)
    framing_callbacks.register(app, services)
    sentiment_callbacks.register(app, services)
    alert_callbacks.register(app, services)
    care_callbacks.register(app, services)
    response_callbacks.register(app, services)  # the Respond drawer (issue 10)
    comment_callbacks.register(app, services)  # comments on a card, @-mentions (issue 10)
    wall_callbacks.register(app, services)  # the wall and the executive view (layouts/wall.py, layouts/exec.py)
    exec_callbacks.register(app, services)
    admin_callbacks.register(app, services)
    add_api(app.server, services)
    # The sign-in guard runs before every other request hook (the screen cache's included): pages, every
    # Dash callback and the API see only requests whose session (or API token) it has checked.
    install_auth(app.server, services.r, services.keys, settings, settings.var_dir)
    services.cache.install(app.server)
    install_timing(app.server)  # after the others: its before hook goes first, its after hook runs last
    app.services = services  # for tests and the CLI
    return app
