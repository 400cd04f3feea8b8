"""What every network's publisher does: render the exact request, send it (with retries that never double-post),
and find a post it may already have made (for reconciliation after a crash)."""

from __future__ import annotations

import hashlib
import html
import logging
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

from publish import errors
from publish import media as images
from publish.errors import PublishError

logger = logging.getLogger(__name__)

URL_RE = re.compile(r"https?://\S+", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]+>")
_BREAK_RE = re.compile(r"<br\s*/?>|</p>\s*<p>", re.IGNORECASE)
MEDIA_PENDING = "(uploaded when published)"  # in a rendered request: the upload's id goes here


@dataclass(frozen=True)
class Request:
    """The HTTP request a publish sends: what the card shows in dry-run and what the intent records."""

    method: str
    url: str
    json: dict
    headers: dict = field(default_factory=dict)  # only headers that matter and are not secret
    encoding: str = "json"  # "json", or "form" (Mastodon.py posts form fields)
    # Images to fetch and upload first ({"url", "alt", "upload": the network's upload endpoint}); `json` holds
    # MEDIA_PENDING where the uploads' ids go (`Publisher.attach`).
    media: list = field(default_factory=list)

    def as_dict(self) -> dict:
        d = asdict(self)
        if not d["media"]:
            del d["media"]  # a post without images: the request as before
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> Request:
        return cls(
            d["method"],
            d["url"],
            dict(d["json"]),
            dict(d.get("headers") or {}),
            d.get("encoding", "json"),
            [dict(m) for m in d.get("media") or []],
        )


@dataclass(frozen=True)
class Posted:
    network: str
    id: str
    url: str
    at: float
    cid: str | None = None  # Bluesky's content hash

    def as_dict(self) -> dict:
        return asdict(self)


def idempotency_key(draft: dict) -> str:
    """One key per draft revision: publishing the same approved text twice is the same intent."""
    revision = (draft.get("approval") or {}).get("revision", 0)
    return hashlib.sha256(f"{draft['id']}:{revision}".encode()).hexdigest()[:24]


def comparable(text: str) -> str:
    """Text as a network shows it back, made comparable with what was sent: HTML and entities removed, every link
    reduced to a marker (X answers t.co links), whitespace collapsed."""
    text = _BREAK_RE.sub("\n", text or "")
    text = html.unescape(_TAG_RE.sub("", text))
    text = URL_RE.sub("<link>", text)
    return " ".join(text.split())


class _Redact(logging.Filter):
    """Replaces secret values in records of a library's logger (tweepy logs request headers at DEBUG)."""

    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: list[str]) -> None:
        self.secrets = sorted({*self.secrets, *(s for s in secrets if s and len(s) >= 4)}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = message
        for s in self.secrets:
            clean = clean.replace(s, "***")
        if clean != message:
            record.msg, record.args = clean, ()
        return True


class Publisher:
    """Base for X, Bluesky and Mastodon. Subclasses set `network`, `env` and implement the four hooks."""

    network = ""
    env: tuple[str, ...] = ()  # credentials, all needed for live publishing
    secret_env: tuple[str, ...] = ()
    max_image_bytes = images.MAX_BYTES

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        *,
        retries: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        timeout_s: float = 10.0,
    ):
        self.environ = dict(os.environ if environ is None else environ)
        self.retries = retries
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.timeout_s = timeout_s

    # --- what subclasses provide
    def render_request(self, draft: dict, *, key: str, at: float, refs: dict | None = None) -> Request:
        raise NotImplementedError

    def lookup(self, draft: dict) -> dict:
        """Network reads the request needs (Bluesky: reply/quote strong refs, mention DIDs). Nothing by default."""
        return {}

    def send(self, request: Request) -> Posted:
        """One attempt; raises PublishError."""
        raise NotImplementedError

    def upload(self, image: images.Image) -> object:
        """Upload one image with its alt text; what `attach` puts in the post (a media id, a blob ref)."""
        raise PublishError(errors.INVALID, f"{errors.NAMES[self.network]} images are not supported here.")

    def attach(self, request: Request, uploaded: list) -> Request:
        """The request with the uploads in place of MEDIA_PENDING."""
        raise NotImplementedError

    def media_for(self, draft: dict, upload_url: str) -> list[dict]:
        """What the rendered request says will be uploaded first (the dry run shows it; nothing is fetched)."""
        image = draft.get("image") or {}
        if not image.get("url"):
            return []
        return [{"url": image["url"], "alt": image.get("alt") or "", "upload": upload_url}]

    def find(self, intent: dict) -> Posted | None:
        """The post this intent made, if the account has it; raises PublishError when the network cannot say."""
        raise NotImplementedError

    def metrics(self, ids: list[str]) -> dict[str, dict]:
        """Post id -> {likes, reposts, replies, quotes} as the network counts them, for our own published posts
        (ids as in Posted.id); raises PublishError when the network cannot say."""
        raise NotImplementedError

    # --- shared behaviour
    @property
    def configured(self) -> bool:
        return all(self.environ.get(name) for name in self.env)

    def missing(self) -> list[str]:
        return [name for name in self.env if not self.environ.get(name)]

    def secrets(self) -> list[str]:
        return [self.environ.get(n, "") for n in self.secret_env]

    def require_configured(self) -> None:
        if not self.configured:
            raise PublishError(
                errors.NOT_CONFIGURED,
                f"{errors.NAMES[self.network]} is not configured: set {', '.join(self.missing())} in the environment.",
                network=self.network,
            )

    def publish(self, intent: dict) -> Posted:
        """Send the intent's request. A server error or a lost connection is retried with back-off, but only after
        checking the account does not already have the post (the failed attempt may have gone through)."""
        self.require_configured()
        request = Request.from_dict(intent["request"])
        # The images first (fetched once; a bad one fails here, before anything is posted), uploaded once: an upload
        # whose post then fails is an orphan the network discards, never a second post.
        fetched = [
            images.fetch(
                m["url"],
                m.get("alt") or "",
                network=self.network,
                max_bytes=self.max_image_bytes,
                timeout_s=self.timeout_s,
                allow_private=self.environ.get(images.ALLOW_PRIVATE_ENV) == "1",
            )
            for m in request.media
        ]
        uploaded: list | None = None
        attempt = 0
        while True:
            try:
                if fetched and uploaded is None:
                    uploaded = [self.upload(image) for image in fetched]
                return self.send(self.attach(request, uploaded) if fetched else request)
            except PublishError as exc:
                if exc.kind == errors.DUPLICATE or exc.kind in errors.RETRYABLE:
                    found = self._find_quietly(intent)
                    if found is not None:
                        logger.info("%s: the post of intent %s was already there", self.network, intent["key"])
                        return found
                if exc.kind not in errors.RETRYABLE or attempt >= self.retries:
                    if exc.kind in errors.RETRYABLE:
                        exc.words = exc.words.rstrip(".") + f" (tried {attempt + 1} times)."
                    raise
                delay = self.backoff_s * (2**attempt)
                logger.warning("%s: %s; retry %d in %.1fs", self.network, exc.kind, attempt + 1, delay)
                self.sleep(delay)
                attempt += 1

    def _find_quietly(self, intent: dict) -> Posted | None:
        try:
            return self.find(intent)
        except PublishError as exc:
            logger.warning("%s: could not check for an earlier post (%s)", self.network, exc.kind)
            return None

    def dry_run(self, draft: dict, now: float) -> Request:
        """What publishing this draft now would send (reads the network for references only when configured)."""
        refs = self.lookup(draft) if self.configured else {}
        return self.render_request(draft, key=idempotency_key(draft), at=now, refs=refs)


def publisher_for(network: str, environ: Mapping[str, str] | None = None, **kwargs) -> Publisher:
    if network == "x":
        from publish.x import XPublisher

        return XPublisher(environ, **kwargs)
    if network == "bluesky":
        from publish.bluesky import BlueskyPublisher

        return BlueskyPublisher(environ, **kwargs)
    if network == "mastodon":
        from publish.mastodon import MastodonPublisher

        return MastodonPublisher(environ, **kwargs)
    raise ValueError(f"no publisher for {network!r}")
