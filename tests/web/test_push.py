"""Screen push (web/push.py) on the real stack (`cli.py up` with push on) over real WebSockets: who may connect,
what a screen gets and that it is exactly what the web would have answered, that screens of one question share
one answer and role sets never do, that a revoked session's socket is closed, and that one address holds at most
WARROOM_PUSH_CONNECTIONS_PER_ADDRESS sockets."""

from __future__ import annotations

import asyncio
import gzip
import re
import socket as sockets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from auth.identity import cli_actor
from config.settings import load_settings
from layouts import exec as exec_layout
from layouts import ids
from layouts import wall as wall_layout
from store import tokens
from tests.web.stack import Stack, event_file, free_port, screen_question
from tests.web.stack import signed_in as stack_signed_in
from web import push


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("push")
    s = Stack(tmp / "var", event_file(tmp, rate=40), push=True).start(timeout=120)
    yield s
    s.stop()


def signed_in(stack: Stack, name: str) -> requests.Session:
    return stack_signed_in(stack.url, name)


def kiosk(stack: Stack) -> tuple[requests.Session, str]:
    """A wall that opened a kiosk link (and the link's id)."""
    r, keys = stack.store()
    try:
        secret, record = tokens.create_kiosk(r, keys, "push test wall", actor=cli_actor())
    finally:
        r.close()
    session = requests.Session()
    page = session.get(f"{stack.url}/kiosk/{secret}", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    res = session.post(f"{stack.url}/kiosk/{secret}", data={"csrf": csrf}, allow_redirects=False, timeout=30)
    assert res.status_code == 303, res.text
    session.headers["X-CSRFToken"] = session.cookies["_csrf_token"]
    return session, record["id"]


def cookie(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def question(session: requests.Session, stack: Stack, version_id: str, values: dict) -> dict:
    return screen_question(session, stack.url, version_id, values)


def wall_question(session, stack) -> dict:
    return question(session, stack, wall_layout.VERSION, {wall_layout.TICK: 1, wall_layout.REM: 28})


def socket(stack: Stack, session: requests.Session | None, origin: str | None = None):
    headers = {"Cookie": cookie(session)} if session is not None else {}
    if origin:
        headers["Origin"] = origin
    return connect(f"ws://127.0.0.1:{stack.push_port}{push.PATH}", additional_headers=headers, open_timeout=10)


def ask(ws, body: dict, n: int = 1) -> str:
    """Send a screen's question; the group key the server acknowledges it with."""
    ws.send(orjson.dumps({"n": n, "q": body}).decode())
    while True:
        msg = ws.recv(timeout=30)
        if isinstance(msg, str) and "g" in (data := orjson.loads(msg)):
            assert data["n"] == n
            return data["g"]


def pushed(ws, key: str, count: int) -> list[tuple[int, bytes]]:
    """The next `count` answers pushed for group `key`: (version, the JSON Dash would have received)."""
    out = []
    while len(out) < count:
        msg = ws.recv(timeout=30)
        if isinstance(msg, bytes):
            head, _, body = msg.partition(b"\n")
            version, group = head.decode().split(" ")
            assert group == key
            out.append((int(version), gzip.decompress(body)))
    return out


def test_outsiders_and_other_sites_cannot_open_a_socket(stack):
    with pytest.raises(InvalidStatus) as none:
        socket(stack, None)
    assert none.value.response.status_code == 401
    forged = requests.Session()
    forged.cookies.set("warroom_session", "eyJzaWQiOiJ4In0.forged.signature")
    with pytest.raises(InvalidStatus) as bad:
        socket(stack, forged)
    assert bad.value.response.status_code == 401
    sam = signed_in(stack, "sam")
    with pytest.raises(InvalidStatus) as other:
        socket(stack, sam, origin="https://evil.example")
    assert other.value.response.status_code == 403
    with socket(stack, sam, origin=stack.url) as ws:  # the dashboard's own page
        assert "v" in orjson.loads(ws.recv(timeout=10))


# The wall's outputs answered only while their view (or a takeover) is on: snapshots a rotation apart differ there.
BY_VIEW = {
    wall_layout.OVERVIEW_CHART,
    wall_layout.OVERVIEW_TRENDING,
    wall_layout.OVERVIEW_MOOD,
    wall_layout.SPOTLIGHT,
    wall_layout.STORIES,
    wall_layout.BRANDS,
    wall_layout.TAKEOVER_BODY,
    wall_layout.TAKEOVER_CHART,
}


def test_a_wall_gets_each_snapshot_as_the_web_would_answer_it(stack):
    wall, _ = kiosk(stack)
    body = wall_question(wall, stack)
    with socket(stack, wall, origin=stack.url) as ws:
        key = ask(ws, body)
        answers = pushed(ws, key, 3)
    versions = [v for v, _ in answers]
    assert versions == sorted(versions) and len(set(versions)) == 3
    direct = wall.post(f"{stack.url}/_dash-update-component", json=body, timeout=10)
    assert direct.status_code == 200
    for version, data in answers:
        response = orjson.loads(data)["response"]
        assert response[wall_layout.VERSION]["data"] >= version
        # the same outputs a poll gets, but for the panels of the view (and takeover) each snapshot has on
        assert set(response) - BY_VIEW == set(direct.json()["response"]) - BY_VIEW


def test_screens_asking_the_same_share_one_answer_and_role_sets_never_do(stack):
    walls = [kiosk(stack)[0] for _ in range(3)]
    body = wall_question(walls[0], stack)
    sockets = [socket(stack, w, origin=stack.url) for w in walls]
    try:
        keys = {ask(ws, body) for ws in sockets}
        assert len(keys) == 1
        key = keys.pop()
        first = pushed(sockets[0], key, 1)[0]
        for ws in sockets[1:]:
            got = pushed(ws, key, 1)[0]
            while got[0] < first[0]:
                got = pushed(ws, key, 1)[0]
            assert got == first  # the same bytes, asked of the web once
        vic = signed_in(stack, "vic")
        exec_body = question(vic, stack, exec_layout.VERSION, {exec_layout.TICK: 1})
        sam = signed_in(stack, "sam")
        with socket(stack, vic) as as_viewer, socket(stack, sam) as as_strategist:
            assert ask(as_viewer, exec_body) != ask(as_strategist, exec_body)  # same question, other roles
            viewer_key = ask(as_viewer, exec_body, n=2)
            (_, data), *_ = pushed(as_viewer, viewer_key, 1)
            assert exec_layout.VERSION in orjson.loads(data)["response"]
    finally:
        for ws in sockets:
            ws.close()


def test_a_question_that_is_not_a_screen_is_not_answered(stack):
    sam = signed_in(stack, "sam")
    with socket(stack, sam) as ws:
        ws.send(orjson.dumps({"n": 1, "q": {"output": "page.children", "inputs": []}}).decode())
        ws.send("not json")
        body = question(sam, stack, ids.SNAP_VERSION, {ids.TICK: 1, ids.URL: "/", ids.FEED_SOURCE: "all"})
        key = ask(ws, body, n=2)  # still open, and a real question is still answered
        assert pushed(ws, key, 1)


def test_a_revoked_kiosk_screen_is_closed_within_seconds(stack):
    wall, link_id = kiosk(stack)
    with socket(stack, wall) as ws:
        ask(ws, wall_question(wall, stack))
        r, keys = stack.store()
        try:
            tokens.revoke_kiosk(r, keys, link_id, actor=cli_actor())
        finally:
            r.close()
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(1000):  # answers keep coming until the re-check (every RECHECK_S) closes it
                ws.recv(timeout=push.RECHECK_S + 10)
        assert closed.value.rcvd.code == push.SIGNED_OUT


CAP = 3
LOOPBACK = "127.0.0.1"


def until(check, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.02)


def accepting(port: int) -> bool:
    try:
        with sockets.create_connection((LOOPBACK, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def capped(stack):
    """A push server capped at CAP sockets per address (set as an operator would, in the environment), serving the
    stack's store and sessions from this process, so its count of open sockets can be read."""
    settings = load_settings(
        {
            "WARROOM_VAR": str(stack.var),
            "WARROOM_EVENT": str(stack.event),
            "PORT": str(stack.port),
            "WARROOM_PUSH_CONNECTIONS_PER_ADDRESS": str(CAP),
        }
    )
    r, _ = stack.store()
    server, port, stop = push.PushServer(settings, r, push.web_url(settings)), free_port(), threading.Event()
    thread = threading.Thread(target=asyncio.run, args=(server.run(LOOPBACK, port, stop),), daemon=True)
    thread.start()
    until(lambda: accepting(port), "the capped push server listens")
    yield server, f"ws://{LOOPBACK}:{port}{push.PATH}"
    stop.set()
    thread.join(10)
    r.close()


def test_one_address_holds_at_most_its_cap_of_sockets_and_a_closed_one_frees_its_place(stack, capped):
    server, url = capped
    assert server.per_address_limit == CAP
    sam = signed_in(stack, "sam")
    headers = {"Cookie": cookie(sam)}

    def opened():
        ws = connect(url, additional_headers=headers, open_timeout=10)
        assert "v" in orjson.loads(ws.recv(timeout=10))  # open, and the server holds it
        return ws

    def open_sockets() -> int:
        return server.per_address.get(LOOPBACK, 0)

    # A handshake the session check lets through but websockets then refuses (no Upgrade: a plain GET) holds nothing.
    plain = requests.get(f"http{url.removeprefix('ws')}", headers=headers, timeout=10)
    assert plain.status_code == 426 and open_sockets() == 0

    held = [opened() for _ in range(CAP)]
    try:
        assert open_sockets() == CAP
        with pytest.raises(InvalidStatus) as refused:
            opened()
        assert refused.value.response.status_code == 429
        assert b"too many connections" in refused.value.response.body
        assert server.capped == 1 and open_sockets() == CAP

        held.pop().close()  # a clean close
        until(lambda: open_sockets() == CAP - 1, "a closed socket gives its place back")
        held.append(opened())
        assert open_sockets() == CAP

        dropped = held.pop()  # the client vanishes without a close frame: the handler ends with an error
        dropped.socket.shutdown(sockets.SHUT_RDWR)
        dropped.socket.close()
        until(lambda: open_sockets() == CAP - 1, "a dropped socket gives its place back")
        held.append(opened())
    finally:
        for ws in held:
            ws.close()
    until(lambda: not server.per_address, "no address holds a socket once every one closed")

    # Many handshakes at once from one address: exactly CAP get in.
    def attempt(_):
        try:
            return opened()
        except InvalidStatus as exc:
            return exc.response.status_code

    with ThreadPoolExecutor(max_workers=CAP + 3) as pool:
        results = list(pool.map(attempt, range(CAP + 3)))
    got_in = [ws for ws in results if not isinstance(ws, int)]
    try:
        assert len(got_in) == CAP and sorted(x for x in results if isinstance(x, int)) == [429] * 3
        assert open_sockets() == CAP
    finally:
        for ws in got_in:
            ws.close()
    until(lambda: not server.per_address, "every place given back after the burst")


def test_screen_keys_ignore_clocks_and_versions_but_not_what_is_asked():
    def body(tick, push_value, version, hold):
        return {
            "output": "..snap-version.data...last-seen.data..",
            "inputs": [
                {"id": ids.TICK, "property": "n_intervals", "value": tick},
                {"id": ids.PUSH, "property": "data", "value": push_value},
            ],
            "state": [
                {"id": ids.SNAP_VERSION, "property": "data", "value": version},
                {"id": ids.HOLD, "property": "data", "value": hold},
            ],
        }

    base = push.group_key(("strategist",), body(1, None, 3, None), ids.SNAP_VERSION)
    assert push.group_key(("strategist",), body(9, 17, 15, None), ids.SNAP_VERSION) == base
    assert push.group_key(("strategist",), body(1, None, 3, "feed"), ids.SNAP_VERSION) != base
    assert push.group_key(("viewer",), body(1, None, 3, None), ids.SNAP_VERSION) != base
    replayed = orjson.loads(push.replay(body(1, None, 3, None), ids.SNAP_VERSION))
    assert replayed["state"][0]["value"] is None and replayed["state"][1] == body(1, None, 3, None)["state"][1]
    assert push.screen_of(body(1, None, 3, None)) == ids.SNAP_VERSION
    assert push.screen_of({"output": "page.children"}) is None and push.screen_of([]) is None


@pytest.mark.parametrize(
    ("origin", "host", "ok"),
    [
        (None, "room:8051", True),
        ("http://room:8050", "room:8051", True),
        ("https://room", "room:8051", True),
        ("http://evil.example", "room:8051", False),
        ("null", "room:8051", False),
        ("http://room.evil.example", "room:8051", False),
    ],
)
def test_only_the_dashboards_own_pages_may_open_a_socket(origin, host, ok):
    assert push.allowed_origin(origin, host) is ok
    assert push.allowed_origin("https://wall.example.com", "10.0.0.5:8051", "https://wall.example.com/") is True


def test_the_web_catches_up_to_the_version_the_push_server_asks_for(r, keys):
    from store import snapshot
    from store.snapshot import SnapshotReader

    snapshot.write(r, keys, {"version": 1}, 1)
    reader = SnapshotReader(r, keys, min_interval_s=3600)  # left alone, it would not look again for an hour
    assert reader.get()[0] == 1
    snapshot.write(r, keys, {"version": 2}, 2)
    assert reader.get()[0] == 1
    reader.expect(1)  # not behind: no read
    assert reader.get()[0] == 1
    reader.expect(2)
    assert reader.get() == (2, {"version": 2})
