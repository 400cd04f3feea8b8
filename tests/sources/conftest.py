"""Source-test fixtures: settings built from a chosen environment and event overrides."""

from __future__ import annotations

import pytest

from config.settings import load_settings


@pytest.fixture
def make_settings():
    def make(event_update: dict | None = None, **env):
        settings = load_settings({"WARROOM_EVENT": "config/superbowl.yaml", **env})
        if event_update:
            sources = settings.event.sources
            for name, fields in event_update.items():
                sources = sources.model_copy(update={name: getattr(sources, name).model_copy(update=fields)})
            object.__setattr__(settings, "event", settings.event.model_copy(update={"sources": sources}))
        return settings

    return make
