"""Publishing failures in words for the card: what happened and what to do about it."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

NAMES = {"x": "X", "bluesky": "Bluesky", "mastodon": "Mastodon"}

# Kinds: what the card and the retry logic need to know.
AUTH = "auth"  # 401: credentials wrong or revoked
FORBIDDEN = "forbidden"  # 403: the account may not do this
DUPLICATE = "duplicate"  # the network already has this exact post
RATE_LIMITED = "rate_limited"  # 429: retry after `retry_after` seconds
SERVER = "server"  # 5xx after retries
INVALID = "invalid"  # 400/422: the network refused the content
NETWORK = "network"  # could not reach the network
NOT_CONFIGURED = "not_configured"  # no credentials in the environment
PAUSED = "paused"  # the room paused publishing
IN_PROGRESS = "in_progress"  # the same draft is being published (or reconciled) right now
IMAGE = "image"  # the draft's image could not be fetched, is not an image, or is too large

RETRYABLE = {SERVER, NETWORK}


class PublishError(Exception):
    """A post that did not go out. `words` is what the card shows; secrets never appear in it."""

    def __init__(
        self, kind: str, words: str, *, status: int | None = None, retry_after: float | None = None, network: str = ""
    ):
        super().__init__(words)
        self.kind = kind
        self.words = words
        self.status = status
        self.retry_after = retry_after
        self.network = network

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "words": self.words,
            "status": self.status,
            "retry_after": self.retry_after,
            "network": self.network,
        }


def retry_after(headers: dict | None, now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or an HTTP date), X's x-rate-limit-reset (epoch seconds) or
    Mastodon's X-RateLimit-Reset (ISO time)."""
    if not headers:
        return None
    h = {str(k).lower(): str(v) for k, v in headers.items()}
    now = time.time() if now is None else now
    if "retry-after" in h:
        value = h["retry-after"].strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError):
                pass
    for name in ("x-rate-limit-reset", "ratelimit-reset", "x-ratelimit-reset"):
        if name in h:
            value = h[name].strip()
            try:
                n = float(value)
                return max(0.0, n - now if n > 1e9 else n)
            except ValueError:
                from datetime import datetime

                try:
                    return max(0.0, datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - now)
                except ValueError:
                    continue
    return None


def from_status(
    network: str, status: int, message: str = "", headers: dict | None = None, *, env_hint: str = ""
) -> PublishError:
    """Map an HTTP error answer to a PublishError with words for the card."""
    name = NAMES.get(network, network)
    detail = (message or "").strip()[:300]
    lowered = detail.lower()
    if "duplicate" in lowered:
        return PublishError(
            DUPLICATE,
            f"{name} already has this exact post (duplicate content): change the text, or check the account's posts.",
            status=status,
            network=network,
        )
    if status == 401:
        hint = f": check {env_hint}" if env_hint else ""
        return PublishError(AUTH, f"{name} refused the credentials (401){hint}.", status=status, network=network)
    if status == 403:
        why = f": {detail}" if detail else ""
        return PublishError(FORBIDDEN, f"{name} does not allow this post (403){why}.", status=status, network=network)
    if status == 429:
        wait = retry_after(headers)
        when = f"try again in {int(wait + 0.999)} s" if wait is not None else "try again in a few minutes"
        return PublishError(
            RATE_LIMITED, f"{name} rate limit reached (429): {when}.", status=status, retry_after=wait, network=network
        )
    if status >= 500:
        return PublishError(
            SERVER, f"{name} is having trouble ({status}): try again shortly.", status=status, network=network
        )
    why = f": {detail}" if detail else ""
    return PublishError(INVALID, f"{name} refused the post ({status}){why}.", status=status, network=network)


def unreachable(network: str, exc: BaseException) -> PublishError:
    name = NAMES.get(network, network)
    return PublishError(NETWORK, f"Could not reach {name} ({type(exc).__name__}): try again shortly.", network=network)
