"""Local servers that speak each source's real protocol: chunked HTTP (X), WebSocket (Jetstream), SSE (Mastodon), RSS."""

from __future__ import annotations

import http.server
import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import orjson
import yaml
from websockets.sync.server import serve as ws_serve

from store import health as health_store


@dataclass
class Seen:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""
    at: float = 0.0


class HTTPServer:
    """A threaded HTTP/1.1 server on a free loopback port; subclasses implement `handle(req)`."""

    def __init__(self):
        self.requests: list[Seen] = []
        self.closing = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _any(self):
                parts = urlsplit(self.path)
                n = int(self.headers.get("Content-Length") or 0)
                seen = Seen(
                    self.command, parts.path, parse_qs(parts.query), dict(self.headers), self.rfile.read(n), time.time()
                )
                outer.requests.append(seen)
                try:
                    outer.handle(self, seen)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_DELETE = _any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()

    def handle(self, h: http.server.BaseHTTPRequestHandler, req: Seen) -> None:
        raise NotImplementedError

    # Helpers for handlers
    @staticmethod
    def reply(
        h,
        status: int,
        body: bytes | dict | list = b"",
        headers: dict | None = None,
        content_type: str = "application/json",
    ) -> None:
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, str(v))
        if status != 304:
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if status != 304:
            h.wfile.write(body)

    @staticmethod
    def start_chunked(h, content_type: str) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()

    @staticmethod
    def chunk(h, data: bytes) -> None:
        h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        h.wfile.flush()

    @staticmethod
    def end_chunked(h) -> None:
        h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()

    @staticmethod
    def cut(h) -> None:
        """Drop the connection mid-stream, without the terminating chunk (a network failure)."""
        h.close_connection = True
        h.wfile.flush()
        h.connection.shutdown(2)

    def hold(self, h, seconds: float, keepalive: bytes | None, every: float) -> None:
        """Keep the stream open for `seconds`, sending `keepalive` every `every` s (None: silence)."""
        end = time.time() + seconds
        while time.time() < end and not self.closing.is_set():
            if keepalive is not None:
                self.chunk(h, keepalive)
            self.closing.wait(every)


# ---------------------------------------------------------------------------------------------
# X API v2


class XServer(HTTPServer):
    """Filtered stream, stream rules and recent search, as X serves them.

    `connections` scripts the stream: one list of steps per connection, in order, then the stream
    just sends keep-alives. Steps: ("status", code, headers), ("line", bytes), ("keepalive",),
    ("silence", seconds), ("cut",), ("end",).
    """

    def __init__(
        self,
        connections: list[list[tuple]] | None = None,
        rules: list[dict] | None = None,
        search: list[tuple[int, dict, dict]] | None = None,
        keepalive_every: float = 0.2,
    ):
        super().__init__()
        self.connections = list(connections or [])
        self.rules = list(rules or [])
        self.search = list(search or [])
        self.keepalive_every = keepalive_every
        self._next_rule = 9000

    def stream_requests(self) -> list[Seen]:
        return [s for s in self.requests if s.path == "/2/tweets/search/stream"]

    def handle(self, h, req: Seen) -> None:
        if req.path == "/2/tweets/search/stream/rules":
            return self._rules(h, req)
        if req.path == "/2/tweets/search/stream":
            return self._stream(h)
        if req.path == "/2/tweets/search/recent":
            status, headers, body = self.search.pop(0) if self.search else (200, {}, {"meta": {"result_count": 0}})
            return self.reply(h, status, body, headers)
        self.reply(h, 404, {"title": "Not Found"})

    def _rules(self, h, req: Seen) -> None:
        if req.method == "GET":
            return self.reply(
                h,
                200,
                {"data": self.rules, "meta": {"result_count": len(self.rules)}}
                if self.rules
                else {"meta": {"result_count": 0}},
            )
        body = json.loads(req.body)
        if "delete" in body:
            ids = set(body["delete"]["ids"])
            self.rules = [r for r in self.rules if r["id"] not in ids]
            return self.reply(h, 200, {"meta": {"summary": {"deleted": len(ids)}}})
        added = []
        for rule in body.get("add", []):
            self._next_rule += 1
            added.append({**rule, "id": str(self._next_rule)})
        self.rules += added
        self.reply(h, 201, {"data": added, "meta": {"summary": {"created": len(added)}}})

    def _stream(self, h) -> None:
        steps = self.connections.pop(0) if self.connections else []
        if steps and steps[0][0] == "status":
            _, code, headers = steps[0]
            return self.reply(h, code, {"title": "Too Many Requests" if code == 429 else "Error"}, headers)
        self.start_chunked(h, "application/json")
        for step in steps:
            kind = step[0]
            if kind == "line":
                self.chunk(h, step[1])
            elif kind == "keepalive":
                self.chunk(h, b"\r\n")
            elif kind == "silence":
                self.closing.wait(step[1])
            elif kind == "cut":
                return self.cut(h)
            elif kind == "end":
                return self.end_chunked(h)
        self.hold(h, 60, b"\r\n", self.keepalive_every)


def x_fixture_lines(shared) -> list[bytes]:
    """The fixture's lines exactly as X sends them (CRLF-terminated, blank lines are keep-alives)."""
    raw = (shared / "fixtures/x/filtered_stream_sample.jsonl").read_bytes()
    return (
        [line + b"\r\n" for line in raw.split(b"\r\n")[:-1]]
        if raw.endswith(b"\r\n")
        else [line + b"\r\n" for line in raw.split(b"\r\n")]
    )


# ---------------------------------------------------------------------------------------------
# Bluesky Jetstream


class JetstreamServer:
    """A Jetstream v1 WebSocket server replaying events; honours `wantedCollections` and `cursor`.

    `drop_after` closes the first connection abruptly after that many messages (a dropped link).
    """

    def __init__(self, events: list[dict], drop_after: int | None = None, hold_s: float = 30.0):
        self.events = events
        self.drop_after = drop_after
        self.hold_s = hold_s
        self.paths: list[str] = []
        self.closing = threading.Event()
        self.server = ws_serve(self._handler, "127.0.0.1", 0, compression=None)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.closing.set()
        self.server.shutdown()

    def _handler(self, ws) -> None:
        self.paths.append(ws.request.path)
        query = parse_qs(urlsplit(ws.request.path).query)
        wanted = set(query.get("wantedCollections", []))
        events = [e for e in self.events if not wanted or (e.get("commit") or {}).get("collection") in wanted]
        if "cursor" in query:
            cursor = int(query["cursor"][0])
            events = sorted((e for e in events if e["time_us"] >= cursor), key=lambda e: e["time_us"])
        drop = self.drop_after if len(self.paths) == 1 else None
        for n, event in enumerate(events):
            if drop is not None and n >= drop:
                ws.socket.shutdown(2)  # no close frame: the network went away
                return
            ws.send(json.dumps(event))
        self.closing.wait(self.hold_s)


# ---------------------------------------------------------------------------------------------
# Mastodon


def mastodon_cassette(shared) -> list[dict]:
    """The vcrpy cassette's interactions."""
    return yaml.safe_load((shared / "fixtures/mastodon/stream_user_local.yaml").read_text())["interactions"]


def sse_events(body: str) -> list[str]:
    """Split a recorded SSE body into its blocks (comments and events), each ending in a blank line."""
    return [b + "\n\n" for b in body.replace("\r\n", "\n").split("\n\n") if b.strip()]


class MastodonServer(HTTPServer):
    """Mastodon REST (instance) and streaming (SSE) endpoints.

    `connections` holds, per streaming connection, a list of SSE text blocks; ("cut") drops the
    connection. After the list the stream sends `:thump` heartbeats until the server stops.
    """

    def __init__(
        self, instance: dict, connections: list[list[str]] | dict[str, list[list[str]]], thump_every: float = 0.2
    ):
        super().__init__()
        self.instance = instance
        self.connections = connections if isinstance(connections, dict) else list(connections)
        self.thump_every = thump_every

    def stream_requests(self) -> list[Seen]:
        return [s for s in self.requests if s.path.startswith("/api/v1/streaming/")]

    def handle(self, h, req: Seen) -> None:
        if req.path in ("/api/v2/instance", "/api/v2/instance/"):
            instance = json.loads(json.dumps(self.instance))
            instance.setdefault("configuration", {}).setdefault("urls", {})["streaming"] = self.url.replace(
                "http://", "ws://"
            )
            return self.reply(h, 200, instance)
        if req.path == "/api/v1/streaming/health":
            return self.reply(h, 200, b"OK", content_type="text/plain")
        if req.path.startswith("/api/v1/streaming/"):
            if req.headers.get("Authorization", "") != "Bearer test-mastodon-token":
                return self.reply(h, 401, {"error": "The access token is invalid"})
            return self._stream(h, req.path)
        self.reply(h, 404, {"error": "Record not found"})

    def _stream(self, h, path: str) -> None:
        """Per-connection scripts, in arrival order (a list) or per timeline path (a dict of lists)."""
        scripts = self.connections.get(path, []) if isinstance(self.connections, dict) else self.connections
        blocks = scripts.pop(0) if scripts else []
        self.start_chunked(h, "text/event-stream")
        for block in blocks:
            if block == "cut":
                return self.cut(h)
            self.chunk(h, block.encode())
        self.hold(h, 60, b":thump\n\n", self.thump_every)


# ---------------------------------------------------------------------------------------------
# RSS / Atom


class FeedServer(HTTPServer):
    """Serves feeds by path with ETag and Last-Modified, answering 304 to a matching conditional GET."""

    def __init__(self, feeds: dict[str, bytes]):
        super().__init__()
        self.feeds = feeds
        self.versions: dict[str, int] = {p: 1 for p in feeds}

    def update(self, path: str, body: bytes) -> None:
        self.feeds[path] = body
        self.versions[path] += 1

    def handle(self, h, req: Seen) -> None:
        if req.path not in self.feeds:
            return self.reply(h, 404, b"not found", content_type="text/plain")
        etag = f'"v{self.versions[req.path]}"'
        modified = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(1_700_000_000 + self.versions[req.path]))
        headers = {"ETag": etag, "Last-Modified": modified}
        if req.headers.get("If-None-Match") == etag:
            return self.reply(h, 304, headers=headers)
        self.reply(h, 200, self.feeds[req.path], headers, content_type="application/rss+xml; charset=utf-8")


def wait_for(cond, timeout: float = 10.0, every: float = 0.02) -> bool:
    """Poll `cond` until it is true or `timeout` passes; returns its last value."""
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(every)
    return bool(cond())


@contextmanager
def running(target, *args, **kwargs):
    """Run a source's `run` in a thread; stop it and check it really stopped on exit."""
    stop = threading.Event()
    thread = threading.Thread(target=target, args=(*args, stop), kwargs=kwargs, daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "the source did not stop within 10 s of stop being set"


def stream_posts(r, keys) -> list[dict]:
    return [orjson.loads(fields[b"p"]) for _, fields in r.xrange(keys.stream)]


def health(r, keys, name: str) -> dict:
    return health_store.read_all(r, keys).get(name, {})


# ---------------------------------------------------------------------------------------------
# Reddit (as praw/prawcore use it)


class RedditServer(HTTPServer):
    """Reddit's OAuth token endpoint and the subreddit listings praw's streams poll.

    POST /api/v1/access_token (HTTP Basic client id/secret, `grant_type=client_credentials`) returns a
    bearer token; GET /r/<subs>/new and /r/<subs>/comments (bearer) return Listing JSON, newest first,
    honouring `limit` and `before` (a fullname: only items newer than it). `fail(n, status)` makes the
    next n listing requests answer `status`. Rate-limit headers are sent as Reddit sends them.
    """

    def __init__(
        self, client_id: str, secret: str, submissions: list[dict] | None = None, comments: list[dict] | None = None
    ):
        super().__init__()
        self.client_id, self.secret = client_id, secret
        self.token = "test-reddit-bearer-token"
        self.items = {"new": list(submissions or []), "comments": list(comments or [])}  # oldest first
        self.failures: list[int] = []
        self.lock = threading.Lock()

    def add(self, kind: str, *items: dict) -> None:
        with self.lock:
            self.items[kind] += items

    def fail(self, n: int, status: int = 503) -> None:
        with self.lock:
            self.failures += [status] * n

    def listing_requests(self) -> list[Seen]:
        return [s for s in self.requests if s.path.startswith("/r/")]

    def handle(self, h, req: Seen) -> None:
        import base64

        if req.path == "/api/v1/access_token" and req.method == "POST":
            expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
            if req.headers.get("Authorization") != expected:
                return self.reply(h, 401, {"message": "Unauthorized", "error": 401})
            if parse_qs(req.body.decode()).get("grant_type") != ["client_credentials"]:
                return self.reply(h, 400, {"error": "unsupported_grant_type"})
            return self.reply(
                h, 200, {"access_token": self.token, "token_type": "bearer", "expires_in": 86400, "scope": "*"}
            )
        parts = req.path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "r" and parts[2] in self.items and req.method == "GET":
            if req.headers.get("Authorization") != f"bearer {self.token}":
                return self.reply(h, 401, {"message": "Unauthorized", "error": 401})
            with self.lock:
                status = self.failures.pop(0) if self.failures else None
                items = list(self.items[parts[2]])
            if status:
                return self.reply(
                    h, status, b"<html><body>upstream unavailable</body></html>", content_type="text/html"
                )
            return self.reply(h, 200, self._listing(parts[2], items, req.query), self._limits())
        self.reply(h, 404, {"message": "Not Found", "error": 404})

    @staticmethod
    def _listing(kind: str, items: list[dict], query: dict) -> dict:
        limit = int(query.get("limit", ["25"])[0])
        before = query.get("before", [""])[0]
        if before:
            names = [i["name"] for i in items]
            newer = items[names.index(before) + 1 :] if before in names else []
            page = list(reversed(newer[:limit]))
        else:
            page = list(reversed(items))[:limit]
        prefix = "t3" if kind == "new" else "t1"
        return {
            "kind": "Listing",
            "data": {
                "after": None,
                "before": None,
                "dist": len(page),
                "modhash": None,
                "children": [{"kind": prefix, "data": i} for i in page],
            },
        }

    @staticmethod
    def _limits() -> dict:
        return {"x-ratelimit-remaining": "95.0", "x-ratelimit-used": "5", "x-ratelimit-reset": "300"}
