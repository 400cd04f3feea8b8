"""Local HTTP servers speaking just enough of each network's real API for the publishers' tests.

Each records every request (method, path, query, headers, body), keeps the posts it accepted, can be told to answer
the next request to a route with an error (`fail`), and can hold a post's answer after storing it (`hold`): the
crash test kills the publisher while the post exists and its answer has not arrived.

- X API v2: POST /2/tweets (media ids must have been uploaded), GET /2/tweets?ids= (public_metrics), GET
  /2/users/me, GET /2/users/:id/tweets (text answered with t.co links, &amp;), POST /2/media/upload (multipart
  `media`, `media_category`), POST /2/media/metadata (alt text).
- Bluesky PDS (XRPC): com.atproto.server.describeServer, createSession, com.atproto.repo.createRecord (blobs in an
  images embed must have been uploaded), uploadBlob (raw body), getRecord, listRecords,
  com.atproto.identity.resolveHandle, app.bsky.feed.getPosts (with counts).
- Mastodon: GET /api/v1/instance, /api/v2/instance, POST /api/v1/statuses (form, Idempotency-Key, media_ids[]),
  POST /api/v2/media (multipart `file`, `description`), GET /api/v1/statuses/:id (with counts),
  /api/v1/accounts/verify_credentials, /api/v1/accounts/:id/statuses.
- Images: `ImageServer` serves a real PNG, a 404, an HTML page and an oversize PNG.

Every server keeps what was uploaded in `media` (id -> {"data", "mime", "alt", ...}).

`engage(post_id, likes=..., ...)` sets what a metrics poll of one of the posts answers.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import html
import json
import re
import struct
import sys
import threading
import time
import zlib
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

URL = re.compile(r"https?://\S+")


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def png(width: int = 2, height: int = 2, padding: int = 0) -> bytes:
    """A real PNG (an orange square); `padding` adds an ancillary chunk of that many bytes (a large file)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\xff\x88\x00" * width for _ in range(height))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if padding:
        out += chunk(b"teXt", b"pad\x00" + b"x" * padding)
    return out + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def multipart(raw: bytes, ctype: str) -> tuple[dict, dict]:
    """(fields, files) of a multipart/form-data body; files: name -> {"filename", "content_type", "data"}."""
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + raw)
    fields: dict = {}
    files: dict = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files[name] = {"filename": part.get_filename(), "content_type": part.get_content_type(), "data": data}
        else:
            fields[name] = data.decode()
    return fields, files


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return  # a client hung up (one refuses an oversize image on its Content-Length): not a server fault
        super().handle_error(request, client_address)


class Local:
    """Base: a threaded server on 127.0.0.1 with a request log, injected failures and a hold gate."""

    def __init__(self):
        self.requests: list[dict] = []
        self.posts: list[dict] = []
        self.failures: dict[tuple[str, str], list[tuple[int, dict, dict]]] = {}
        self.lock = threading.Lock()
        self.held = threading.Event()  # set when a post was stored and its answer is being held
        self.release = threading.Event()
        self.hold_posts = False
        self.engagement: dict[str, dict] = {}  # post id -> the network's counts (likes, reposts, replies, quotes)
        self.media: dict[str, dict] = {}  # uploaded media id -> {"data", "mime", "alt", ...}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _serve(self, method):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                ctype = self.headers.get("Content-Type", "")
                files: dict = {}
                if "json" in ctype and raw:
                    body = json.loads(raw)
                elif ctype.startswith("multipart/form-data"):
                    body, files = multipart(raw, ctype)
                elif raw and not ctype.startswith(("image/", "application/octet-stream")):
                    body = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw.decode()).items()}
                else:
                    body = None
                req = {
                    "method": method,
                    "path": parts.path,
                    "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                    "query_all": parse_qs(parts.query),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body,
                    "files": files,
                    "raw": raw,
                    "encoding": "json" if "json" in ctype else ("form" if raw else None),
                }
                with server.lock:
                    server.requests.append(req)
                    queue = server.failures.get((method, parts.path))
                    injected = queue.pop(0) if queue else None
                if injected:
                    status, payload, headers = injected
                else:
                    status, payload, headers = server.route(req)
                headers = dict(headers)
                if isinstance(payload, bytes):  # a raw answer (an image, an empty body): its own Content-Type
                    data, content_type = payload, headers.pop("Content-Type", "application/octet-stream")
                else:
                    data, content_type = json.dumps(payload).encode(), "application/json; charset=utf-8"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def fail(self, method: str, path: str, status: int, payload: dict | None = None, headers=None, times: int = 1):
        with self.lock:
            self.failures.setdefault((method, path), []).extend([(status, payload or {}, dict(headers or {}))] * times)

    def created(self, post: dict) -> None:
        """Store an accepted post; with `hold_posts`, wait (bounded) before answering."""
        with self.lock:
            self.posts.append(post)
        if self.hold_posts:
            self.held.set()
            self.release.wait(timeout=30)

    def engage(self, post_id: str, **counts: int) -> None:
        """Set what the network counts for one of the posts (what a metrics poll answers)."""
        with self.lock:
            self.engagement[post_id] = {**self.engagement.get(post_id, {}), **counts}

    def counts(self, post_id: str) -> dict:
        e = self.engagement.get(post_id, {})
        return {k: int(e.get(k, 0)) for k in ("likes", "reposts", "replies", "quotes")}

    def writes(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST" and r["path"] == path]

    def route(self, req: dict) -> tuple[int, dict, dict]:
        raise NotImplementedError


class XServer(Local):
    """X API v2 for one account; OAuth 1.0a requests must carry the expected consumer key."""

    def __init__(self, consumer_key="ck-test", user_id="4242", username="oreo"):
        super().__init__()
        self.consumer_key = consumer_key
        self.user_id = user_id
        self.username = username
        self.next_id = 1_900_000_000_000_000_000

    def _authorized(self, req) -> bool:
        auth = req["headers"].get("authorization", "")
        return auth.startswith("OAuth ") and f'oauth_consumer_key="{self.consumer_key}"' in auth

    def route(self, req):
        if not self._authorized(req):
            return 401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}, {}
        path = req["path"]
        if req["method"] == "POST" and path == "/2/media/upload":
            media = req["files"].get("media")
            if media is None or not media["data"]:
                return 400, {"errors": [{"message": "media is required"}], "title": "Invalid Request"}, {}
            with self.lock:
                self.next_id += 1
                mid = str(self.next_id)
                self.media[mid] = {
                    "data": media["data"],
                    "mime": media["content_type"],
                    "category": req["body"].get("media_category"),
                    "alt": None,
                }
            data = {
                "id": mid,
                "media_key": f"3_{mid}",
                "size": len(media["data"]),
                "expires_after_secs": 86400,
                "image": {"image_type": media["content_type"], "w": 2, "h": 2},
            }
            return 200, {"data": data}, {}
        if req["method"] == "POST" and path == "/2/media/metadata":
            body = req["body"] or {}
            m = self.media.get(str(body.get("id")))
            if m is None:
                return 400, {"errors": [{"message": "Invalid media id"}], "title": "Invalid Request"}, {}
            m["alt"] = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
            return 200, {"data": {"id": body["id"], "associated_metadata": True}}, {}
        if req["method"] == "POST" and path == "/2/tweets":
            text = req["body"]["text"]
            if any(p["text"] == text for p in self.posts):
                detail = "You are not allowed to create a Tweet with duplicate content."
                return 403, {"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403}, {}
            media_ids = (req["body"].get("media") or {}).get("media_ids") or []
            if any(m not in self.media for m in media_ids):
                detail = "Your media IDs are invalid."
                return 400, {"errors": [{"message": detail}], "title": "Invalid Request", "detail": detail}, {}
            with self.lock:
                self.next_id += 1
                tid = str(self.next_id)
            post = {"id": tid, "text": text, "created_at": time.time(), "body": req["body"]}
            self.created(post)
            return 201, {"data": {"id": tid, "text": text, "edit_history_tweet_ids": [tid]}}, {}
        if req["method"] == "GET" and path == "/2/tweets":
            found = []
            for tid in req["query"].get("ids", "").split(","):
                if p := next((p for p in self.posts if p["id"] == tid), None):
                    c = self.counts(tid)
                    metrics = {
                        "retweet_count": c["reposts"],
                        "reply_count": c["replies"],
                        "like_count": c["likes"],
                        "quote_count": c["quotes"],
                        "bookmark_count": 0,
                        "impression_count": 0,
                    }
                    found.append(
                        {"id": tid, "text": p["text"], "edit_history_tweet_ids": [tid], "public_metrics": metrics}
                    )
            return 200, {"data": found} if found else {"errors": [{"title": "Not Found Error"}]}, {}
        if req["method"] == "GET" and path == "/2/users/me":
            return 200, {"data": {"id": self.user_id, "name": "OREO", "username": self.username}}, {}
        if req["method"] == "GET" and path == f"/2/users/{self.user_id}/tweets":
            since = req["query"].get("start_time")
            floor = datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp() if since else 0
            shown = []
            for p in reversed(self.posts):
                if p["created_at"] < floor:
                    continue
                # X answers links as t.co and escapes &, < and > in text.
                text = URL.sub(
                    lambda m: "https://t.co/" + hashlib.sha1(m.group(0).encode()).hexdigest()[:10], p["text"]
                )
                text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                shown.append(
                    {
                        "id": p["id"],
                        "text": text,
                        "created_at": _iso(p["created_at"]),
                        "edit_history_tweet_ids": [p["id"]],
                    }
                )
            return (
                200,
                {"data": shown, "meta": {"result_count": len(shown)}} if shown else {"meta": {"result_count": 0}},
                {},
            )
        return 404, {"title": "Not Found Error", "detail": f"no route {path}"}, {}


def _jwt(payload: dict) -> str:
    def seg(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{seg({'alg': 'ES256K', 'typ': 'at+jwt'})}.{seg(payload)}.c2lnbmF0dXJl"


def _cid(value: dict) -> str:
    digest = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).digest()
    return "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")[:52]


class BlueskyServer(Local):
    """A PDS for one account (did:plc:brand / oreo.test) plus a few other people's posts to reply to."""

    def __init__(self, handle="oreo.test", password="app-pass-test", did="did:plc:brandbrandbrand"):
        super().__init__()
        self.handle, self.password, self.did = handle, password, did
        self.access = _jwt(
            {"scope": "com.atproto.appPass", "sub": did, "exp": int(time.time()) + 7200, "iat": int(time.time())}
        )
        self.records: dict[str, dict] = {}  # uri -> {"uri", "cid", "value"}
        self.handles = {handle: did, "fan.test": "did:plc:fanfanfan"}

    def add_foreign(self, did: str, rkey: str, text: str, reply: dict | None = None) -> dict:
        value = {"$type": "app.bsky.feed.post", "text": text, "createdAt": _iso(time.time())}
        if reply:
            value["reply"] = reply
        uri = f"at://{did}/app.bsky.feed.post/{rkey}"
        rec = {"uri": uri, "cid": _cid(value), "value": value}
        self.records[uri] = rec
        return rec

    def _err(self, status, error, message):
        return status, {"error": error, "message": message}, {}

    def route(self, req):
        path = req["path"]
        if not path.startswith("/xrpc/"):
            return self._err(404, "NotFound", path)
        nsid = path[len("/xrpc/") :]
        if nsid == "com.atproto.server.describeServer":
            return 200, {"did": "did:web:localhost", "availableUserDomains": [".test"], "inviteCodeRequired": True}, {}
        if nsid == "com.atproto.server.createSession":
            body = req["body"] or {}
            if body.get("identifier") not in (self.handle, self.did) or body.get("password") != self.password:
                return self._err(401, "AuthenticationRequired", "Invalid identifier or password")
            return (
                200,
                {
                    "did": self.did,
                    "handle": self.handle,
                    "accessJwt": self.access,
                    "refreshJwt": self.access,
                    "active": True,
                },
                {},
            )
        if nsid == "com.atproto.identity.resolveHandle":
            did = self.handles.get(req["query"].get("handle", ""))
            return (200, {"did": did}, {}) if did else self._err(400, "InvalidRequest", "Unable to resolve handle")
        if req["headers"].get("authorization") != f"Bearer {self.access}":
            return self._err(401, "AuthenticationRequired", "Authentication Required")
        q = req["query"]
        if nsid == "com.atproto.repo.uploadBlob":
            data = req["raw"]
            mime = req["headers"].get("content-type", "")
            if not data or not mime or "*" in mime:
                return self._err(400, "InvalidRequest", "blob needs a body and its Content-Type")
            cid = "bafkrei" + base64.b32encode(hashlib.sha256(data).digest()).decode().lower().rstrip("=")[:52]
            with self.lock:
                self.media[cid] = {"data": data, "mime": mime}
            return 200, {"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(data)}}, {}
        if nsid == "com.atproto.repo.createRecord":
            body = req["body"]
            if body["repo"] not in (self.handle, self.did):
                return self._err(400, "InvalidRequest", "repo mismatch")
            embed = body["record"].get("embed") or {}
            images = (embed.get("media") if embed.get("$type") == "app.bsky.embed.recordWithMedia" else embed) or {}
            for img in images.get("images") or []:
                blob = img.get("image") or {}
                if (blob.get("ref") or {}).get("$link") not in self.media or "alt" not in img:
                    return self._err(400, "InvalidRequest", "Invalid app.bsky.embed.images: blob not found")
            rkey = body.get("rkey") or f"{int(time.time() * 1e6):x}"
            uri = f"at://{self.did}/{body['collection']}/{rkey}"
            if uri in self.records:
                return self._err(400, "InvalidRequest", f"Record already exists: {uri}")
            rec = {"uri": uri, "cid": _cid(body["record"]), "value": body["record"]}
            with self.lock:
                self.records[uri] = rec
            self.created({"uri": uri, "text": body["record"]["text"], "body": body, "created_at": time.time()})
            return 200, {"uri": uri, "cid": rec["cid"], "validationStatus": "valid"}, {}
        if nsid == "com.atproto.repo.getRecord":
            repo = self.handles.get(q.get("repo"), q.get("repo"))
            rec = self.records.get(f"at://{repo}/{q.get('collection')}/{q.get('rkey')}")
            return (200, rec, {}) if rec else self._err(400, "RecordNotFound", "Could not locate record")
        if nsid == "com.atproto.repo.listRecords":
            repo = self.handles.get(q.get("repo"), q.get("repo"))
            prefix = f"at://{repo}/{q.get('collection')}/"
            return 200, {"records": [r for u, r in self.records.items() if u.startswith(prefix)]}, {}
        if nsid == "app.bsky.feed.getPosts":
            views = []
            for uri in req["query_all"].get("uris", []):
                if rec := self.records.get(uri):
                    did = uri.split("/")[2]
                    handle = next((h for h, d in self.handles.items() if d == did), "someone.test")
                    c = self.counts(uri)
                    views.append(
                        {
                            "uri": uri,
                            "cid": rec["cid"],
                            "author": {"did": did, "handle": handle},
                            "record": rec["value"],
                            "indexedAt": rec["value"]["createdAt"],
                            "likeCount": c["likes"],
                            "repostCount": c["reposts"],
                            "replyCount": c["replies"],
                            "quoteCount": c["quotes"],
                        }
                    )
            return 200, {"posts": views}, {}
        return self._err(501, "MethodNotImplemented", nsid)


class MastodonServer(Local):
    def __init__(self, token="masto-token-test", max_characters=500):
        super().__init__()
        self.token = token
        self.max_characters = max_characters
        self.account = {"id": "109", "username": "oreo", "acct": "oreo", "display_name": "OREO"}
        self.idempotent: dict[str, dict] = {}
        self.next_id = 112_000_000_000_000_000

    def route(self, req):
        path = req["path"]
        if path in ("/api/v1/instance", "/api/v1/instance/"):
            return (
                200,
                {
                    "uri": "127.0.0.1",
                    "title": "Local",
                    "version": "4.5.0",
                    "configuration": {"statuses": {"max_characters": self.max_characters}},
                },
                {},
            )
        if path in ("/api/v2/instance", "/api/v2/instance/"):
            return (
                200,
                {
                    "domain": "127.0.0.1",
                    "title": "Local",
                    "version": "4.5.0",
                    "api_versions": {"mastodon": 6},
                    "configuration": {
                        "statuses": {"max_characters": self.max_characters, "characters_reserved_per_url": 23}
                    },
                },
                {},
            )
        if req["headers"].get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "The access token is invalid"}, {}
        if req["method"] == "POST" and path == "/api/v2/media":
            file = req["files"].get("file")
            if file is None or not file["data"]:
                return 422, {"error": "Validation failed: File can't be blank"}, {}
            with self.lock:
                self.next_id += 1
                mid = str(self.next_id)
            description = (req["body"] or {}).get("description")
            self.media[mid] = {"data": file["data"], "mime": file["content_type"], "alt": description}
            attachment = {
                "id": mid,
                "type": "image",
                "url": f"{self.url}/system/media_attachments/{mid}/original.png",
                "preview_url": f"{self.url}/system/media_attachments/{mid}/small.png",
                "remote_url": None,
                "meta": {"original": {"width": 2, "height": 2}},
                "description": description,
                "blurhash": None,
            }
            return 200, attachment, {}
        if req["method"] == "POST" and path == "/api/v1/statuses":
            key = req["headers"].get("idempotency-key")
            if key and key in self.idempotent:
                return 200, self.idempotent[key], {}
            text = req["body"]["status"]
            if len(text) > self.max_characters:
                return 422, {"error": f"Validation failed: Text character limit of {self.max_characters} exceeded"}, {}
            ids = req["body"].get("media_ids[]") or []
            ids = [ids] if isinstance(ids, str) else ids
            if any(m not in self.media for m in ids):
                return 422, {"error": "Validation failed: Media attachments are invalid"}, {}
            attachments = [
                {"id": m, "type": "image", "description": self.media[m]["alt"], "url": f"{self.url}/m/{m}"} for m in ids
            ]
            with self.lock:
                self.next_id += 1
                sid = str(self.next_id)
            now = time.time()
            content = (
                "<p>"
                + URL.sub(
                    lambda m: (
                        f'<a href="{m.group(0)}" rel="nofollow noopener" target="_blank">'
                        f'<span class="invisible">https://</span><span class="">{html.escape(m.group(0)[8:])}</span></a>'
                    ),
                    html.escape(text, quote=False).replace("\n", "<br />"),
                )
                + "</p>"
            )
            status = {
                "id": sid,
                "created_at": _iso(now),
                "content": content,
                "visibility": "public",
                "url": f"{self.url}/@oreo/{sid}",
                "uri": f"{self.url}/users/oreo/statuses/{sid}",
                "in_reply_to_id": req["body"].get("in_reply_to_id"),
                "account": self.account,
                "reblog": None,
                "media_attachments": attachments,
                "mentions": [],
                "tags": [],
                "emojis": [],
            }
            if key:
                self.idempotent[key] = status
            self.created({"id": sid, "text": text, "body": req["body"], "created_at": now, "status": status})
            return 200, status, {}
        if req["method"] == "GET" and path.startswith("/api/v1/statuses/"):
            sid = path.rsplit("/", 1)[-1]
            p = next((p for p in self.posts if p["id"] == sid), None)
            if p is None:
                return 404, {"error": "Record not found"}, {}
            c = self.counts(sid)
            counts = {
                "favourites_count": c["likes"],
                "reblogs_count": c["reposts"],
                "replies_count": c["replies"],
                "quotes_count": c["quotes"],
            }
            return 200, {**p["status"], **counts}, {}
        if path == "/api/v1/accounts/verify_credentials":
            return 200, self.account, {}
        if path == f"/api/v1/accounts/{self.account['id']}/statuses":
            return 200, [p["status"] for p in reversed(self.posts)][: int(req["query"].get("limit", 20))], {}
        return 404, {"error": "Record not found"}, {}


class ImageServer(Local):
    """Where a draft's image lives: /cookie.png (a real PNG), /missing.png (404), /page.html (an HTML page said to be
    the image), /huge.png (a PNG of `huge` bytes), /liar.png (HTML bytes served as image/png), /moved.png (a redirect to the PNG),
    /loop.png (a redirect to itself)."""

    def __init__(self, huge: int = 6 * 1024 * 1024):
        super().__init__()
        self.cookie = png()
        self.huge = png(padding=huge)

    def route(self, req):
        path = req["path"]
        if path == "/cookie.png":
            return 200, self.cookie, {"Content-Type": "image/png"}
        if path == "/huge.png":
            return 200, self.huge, {"Content-Type": "image/png"}
        if path == "/page.html":
            return 200, b"<html><body>A cookie</body></html>", {"Content-Type": "text/html; charset=utf-8"}
        if path == "/liar.png":
            return 200, b"<html><body>not a png</body></html>", {"Content-Type": "image/png"}
        if path == "/moved.png":  # a CDN's redirect to the file
            return 302, b"", {"Location": "/cookie.png", "Content-Type": "text/plain"}
        if path == "/loop.png":
            return 302, b"", {"Location": "/loop.png", "Content-Type": "text/plain"}
        return 404, b"Not Found", {"Content-Type": "text/plain"}
