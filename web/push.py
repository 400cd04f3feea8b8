"""Screen push: each new snapshot's answer reaches every open screen over a WebSocket, instead of each screen
asking every 0.5 s.

A screen says once what it would ask (the body of its screen callback request; again only when that changes).
Screens that would ask the same thing with the same roles form a group. When a snapshot is written, one
request per group goes to the web server as one of the group's own people (their cookie and CSRF token: the
guard, the role checks and the answer cache stay the web's) and the answer's gzipped bytes go to every socket
of the group in one frame. assets/push.js hands them to Dash as if its own request had been answered.

Nothing is rendered here and nothing the browser sends grants anything: the handshake needs a session the
guard would accept and an Origin of the dashboard's host, sessions are re-checked every few seconds, and the
question is answered by the web as its asker. When the socket is down (a proxy blocks it, this process
restarts), push.js asks the web itself: polling is the fallback.

One client address holds at most WARROOM_PUSH_CONNECTIONS_PER_ADDRESS open sockets (500, like the web's
`--connections-per-address`): beyond it the handshake is refused with 429 and that screen polls.
"""

from __future__ import annotations

import asyncio
import collections
import gzip
import hashlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import orjson
import redis
import requests
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.http11 import Request, Response

from auth.identity import Identity
from auth.web import CookieReader
from callbacks.response_cache import VERSION_HEADER
from config.settings import Settings
from layouts import exec as exec_layout
from layouts import ids
from layouts import wall as wall_layout
from store import snapshot
from store.keys import Keys
from web.roles import audience_of

logger = logging.getLogger(__name__)

PATH = "/push"
# A screen's answer: the first output of its screen callback, and the store push.js sets to make Dash ask.
SCREENS = {ids.SNAP_VERSION: ids.PUSH, wall_layout.VERSION: wall_layout.PUSH, exec_layout.VERSION: exec_layout.PUSH}
WATCH_S = 0.02  # how often the snapshot version is read (one GET)
HEARTBEAT_S = 2.0  # "alive, latest version is N" to every socket: push.js polls again when these stop
GRACE_S = 1.0  # a beat names the newest version seen this long ago: its answers are out (a screen without it asks)
RECHECK_S = 5.0  # each socket's session is checked again this often (a revoked kiosk link closes its screen)
MAX_MESSAGE = 64 * 1024  # a screen's question is a few KB
ASK_TIMEOUT_S = 5.0
CAPPED_LOG_S = 10.0  # at most one "refusing sockets from <address>" warning this often (as webserver.py)
SIGNED_OUT = 4401  # close code: the session no longer holds (push.js then polls, and the web says signed out)


def screen_of(body: dict) -> str | None:
    """The screen whose callback this request body asks (its first output's id), or None."""
    output = body.get("output") if isinstance(body, dict) else None
    if not isinstance(output, str):
        return None
    first = output.lstrip(".").split(".", 1)[0]
    return first if first in SCREENS else None


def canonical(body: dict, screen: str) -> list:
    """What decides the answer: the inputs and state without the clocks (n_intervals, the push store) and with
    the version the screen has left out (the group is answered "what is new", whatever each one has)."""
    volatile = {SCREENS[screen]}
    inputs = [
        (i.get("id"), i.get("property"), i.get("value"))
        for i in body.get("inputs") or []
        if isinstance(i, dict) and i.get("property") != "n_intervals" and i.get("id") not in volatile
    ]
    state = [
        (s.get("id"), s.get("property"), None if s.get("id") == screen else s.get("value"))
        for s in body.get("state") or []
        if isinstance(s, dict)
    ]
    return [body.get("output"), inputs, state]


def group_key(audience: tuple, body: dict, screen: str) -> str:
    question = orjson.dumps([list(audience), canonical(body, screen)], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha1(question).hexdigest()[:20]


def replay(body: dict, screen: str) -> bytes:
    """The request the web answers for a group: the screen's own, saying it has no snapshot yet."""
    state = [{**s, "value": None} if s.get("id") == screen else s for s in body.get("state") or []]
    return orjson.dumps({**body, "state": state})


def frame(version: int, key: str, answer: bytes) -> bytes:
    """One pushed answer: "<version> <group>\\n" and the gzipped JSON Dash would have received."""
    return f"{version} {key}\n".encode() + answer


def allowed_origin(origin: str | None, host: str | None, base_url: str = "") -> bool:
    """The dashboard's pages only (Cross-Site WebSocket Hijacking): its own host on any port, or the public URL."""
    if origin is None:
        return True  # not a browser (a load client, a tool with the cookie): the session still decides
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https"):
        return False
    if base_url and origin.rstrip("/") == base_url.rstrip("/"):
        return True
    return bool(host) and parts.hostname == urlsplit(f"//{host}").hostname


@dataclass(eq=False)
class Screen:
    ws: ServerConnection
    ident: Identity
    csrf: str
    cookie: str
    address: str = ""
    body: dict | None = None
    screen: str | None = None
    key: str | None = None
    checked_at: float = field(default_factory=time.monotonic)


class PushServer:
    def __init__(self, settings: Settings, r: redis.Redis, web_url: str):
        self.settings, self.r, self.keys = settings, r, Keys.of(settings.event)
        self.web_url = web_url.rstrip("/")
        self.base_url = settings.get("WARROOM_BASE_URL")
        self.cookies = CookieReader(r, self.keys, settings.var_dir)
        self.groups: dict[str, set[Screen]] = {}
        self.screens: set[Screen] = set()
        self.version = 0
        self.seen: collections.deque[tuple[float, int]] = collections.deque(maxlen=64)  # (when, version)
        self.watched_at = 0.0
        self.pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="push-ask")
        self.http = requests.Session()
        self.pushed = self.asked = self.refused = 0
        # Open sockets per client address: counted once the handshake is accepted (the handler runs), released
        # in the handler's finally, so a refused or failed handshake never holds a place.
        self.per_address_limit = settings.push_connections_per_address
        self.per_address: collections.Counter[str] = collections.Counter()
        self.capped = 0  # handshakes refused because their address held per_address_limit sockets
        self._capped_logged = -CAPPED_LOG_S
        self.loop: asyncio.AbstractEventLoop | None = None

    # Handshake ----------------------------------------------------------------------------------------------

    async def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if urlsplit(request.path).path != PATH:
            return connection.respond(404, "not found\n")
        if not allowed_origin(request.headers.get("Origin"), request.headers.get("Host"), self.base_url):
            self.refused += 1
            return connection.respond(403, "origin not allowed\n")
        cookie = request.headers.get("Cookie", "")
        address = connection.remote_address[0] if connection.remote_address else ""
        ident, csrf = await asyncio.get_running_loop().run_in_executor(self.pool, self.cookies.lookup, cookie, address)
        if ident is None or not csrf:
            self.refused += 1
            return connection.respond(401, "sign in first\n")
        # After the last await here: websockets runs the handler (which counts the socket) with no await in
        # between unless the socket's send buffer is full, so a burst of handshakes cannot all pass at once.
        if self.per_address[address] >= self.per_address_limit:
            self.capped += 1
            now = time.monotonic()
            if now - self._capped_logged >= CAPPED_LOG_S:
                self._capped_logged = now
                logger.warning(
                    "push: refusing sockets from %s: it holds %d (limit %d); %d refused so far (they poll)",
                    address,
                    self.per_address[address],
                    self.per_address_limit,
                    self.capped,
                )
            return connection.respond(429, "too many connections from this address\n")
        connection.warroom = Screen(connection, ident, csrf, cookie, address)  # type: ignore[attr-defined]
        return None

    # Sockets ------------------------------------------------------------------------------------------------

    async def handler(self, ws: ServerConnection) -> None:
        screen: Screen = ws.warroom  # type: ignore[attr-defined]
        self.per_address[screen.address] += 1  # before any await: released below whatever ends the socket
        self.screens.add(screen)
        try:
            await ws.send(orjson.dumps({"v": 0}).decode())  # open; the first beat names the settled version
            async for message in ws:
                if isinstance(message, str):
                    self.question(screen, message)
        finally:
            self.screens.discard(screen)
            self.leave(screen)
            self.per_address[screen.address] -= 1
            if self.per_address[screen.address] <= 0:
                del self.per_address[screen.address]

    def question(self, screen: Screen, message: str) -> None:
        """A screen says what it asks (and the number it gave that question): it joins that question's group."""
        try:
            data = orjson.loads(message)
            body, n = data["q"], data["n"]
            which = screen_of(body)
        except (orjson.JSONDecodeError, KeyError, TypeError):
            which = None
        if which is None:
            return  # not a screen's question: nothing to answer (push.js keeps polling for it)
        self.leave(screen)
        screen.body, screen.screen = body, which
        screen.key = group_key(audience_of(screen.ident), body, which)
        members = self.groups.setdefault(screen.key, set())
        members.add(screen)
        asyncio.ensure_future(screen.ws.send(orjson.dumps({"g": screen.key, "n": n}).decode()))
        if len(members) == 1 and self.version:  # a new question: answer it now, not at the next snapshot
            asyncio.ensure_future(self.answer(screen.key, self.version))

    def leave(self, screen: Screen) -> None:
        if screen.key and (members := self.groups.get(screen.key)) is not None:
            members.discard(screen)
            if not members:
                del self.groups[screen.key]
        screen.key = None

    # Answers ------------------------------------------------------------------------------------------------

    def new_version(self, version: int) -> None:
        self.version = version
        self.seen.append((time.monotonic(), version))
        for key in list(self.groups):
            asyncio.ensure_future(self.answer(key, version))

    async def answer(self, key: str, version: int) -> None:
        """Ask the web once for the group (as its first member whose session still works); push the bytes."""
        loop = asyncio.get_running_loop()
        for screen in list(self.groups.get(key, ())):
            status, data = await loop.run_in_executor(self.pool, self.ask, screen, version)
            if status in (401, 403):
                await self.sign_out(screen)
                continue
            members = self.groups.get(key)
            if status == 200 and members and version >= self.version:
                broadcast([m.ws for m in members], frame(version, key, data))
                self.pushed += len(members)
            return  # 204 (nothing new) or an error: each screen asks the web itself when unsure

    def ask(self, screen: Screen, version: int) -> tuple[int, bytes]:
        self.asked += 1
        try:
            resp = self.http.post(
                f"{self.web_url}/_dash-update-component",
                data=replay(screen.body or {}, screen.screen or ""),
                headers={
                    "Cookie": screen.cookie,
                    "X-CSRFToken": screen.csrf,
                    "Content-Type": "application/json",
                    "Accept-Encoding": "gzip",
                    VERSION_HEADER: str(version),
                },
                timeout=ASK_TIMEOUT_S,
                stream=True,
            )
            with resp:
                raw = resp.raw.read(decode_content=False)
        except requests.RequestException as exc:
            logger.warning("push: the web did not answer (%s)", type(exc).__name__)
            return 0, b""
        if resp.status_code != 200:
            return resp.status_code, b""
        return 200, raw if resp.headers.get("Content-Encoding") == "gzip" else gzip.compress(raw, 5)

    async def sign_out(self, screen: Screen) -> None:
        self.leave(screen)
        await screen.ws.close(SIGNED_OUT, "signed out")

    # The watcher (a thread: Redis is synchronous here) ------------------------------------------------------

    def watch(self, stop: threading.Event) -> None:
        """New snapshot versions, handed to the event loop at once; every RECHECK_S each session checked again."""
        assert self.loop is not None
        while not stop.is_set():
            try:
                version = snapshot.version(self.r, self.keys)
                self.watched_at = time.monotonic()
                if version != self.version:
                    self.loop.call_soon_threadsafe(self.new_version, version)
                self.recheck()
            except redis.RedisError as exc:
                logger.warning("push: Redis unavailable (%s); screens poll meanwhile", type(exc).__name__)
                stop.wait(0.5)
            stop.wait(WATCH_S)

    def recheck(self) -> None:
        now = time.monotonic()
        for screen in [s for s in list(self.screens) if now - s.checked_at >= RECHECK_S]:
            screen.checked_at = now
            ident, _ = self.cookies.lookup(screen.cookie)
            if ident is None or audience_of(ident) != audience_of(screen.ident):
                self.loop.call_soon_threadsafe(lambda s=screen: asyncio.ensure_future(self.sign_out(s)))

    async def heartbeat(self) -> None:
        """Every socket hears the latest version while the watcher is alive; when it stops, so do these."""
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            now = time.monotonic()
            if now - self.watched_at < HEARTBEAT_S:
                settled = max((v for at, v in self.seen if now - at >= GRACE_S), default=0)
                broadcast([s.ws for s in self.screens], orjson.dumps({"v": settled}).decode())

    async def run(self, host: str, port: int, stop: threading.Event) -> None:
        self.loop = asyncio.get_running_loop()
        watcher = threading.Thread(target=self.watch, args=(stop,), name="push-watch", daemon=True)
        watcher.start()
        async with serve(
            self.handler,
            host,
            port,
            process_request=self.process_request,
            compression=None,  # answers are gzipped once for all; per-socket deflate would cost per screen
            max_size=MAX_MESSAGE,
            server_header=None,
        ):
            logger.info(
                "screen push on ws://%s:%s%s (%d sockets per address)", host, port, PATH, self.per_address_limit
            )
            beat = asyncio.ensure_future(self.heartbeat())
            while not stop.is_set():
                await asyncio.sleep(0.2)
            beat.cancel()
        self.pool.shutdown(wait=False, cancel_futures=True)


def web_url(settings: Settings) -> str:
    host = settings.get("HOST")
    host = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else host
    return f"http://{host}:{settings.port}"


def run(settings: Settings, r: redis.Redis, stop: threading.Event) -> None:
    from webserver import raise_open_files_limit

    raise_open_files_limit()  # a socket per open screen: a thousand screens pass the usual soft limit of 1024
    server = PushServer(settings, r, web_url(settings))
    asyncio.run(server.run(settings.get("HOST"), settings.push_port, stop))
