"""The Dash app: create_app(settings) -> Dash, wiring the web domain (web/) to screens and routes."""

from __future__ import annotations

import dash
import redis

from callbacks import alerts as alert_callbacks
from callbacks import care as care_callbacks
from callbacks import exec as exec_callbacks
from callbacks import framing as framing_callbacks
from callbacks import live as live_callbacks
from callbacks import wall as wall_callbacks
from config.settings import Settings
from layouts.command_center import make_shell
from web.api import add_api
from web.services import build_services


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
    alert_callbacks.register(app, services)
    care_callbacks.register(app, services)
    wall_callbacks.register(app, services)  # the wall and the executive view (layouts/wall.py, layouts/exec.py)
    exec_callbacks.register(app, services)
    add_api(app.server, services)
    services.cache.install(app.server)
    app.services = services  # for tests and the CLI
    return app
