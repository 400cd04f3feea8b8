"""Mastodon: post with Mastodon.py's `Mastodon(api_base_url=...).status_post` (POST /api/v1/statuses, form fields),
as a reply (`in_reply_to_id`) or a quote (`quoted_status_id`, Mastodon 4.5+).

Environment: MASTODON_BASE_URL (the instance, shared with the source) and MASTODON_PUBLISH_TOKEN (a token with
write:statuses for the brand's account). Every request carries an `Idempotency-Key` (Mastodon keeps it an hour),
so a retry returns the first status; `find` also looks through the account's own statuses for the exact text.

An image is uploaded first with `media_post` (POST /api/v2/media, its alt text as `description`) and the status
carries its attachment id in `media_ids`.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import requests
from mastodon import Mastodon
from mastodon import errors as m_errors

from publish import errors
from publish.errors import PublishError
from publish.media import Image
from publish.publisher import MEDIA_PENDING, Posted, Publisher, Request, comparable

FIND_SLACK_S = 120
MAX_ALT = 1500  # Mastodon's limit for a media description


class MastodonPublisher(Publisher):
    network = "mastodon"
    env = ("MASTODON_BASE_URL", "MASTODON_PUBLISH_TOKEN")
    secret_env = ("MASTODON_PUBLISH_TOKEN",)

    def __init__(self, environ=None, **kwargs):
        super().__init__(environ, **kwargs)
        self.base = (self.environ.get("MASTODON_BASE_URL") or "").rstrip("/")
        self._api: Mastodon | None = None
        self._last: requests.Response | None = None
        self._me: str | None = None

    @property
    def api(self) -> Mastodon:
        if self._api is None:
            self.require_configured()
            session = requests.Session()
            session.hooks["response"].append(self._remember)
            self._api = Mastodon(
                api_base_url=self.base,
                access_token=self.environ["MASTODON_PUBLISH_TOKEN"],
                session=session,
                ratelimit_method="throw",
                version_check_mode="none",
                request_timeout=self.timeout_s,
            )
        return self._api

    def _remember(self, response, *args, **kwargs):
        self._last = response
        return response

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except m_errors.MastodonRatelimitError:
            headers = dict(self._last.headers) if self._last is not None else {}
            raise errors.from_status(self.network, 429, "", headers) from None
        except m_errors.MastodonNetworkError as exc:
            raise errors.unreachable(self.network, exc) from None
        except m_errors.MastodonAPIError as exc:
            status = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
            message = exc.args[3] if len(exc.args) > 3 and exc.args[3] else ""
            headers = dict(self._last.headers) if self._last is not None else {}
            raise errors.from_status(
                self.network, status or 500, str(message), headers, env_hint="MASTODON_PUBLISH_TOKEN"
            ) from None

    def render_request(self, draft: dict, *, key: str, at: float, refs: dict | None = None) -> Request:
        body = {"status": draft["text"], "sensitive": "0"}
        if draft.get("reply_to"):
            body["in_reply_to_id"] = str(draft["reply_to"])
        if draft.get("quote_of"):
            body["quoted_status_id"] = str(draft["quote_of"])
        media = self.media_for(draft, f"{self.base}/api/v2/media")
        if media:
            body["media_ids"] = [MEDIA_PENDING]
        return Request(
            "POST",
            f"{self.base}/api/v1/statuses",
            body,
            headers={"Idempotency-Key": key},
            encoding="form",
            media=media,
        )

    def upload(self, image: Image) -> str:
        """The attachment id of the uploaded image, its alt text as the description."""
        attachment = self._call(
            self.api.media_post,
            io.BytesIO(image.data),
            mime_type=image.mime,
            description=image.alt[:MAX_ALT] or None,
            file_name=image.filename,
        )
        return str(attachment["id"])

    def attach(self, request: Request, uploaded: list) -> Request:
        body = {**request.json, "media_ids": [str(m) for m in uploaded]}
        return Request(request.method, request.url, body, request.headers, request.encoding, request.media)

    def send(self, request: Request) -> Posted:
        body = request.json
        status = self._call(
            self.api.status_post,
            body["status"],
            in_reply_to_id=body.get("in_reply_to_id"),
            quoted_status_id=body.get("quoted_status_id"),
            media_ids=body.get("media_ids"),
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return Posted(self.network, str(status["id"]), status.get("url") or "", datetime.now(UTC).timestamp())

    def max_characters(self) -> int:
        """The instance's own limit (GET /api/v2/instance); 500 where it does not say."""
        inst = self._call(self.api.instance_v2)
        try:
            return int(inst["configuration"]["statuses"]["max_characters"])
        except (KeyError, TypeError, ValueError):
            return 500

    def metrics(self, ids: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for sid in ids:  # Mastodon has no batch read of statuses by id
            status = self._call(self.api.status, sid)
            out[str(status["id"])] = {
                "likes": status.get("favourites_count") or 0,
                "reposts": status.get("reblogs_count") or 0,
                "replies": status.get("replies_count") or 0,
                "quotes": status.get("quotes_count") or 0,
            }
        return out

    def me(self) -> str:
        if self._me is None:
            self._me = str(self._call(self.api.account_verify_credentials)["id"])
        return self._me

    def find(self, intent: dict) -> Posted | None:
        want = comparable(intent["request"]["json"]["status"])
        since = intent["started_at"] - FIND_SLACK_S
        for status in self._call(self.api.account_statuses, self.me(), limit=40, exclude_reblogs=True):
            created = status.get("created_at")
            if isinstance(created, datetime) and created.timestamp() < since:
                continue
            if comparable(status.get("content") or "") == want:
                return Posted(self.network, str(status["id"]), status.get("url") or "", datetime.now(UTC).timestamp())
        return None


__all__ = ["MastodonPublisher", "PublishError"]
