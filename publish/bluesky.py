"""Bluesky: log in with atproto's `Client(base_url=...)` (com.atproto.server.createSession) and write an
app.bsky.feed.post record with com.atproto.repo.createRecord: facets for links, mentions and hashtags, reply refs
(root and parent strong refs) or a quote embed.

Environment: BLUESKY_HANDLE, BLUESKY_APP_PASSWORD (an app password, not the account's), BLUESKY_PDS_URL
(default https://bsky.social). Exactly once: every intent writes to a record key (rkey) derived from its
idempotency key, so `find` is one com.atproto.repo.getRecord and a retry cannot make a second post.

An image is uploaded first (com.atproto.repo.uploadBlob, with its Content-Type) and embedded with its alt text
(app.bsky.embed.images); a quote with an image is an app.bsky.embed.recordWithMedia.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from atproto import Client, models
from atproto_client import exceptions as at_errors
from atproto_client.models.utils import get_model_as_dict, get_or_create

from publish import errors
from publish import text as counting
from publish.errors import PublishError
from publish.media import Image
from publish.publisher import MEDIA_PENDING, Posted, Publisher, Request

DEFAULT_PDS = "https://bsky.social"
POST = "app.bsky.feed.post"
METRICS_BATCH = 25  # app.bsky.feed.getPosts takes up to 25 URIs
IMAGES = "app.bsky.embed.images"
WITH_MEDIA = "app.bsky.embed.recordWithMedia"
MAX_ALT = 2000  # Bluesky shows this much alt text
_B32 = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable, the TID alphabet


def tid(at: float, key: str) -> str:
    """A record key (TID): 53 bits of microseconds since the epoch and 10 bits of clock id (from `key`)."""
    micros = int(at * 1_000_000) & ((1 << 53) - 1)
    clock = int(hashlib.sha256(key.encode()).hexdigest(), 16) & 0x3FF
    n = (micros << 10) | clock
    return "".join(_B32[(n >> (5 * i)) & 31] for i in range(12, -1, -1))


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _rkey(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


class BlueskyPublisher(Publisher):
    network = "bluesky"
    env = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")
    secret_env = ("BLUESKY_APP_PASSWORD",)
    max_image_bytes = 2_000_000  # app.bsky.embed.images: "up to 2 MB"

    def __init__(self, environ=None, **kwargs):
        super().__init__(environ, **kwargs)
        self.base = (self.environ.get("BLUESKY_PDS_URL") or DEFAULT_PDS).rstrip("/")
        self.handle = (self.environ.get("BLUESKY_HANDLE") or "").lstrip("@").lower()
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            self.require_configured()
            c = Client(base_url=self.base)
            self._call(c.login, self.handle, self.environ["BLUESKY_APP_PASSWORD"], fetch_bsky_profile=False)
            self._client = c
        return self._client

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except at_errors.RequestErrorBase as exc:
            raise _error(exc) from None

    # --- references the record needs (network reads)
    def lookup(self, draft: dict) -> dict:
        refs: dict = {}
        target = draft.get("reply_to") or draft.get("quote_of")
        if target:
            views = self._call(self.client.app.bsky.feed.get_posts, {"uris": [target]}).posts
            if not views:
                raise PublishError(
                    errors.INVALID,
                    "The framed Bluesky post is gone (deleted?): post without reply or quote.",
                    network=self.network,
                )
            view = views[0]
            ref = {"uri": view.uri, "cid": view.cid}
            if draft.get("reply_to"):
                parent_reply = getattr(view.record, "reply", None)
                root = {"uri": parent_reply.root.uri, "cid": parent_reply.root.cid} if parent_reply else ref
                refs["reply"] = {"root": root, "parent": ref}
            else:
                refs["quote"] = ref
        dids = {}
        for _, _, handle in counting.mentions(draft["text"]):
            if "@" not in handle and "." in handle:
                try:
                    dids[handle.lower()] = self._call(
                        self.client.com.atproto.identity.resolve_handle, {"handle": handle.lower()}
                    ).did
                except PublishError:
                    continue  # an unknown handle stays plain text
        refs["dids"] = dids
        return refs

    def render_request(self, draft: dict, *, key: str, at: float, refs: dict | None = None) -> Request:
        refs = refs or {}
        dids = refs.get("dids") or {}
        text = draft["text"]
        record: dict = {"$type": POST, "text": text, "createdAt": _iso(at)}
        facets = counting.bluesky_facets(text, resolve=dids.get)
        if facets:
            record["facets"] = facets
        unknown = "(looked up when published)"
        if draft.get("reply_to"):
            reply = refs.get("reply") or {
                "root": {"uri": unknown, "cid": unknown},
                "parent": {"uri": draft["reply_to"], "cid": unknown},
            }
            record["reply"] = reply
        quote_embed = None
        if draft.get("quote_of"):
            quote = refs.get("quote") or {"uri": draft["quote_of"], "cid": unknown}
            quote_embed = {"$type": "app.bsky.embed.record", "record": quote}
            record["embed"] = quote_embed
        media = self.media_for(draft, f"{self.base}/xrpc/com.atproto.repo.uploadBlob")
        if media:
            pending = {"$type": "blob", "ref": {"$link": MEDIA_PENDING}, "mimeType": MEDIA_PENDING, "size": 0}
            images = {"$type": IMAGES, "images": [{"alt": m["alt"][:MAX_ALT], "image": pending} for m in media]}
            record["embed"] = {"$type": WITH_MEDIA, "record": quote_embed, "media": images} if quote_embed else images
        body = {"repo": self.handle or "(BLUESKY_HANDLE)", "collection": POST, "rkey": tid(at, key), "record": record}
        # Through atproto's own model, as create_record does: the body is byte for byte what goes out.
        body = get_model_as_dict(get_or_create(body, models.ComAtprotoRepoCreateRecord.Data))
        return Request("POST", f"{self.base}/xrpc/com.atproto.repo.createRecord", body, media=media)

    def upload(self, image: Image) -> dict:
        """The blob ref (JSON form) of the uploaded image."""
        out = self._call(self.client.com.atproto.repo.upload_blob, image.data, headers={"Content-Type": image.mime})
        return get_model_as_dict(out.blob)

    def attach(self, request: Request, uploaded: list) -> Request:
        body = {**request.json, "record": dict(request.json["record"])}
        embed = dict(body["record"]["embed"])
        images = dict(embed["media"] if embed["$type"] == WITH_MEDIA else embed)
        images["images"] = [{**img, "image": blob} for img, blob in zip(images["images"], uploaded, strict=True)]
        body["record"]["embed"] = {**embed, "media": images} if embed["$type"] == WITH_MEDIA else images
        return Request(request.method, request.url, body, request.headers, request.encoding, request.media)

    def send(self, request: Request) -> Posted:
        out = self._call(self.client.com.atproto.repo.create_record, request.json)
        return self._posted(out.uri, out.cid)

    def metrics(self, ids: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for i in range(0, len(ids), METRICS_BATCH):
            views = self._call(self.client.app.bsky.feed.get_posts, {"uris": ids[i : i + METRICS_BATCH]}).posts
            for v in views:
                out[v.uri] = {
                    "likes": v.like_count or 0,
                    "reposts": v.repost_count or 0,
                    "replies": v.reply_count or 0,
                    "quotes": v.quote_count or 0,
                }
        return out

    def _posted(self, uri: str, cid: str | None) -> Posted:
        url = f"https://bsky.app/profile/{self.handle}/post/{_rkey(uri)}"
        return Posted(self.network, uri, url, datetime.now(UTC).timestamp(), cid=cid)

    def find(self, intent: dict) -> Posted | None:
        body = intent["request"]["json"]
        try:
            got = self.client.com.atproto.repo.get_record(
                {"repo": body["repo"], "collection": body["collection"], "rkey": body["rkey"]}
            )
        except at_errors.BadRequestError as exc:
            if _xrpc_error(exc) == "RecordNotFound":
                return None
            raise _error(exc) from None
        except at_errors.RequestErrorBase as exc:
            raise _error(exc) from None
        return self._posted(got.uri, got.cid)


def _xrpc_error(exc: at_errors.RequestErrorBase) -> str:
    content = getattr(exc.response, "content", None)
    return getattr(content, "error", "") or ""


def _error(exc: at_errors.RequestErrorBase) -> PublishError:
    if exc.response is None:
        return errors.unreachable("bluesky", exc)
    content = exc.response.content
    message = getattr(content, "message", None) or getattr(content, "error", None) or ""
    if exc.response.status_code == 400 and getattr(content, "error", "") in ("AuthFactorTokenRequired",):
        message = "the account needs an app password (email 2FA is on)"
    return errors.from_status(
        "bluesky", exc.response.status_code, str(message), exc.response.headers, env_hint="BLUESKY_APP_PASSWORD"
    )
