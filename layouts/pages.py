"""Which page a role gets: the one place that chooses (the route calls it with the role of the request)."""

from __future__ import annotations

from config.settings import Settings
from layouts.command_center import make_page
from layouts.exec import make_exec_page
from layouts.wall import make_wall_page
from web.build import build_version


def page_for(settings: Settings, role: str):
    if role == "wall":
        return make_wall_page(settings, build_version())
    if role == "exec":
        return make_exec_page(settings, build_version())
    return make_page(settings, role)
