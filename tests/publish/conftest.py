"""Local network servers and the environments that point each publisher at them."""

from __future__ import annotations

import pytest

from tests.publish.servers import BlueskyServer, ImageServer, MastodonServer, XServer


@pytest.fixture
def x_server():
    s = XServer().start()
    yield s
    s.stop()


@pytest.fixture
def bluesky_server():
    s = BlueskyServer().start()
    yield s
    s.stop()


@pytest.fixture
def image_server():
    s = ImageServer().start()
    yield s
    s.stop()


@pytest.fixture
def mastodon_server():
    s = MastodonServer().start()
    yield s
    s.stop()


def x_env(server) -> dict:
    return {
        "X_API_BASE_URL": server.url,
        "X_API_KEY": server.consumer_key,
        "X_API_SECRET": "x-consumer-secret-test",
        "X_ACCESS_TOKEN": "4242-access-token-test",
        "X_ACCESS_TOKEN_SECRET": "x-access-secret-test",
    }


def bluesky_env(server) -> dict:
    return {"BLUESKY_PDS_URL": server.url, "BLUESKY_HANDLE": server.handle, "BLUESKY_APP_PASSWORD": server.password}


def mastodon_env(server) -> dict:
    return {"MASTODON_BASE_URL": server.url, "MASTODON_PUBLISH_TOKEN": server.token}


def _local_images(env):
    """The local servers' images are on 127.0.0.1, which publishers refuse to fetch unless told (publish/media.py)."""
    return lambda server: {**env(server), "WARROOM_MEDIA_ALLOW_PRIVATE": "1"}


ENVS = {"x": _local_images(x_env), "bluesky": _local_images(bluesky_env), "mastodon": _local_images(mastodon_env)}


def approved_draft(
    network: str, text: str, now: float, card: dict | None = None, respond_as: str | None = None, **image
) -> dict:
    """A draft by dana, approved by alice (brand), through the real drafts and approvals modules (`image_url`,
    `image_alt` as the drafting form gives them)."""
    from config.settings import Approvals
    from web import approvals, drafts

    card = card or {"id": "c1", "type": "opportunity", "title": "Blackout"}
    d = drafts.new_draft(card, network, text, "dana", now, respond_as=respond_as, **image)
    d = approvals.submit(d, Approvals(), "dana", now)
    return approvals.approve(d, "alice", ["brand"], now)
