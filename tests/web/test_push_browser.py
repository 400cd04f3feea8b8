"""Screen push in real Chromium on the real stack (`cli.py up` with push on): the wall and the command center get
each snapshot over the WebSocket without asking the web, and poll again by themselves when push falls silent."""

from __future__ import annotations

import pytest

from auth.admin import kiosk_url
from auth.identity import cli_actor
from store import tokens
from tests.web.stack import Stack, event_file, open_kiosk_link, open_page, sign_in, text, wait

pytestmark = pytest.mark.browser

STATE = """const p = window.__warroomPush; return p ? {group: p.group, applied: p.applied, polled: p.polled,
  open: !!p.ws && p.ws.readyState === 1, why: p.why, q: p.question} : null;"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("push-browser")
    s = Stack(tmp / "var", event_file(tmp, rate=40), push=True).start(timeout=180)
    yield s
    s.stop()


def push_state(driver) -> dict:
    return driver.execute_script(STATE) or {}


def wait_pushed(driver, more: int, since: int = 0, timeout: float = 60) -> dict:
    """Until `more` pushed answers beyond `since` have been handed to Dash; the state then."""
    wait(driver, timeout).until(lambda d: (push_state(d).get("applied") or 0) >= since + more)
    return push_state(driver)


def test_the_wall_is_pushed_each_snapshot_and_polls_while_push_is_silent(stack, driver):
    r, keys = stack.store()
    try:
        secret, _ = tokens.create_kiosk(r, keys, "push wall", actor=cli_actor())
    finally:
        r.close()
    open_kiosk_link(driver, kiosk_url(stack.url, secret))
    wait(driver).until(lambda d: text(d, "#wall-live").startswith("● LIVE"))
    first = wait_pushed(driver, 1)
    assert first["group"] and first["open"]
    later = wait_pushed(driver, 4, since=first["applied"])
    # Four snapshots reached the wall by push. It asks the web only when a snapshot's answer is over a second late
    # (a loaded machine): fewer asks than pushes, whatever the load.
    assert later["polled"] - first["polled"] < 4, str(later)
    assert text(driver, "#wall-live").startswith("● LIVE")
    # The push server freezes (a proxy that holds the socket open and passes nothing): the wall polls the web.
    server = stack.child("push")
    server.suspend()
    try:
        wait(driver, 60).until(lambda d: push_state(d)["polled"] >= later["polled"] + 4)
        assert text(driver, "#wall-live").startswith("● LIVE")  # the polls keep it live
    finally:
        server.resume()
    # Push speaks again: the wall takes its answers from it and stops asking.
    back = wait_pushed(driver, 2, since=push_state(driver)["applied"])
    settled = wait_pushed(driver, 3, since=back["applied"])
    assert settled["polled"] - back["polled"] < 3, str(settled)
    # The push process dies (kill -9): the wall polls at once, `up` restarts push, the wall reconnects by itself.
    stack.child("push").kill()
    wait(driver, 30).until(lambda d: push_state(d)["polled"] >= settled["polled"] + 2)
    assert text(driver, "#wall-live").startswith("● LIVE")
    again = wait_pushed(driver, 2, since=push_state(driver)["applied"], timeout=90)
    assert again["open"] and text(driver, "#wall-live").startswith("● LIVE")


def test_the_command_center_is_pushed_each_snapshot(stack, driver):
    sign_in(driver, stack)
    open_page(driver, stack.url + "/")
    first = wait_pushed(driver, 1)
    wait(driver).until(lambda d: d.execute_script("return document.querySelectorAll('#feed .feed-item').length") > 0)
    later = wait_pushed(driver, 3, since=first["applied"])
    # The strategists' page is heavy to re-render: on a loaded machine it may also ask for a late snapshot itself.
    assert later["open"] and later["group"], str(later)
