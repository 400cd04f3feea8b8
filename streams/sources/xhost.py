"""tweepy 4.17 hard-codes https://api.twitter.com: one adapter sends its requests to the configured X API base
(a proxy, or the local X server the tests start). Used by the X source and the X publisher."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter

TWEEPY_HOST = "https://api.twitter.com"
DEFAULT_BASE = "https://api.x.com"  # X_API_BASE_URL unless set


class _Redirect(HTTPAdapter):
    def __init__(self, base: str):
        super().__init__()
        self.base = base.rstrip("/")

    def send(self, request, **kwargs):
        if request.url.startswith(TWEEPY_HOST):
            request.url = self.base + request.url[len(TWEEPY_HOST) :]
        return super().send(request, **kwargs)


def redirect(session: requests.Session, base: str) -> None:
    """Send `session`'s requests for tweepy's host to `base` instead (nothing to do when they are the same)."""
    if base.rstrip("/") != TWEEPY_HOST:
        session.mount(TWEEPY_HOST, _Redirect(base))
