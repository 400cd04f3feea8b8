"""Serve identical Dash callback requests from one computed response, so 200 screens cost about one.

Every screen asks the same question each tick: "I have snapshot version N, these filters, this role:
what changed?". The answer depends only on that question and on the current snapshot version, so
the first screen to ask computes it through Dash and every other screen gets the same bytes without
touching Dash. Callbacks that read live state (writes, the card list after a save) are not listed
here and are never cached.

With several web processes, `shared` (store/answers.py) is the layer under this one: the process that asks
first computes and stores the bytes in Redis, the others take them from there. Each answer says where it came
from in an `X-Answer` header (computed, process, shared), which is how the tests count computations.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

import flask
import orjson

logger = logging.getLogger(__name__)

ENDPOINT = "/_dash-update-component"
VERSION_HEADER = "X-Snapshot-Version"  # web/push.py: the version it asks for
MIN_GZIP = 1024
WAIT_S = 2.0
SHARED_WAIT_S = 1.5  # the first asker waits this long for another process's answer, then computes it here


class ResponseCache:
    """`versioned`: first-output id -> input keys ("id.prop") that differ per screen but not the answer
    (a tick counter). `version` returns the current snapshot version, which is part of every key.
    `canonical` maps an input or state ("id.prop", value) to the value that decides the answer: "an
    older snapshot than the current one" is one answer however old, so every lagging screen shares it.
    `audience` returns what the answer depends on about who asks (their roles, read from the request that
    the sign-in guard has already checked): screens with different audiences never share an answer.
    `shared` (store.answers.SharedAnswers, or None for one process) shares answers with other web processes."""

    def __init__(
        self,
        versioned: dict[str, set[str]],
        version: Callable[[], int],
        canonical: Callable[[str, object], object] = lambda _k, v: v,
        size: int = 1024,
        audience: Callable[[], object] = lambda: None,
        expect: Callable[[int], None] = lambda _v: None,
        shared=None,
    ):
        self.versioned, self.version, self.canonical, self.size = versioned, version, canonical, size
        self.audience, self.expect, self.shared = audience, expect, shared
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[int, bytes, bytes, str]] = OrderedDict()
        self._inflight: dict[str, threading.Event] = {}
        self.hits = self.misses = self.computed = self.shared_hits = 0

    def key(self, body: bytes) -> str | None:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        output = payload.get("output", "")
        volatile = self.versioned.get(output.lstrip(".").split(".")[0])
        if volatile is None:
            return None
        values = [
            (f"{i.get('id')}.{i.get('property')}", i.get("value"))
            for i in payload.get("inputs", []) + payload.get("state", [])
        ]
        question = orjson.dumps(
            [output, self.audience(), [(k, self.canonical(k, v)) for k, v in values if k not in volatile]],
            option=orjson.OPT_SORT_KEYS,
        )
        return f"{hashlib.sha1(question).hexdigest()}:{self.version()}"

    def get(self, key: str) -> tuple[int, bytes, bytes, str] | None:
        """The cached answer; or None, and then this caller must compute it (and then `put` it, None if it failed).

        When a new snapshot lands, every screen asks at once: one computes, the others wait for it.
        """
        return self.lookup(key)[0]

    def lookup(self, key: str) -> tuple[tuple[int, bytes, bytes, str] | None, str]:
        """(answer, where from: "process" or "shared"); (None, "computed") when this caller must compute it."""
        with self._lock:
            item = self._items.get(key)
            if item is None and (pending := self._inflight.get(key)) is None:
                self._inflight[key] = threading.Event()
                self.misses += 1
                owner = True
            else:
                owner = False
        if owner:  # first here: another process may have it (or be computing it)
            item = self.shared.obtain(key, SHARED_WAIT_S) if self.shared else None
            if item is None:
                with self._lock:
                    self.computed += 1
                return None, "computed"
            self._settle(key, item)
            with self._lock:
                self.shared_hits += 1
            return item, "shared"
        if item is None:
            pending.wait(WAIT_S + (SHARED_WAIT_S if self.shared else 0))  # the first asker may wait for another process
            with self._lock:
                item = self._items.get(key)
            if item is None:  # the computing request failed or is slow: answer this one through Dash
                with self._lock:
                    self.computed += 1
                return None, "computed"
        with self._lock:
            self._items.move_to_end(key)
            self.hits += 1
        return item, "process"

    def put(self, key: str, item: tuple[int, bytes, bytes, str] | None) -> None:
        """What this process computed for `key` (None: it failed), for its screens and the other processes."""
        if self.shared:
            if item is not None:
                self.shared.put(key, item)
            else:
                self.shared.release(key)
        self._settle(key, item)

    def _settle(self, key: str, item: tuple[int, bytes, bytes, str] | None) -> None:
        with self._lock:
            if item is not None:
                self._items[key] = item
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            if pending := self._inflight.pop(key, None):
                pending.set()

    def install(self, server: flask.Flask) -> None:
        @server.before_request
        def serve_cached():
            if flask.request.method != "POST" or not flask.request.path.endswith(ENDPOINT):
                return None
            if (want := flask.request.headers.get(VERSION_HEADER, "")).isdigit() and len(want) < 19:
                self.expect(int(want))  # the push server asks as a snapshot lands: do not answer with the last one
            key = self.key(flask.request.get_data(cache=True))
            if key is None:
                return None
            item, source = self.lookup(key)
            if item:
                status, data, packed, mimetype = item
                if packed and "gzip" in flask.request.headers.get("Accept-Encoding", ""):
                    response = flask.Response(packed, status=status, mimetype=mimetype)
                    response.headers["Content-Encoding"] = "gzip"
                    response.headers["Vary"] = "Accept-Encoding"
                else:
                    response = flask.Response(data, status=status, mimetype=mimetype)
                response.headers["X-Answer"] = source
                return response
            flask.g.response_cache_key = key
            return None

        @server.after_request
        def remember(response: flask.Response):
            key = flask.g.pop("response_cache_key", None)
            if not key:
                return response
            response.headers["X-Answer"] = "computed"
            if (
                response.status_code in (200, 204)
                and not response.direct_passthrough
                and "Content-Encoding" not in response.headers
            ):
                data = response.get_data()
                # Compressed once here, sent to every screen: about a tenth of the bytes to write.
                packed = gzip.compress(data, compresslevel=5) if len(data) > MIN_GZIP else b""
                self.put(key, (response.status_code, data, packed, response.mimetype))
            else:
                self.put(key, None)
            return response

        @server.teardown_request
        def release(_exc):
            if key := flask.g.pop("response_cache_key", None):  # the request failed before after_request
                self.put(key, None)
