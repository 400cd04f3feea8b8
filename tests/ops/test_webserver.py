"""The real web process (`cli.py serve` on the test's Valkey) against bad clients, on loopback.

1,000 idle and 200 slow (a byte a second) connections are held open; the dashboard and /api/health must still
answer within 2 s, the process must survive holding more than 1,024 descriptors (waitress on poll(), not
select()), and the slow and idle ones must be shed once the header deadline has passed, not before.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import psutil
import pytest

from tests.web.stack import ROOT, free_port

HEADER_TIMEOUT_S = 8.0
PER_ADDRESS = 300
IDLE, SLOW = 1000, 200


@pytest.fixture(scope="module")
def web(redis_server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web")
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WARROOM_VAR": str(tmp / "var"),
    }
    log = open(tmp / "serve.log", "ab")  # noqa: SIM115
    args = ["--header-timeout", str(HEADER_TIMEOUT_S), "--connections-per-address", str(PER_ADDRESS)]
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "cli.py"), "serve", *args], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if get(url + "/", 2)[0] == 200:
                break
        except OSError:
            pass
        assert proc.poll() is None, (tmp / "serve.log").read_text()
        assert time.monotonic() < deadline, "the web did not answer within 60 s"
        time.sleep(0.1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))  # this process holds 1,500
    yield url, proc, port, tmp / "serve.log"
    proc.terminate()
    proc.wait(10)
    log.close()


def get(url: str, timeout: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def open_from(source: str, port: int, n: int) -> list[socket.socket]:
    """`n` connections from loopback address `source` (all of 127/8 is loopback: each is a distinct client)."""
    out = []
    for _ in range(n):
        s = socket.socket()
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        out.append(s)
    return out


def established(proc: subprocess.Popen, port: int) -> int:
    conns = psutil.Process(proc.pid).net_connections("tcp")
    return sum(1 for c in conns if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port)


class Closed:
    """Watches sockets (epoll: this process holds more than 1,024) and notes when the server closes each."""

    def __init__(self, socks: list[socket.socket]):
        self.at: dict[int, float] = {}
        self.sel = selectors.DefaultSelector()
        for s in socks:
            self.sel.register(s, selectors.EVENT_READ)

    def poll(self, timeout: float = 0.1) -> None:
        for key, _ in self.sel.select(timeout):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                self.at[s.fileno()] = time.monotonic()
                self.sel.unregister(s)


def test_idle_and_slow_clients_do_not_block_the_dashboard_and_are_shed_after_the_header_deadline(web):
    url, proc, port, log = web
    opened_at = time.monotonic()
    idle = [s for k in range(4) for s in open_from(f"127.0.0.{10 + k}", port, IDLE // 4)]
    slow = open_from("127.0.0.20", port, SLOW)
    stop = threading.Event()
    request = b"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: slowloris\r\n\r\n"

    def drip():  # one byte a second on every slow connection
        i = 0
        while not stop.wait(1.0 if i else 0):
            for s in slow:
                try:
                    s.send(request[i % len(request) : i % len(request) + 1])
                except OSError:
                    pass
            i += 1

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    watch_idle, watch_slow = Closed(idle), Closed(slow)
    try:
        held = IDLE + SLOW
        deadline = time.monotonic() + 30
        while established(proc, port) < held:
            assert time.monotonic() < deadline, f"the server accepted {established(proc, port)} of {held}"
            time.sleep(0.1)
        assert psutil.Process(proc.pid).num_fds() > 1024, "the test must push the server past select()'s limit"
        waited = []
        for path in ("/", "/api/health", "/", "/api/health"):
            began = time.monotonic()
            status, body = get(url + path, 2)
            waited.append(round(time.monotonic() - began, 3))
            if path == "/api/health":
                # An outsider's health: the status and what is down (the store is up)
                assert status in (200, 503) and "redis" not in json.loads(body).get("down", []), body
            else:
                assert status == 200 and b"Sign in" in body, body[:200]  # a signed-out screen gets the sign-in page
        assert max(waited) < 2.0, waited
        assert time.monotonic() - opened_at < HEADER_TIMEOUT_S, "measured after the deadline: nothing was held"
        assert not watch_idle.at and not watch_slow.at, "connections were closed before their deadline"
        assert proc.poll() is None, log.read_text()[-2000:]

        until = time.monotonic() + HEADER_TIMEOUT_S + 10
        while (len(watch_slow.at) < SLOW or len(watch_idle.at) < IDLE) and time.monotonic() < until:
            watch_slow.poll()
            watch_idle.poll()
        assert len(watch_slow.at) == SLOW, f"{SLOW - len(watch_slow.at)} slow clients still connected"
        assert len(watch_idle.at) == IDLE, f"{IDLE - len(watch_idle.at)} silent clients still connected"
        first = min([*watch_slow.at.values(), *watch_idle.at.values()])
        assert first - opened_at >= HEADER_TIMEOUT_S, f"shed {first - opened_at:.1f}s after connecting"
        assert proc.poll() is None
        assert get(url + "/api/health", 2)[0] in (200, 503)
    finally:
        stop.set()
        dripper.join(5)
        for s in idle + slow:
            s.close()


def test_one_address_cannot_take_every_connection(web):
    url, proc, port, _ = web
    mine = open_from("127.0.0.30", port, PER_ADDRESS + 20)
    try:
        watch = Closed(mine)
        until = time.monotonic() + 10
        while len(watch.at) < 20 and time.monotonic() < until:
            watch.poll()
        assert len(watch.at) == 20, f"{len(watch.at)} of the 20 connections over the limit were refused"
        watch.poll(0.5)
        assert len(watch.at) == 20, "connections within the limit were closed too"
        began = time.monotonic()
        assert get(url + "/", 2)[0] == 200  # another address is served at once
        assert time.monotonic() - began < 2.0
    finally:
        for s in mine:
            s.close()


@pytest.fixture
def quiet_server():
    """The web's own server (webserver.GuardedServer, waitress on poll()) in this process, serving a Flask app that
    answers 204 like Dash's PreventUpdate; yields its port."""
    import collections

    import flask
    from waitress import wasyncore
    from waitress.adjustments import Adjustments
    from waitress.task import ThreadedTaskDispatcher

    from webserver import GuardedServer, Limits

    app = flask.Flask("quiet")
    app.add_url_rule("/nothing-new", "nothing", lambda: flask.Response(status=204), methods=["POST"])
    app.add_url_rule("/health", "health", lambda: "ok")
    adj = Adjustments(host="127.0.0.1", port=0, threads=2, asyncore_use_poll=True)
    socket_map: dict = {}
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(2)
    server = GuardedServer(
        app, Limits(), collections.Counter(), map=socket_map, dispatcher=dispatcher, adj=adj, sockinfo=adj.listen[0]
    )
    loop = threading.Thread(
        target=wasyncore.loop, kwargs={"timeout": 0.05, "map": socket_map, "use_poll": True}, daemon=True
    )
    loop.start()
    yield server.effective_port
    for channel in list(socket_map.values()):
        channel.close()
    loop.join(5)
    dispatcher.shutdown()


def test_an_answer_without_a_body_keeps_the_connection_open(quiet_server):
    """A 204 (Dash's "nothing new") has no body and may not carry a Content-Length; waitress closed the
    connection after it, so a polling screen paid a new connection for every quiet tick."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", quiet_server, timeout=5)
    conn.request("GET", "/health")
    first = conn.getresponse()
    assert first.status == 200 and first.read() == b"ok"
    local = conn.sock.getsockname()
    for _ in range(3):
        conn.request("POST", "/nothing-new", body=b"{}")
        quiet = conn.getresponse()
        assert quiet.status == 204 and quiet.read() == b"" and quiet.getheader("Connection") != "close"
        assert conn.sock is not None, "the server closed the connection after the 204"
    conn.request("GET", "/health")
    again = conn.getresponse()
    assert again.read() == b"ok" and conn.sock.getsockname() == local, "every request went over one connection"
    conn.request("POST", "/nothing-new", body=b"{}", headers={"Connection": "close"})
    closing = conn.getresponse()
    closing.read()
    assert closing.status == 204 and conn.sock is None, "a client that asks to close still gets it"
    conn.close()
