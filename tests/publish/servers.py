"""Local HTTP servers speaking just enough of each network's real API for the publishers' tests.

Each records every request (method, path, query, headers, body), keeps the posts it accepted, can be told to answer
the next request to a route with an error (`fail`), and can hold a post's answer after storing it (`hold`): the
crash test kills the publisher while the post exists and its answer has not arrived.

- X API v2: POST /2/tweets, GET /2/tweets?ids= (public_metrics), GET /2/users/me, GET /2/users/:id/tweets (text
  answered with t.co links, &amp;).
- Bluesky PDS (XRPC): com.atproto.server.describeServer, createSession, com.atproto.repo.createRecord,
  getRecord, listRecords, com.atproto.identity.resolveHandle, app.bsky.feed.getPosts (with counts).
- Mastodon: GET /api/v1/instance, /api/v2/instance, POST /api/v1/statuses (form, Idempotency-Key),
  GET /api/v1/statuses/:id (with counts), /api/v1/accounts/verify_credentials, /api/v1/accounts/:id/statuses.

`engage(post_id, likes=..., ...)` sets what a metrics poll of one of the posts answers.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

URL = re.compile(r"https?://\S+")


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
                if "json" in ctype and raw:
                    body = json.loads(raw)
                elif raw:
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
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
        if req["method"] == "POST" and path == "/2/tweets":
            text = req["body"]["text"]
            if any(p["text"] == text for p in self.posts):
                detail = "You are not allowed to create a Tweet with duplicate content."
                return 403, {"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403}, {}
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
        if nsid == "com.atproto.repo.createRecord":
            body = req["body"]
            if body["repo"] not in (self.handle, self.did):
                return self._err(400, "InvalidRequest", "repo mismatch")
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
        if req["method"] == "POST" and path == "/api/v1/statuses":
            key = req["headers"].get("idempotency-key")
            if key and key in self.idempotent:
                return 200, self.idempotent[key], {}
            text = req["body"]["status"]
            if len(text) > self.max_characters:
                return 422, {"error": f"Validation failed: Text character limit of {self.max_characters} exceeded"}, {}
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
                "media_attachments": [],
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
