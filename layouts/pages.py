"""The room's own screens: the wall and the executive view (callbacks/live.py `page` picks them for a view)."""

from __future__ import annotations

from config.settings import Settings
from layouts.exec import make_exec_page
from layouts.wall import make_wall_page
from web.build import build_version


def page_for(settings: Settings, layout: str, ident=None):
    if layout == "wall":
        return make_wall_page(settings, build_version())
    if layout == "exec":
        return make_exec_page(settings, build_version(), ident)
    raise ValueError(f"no room screen called {layout!r}")
