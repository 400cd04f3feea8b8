"""The command center in real headless Chromium against the real stack (`cli.py up`)."""

from __future__ import annotations

import json
import re
import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from tests.web.stack import (
    Stack,
    browser,
    click,
    count,
    event_file,
    hold_still,
    open_page,
    retype,
    sign_in,
    text,
    wait,
    wait_fresh_answers,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stack")
    s = Stack(tmp / "var", event_file(tmp, rate=120)).start()
    yield s
    s.stop()


def test_every_panel_fills_with_live_simulated_data(stack, driver):
    sign_in(driver, stack)
    open_page(driver, stack.url)
    wait(driver).until(lambda d: count(d, "#volume-chart .scatterlayer .trace, #volume-chart .gl-container") > 0)
    wait(driver).until(lambda d: count(d, "#feed .feed-item") >= 5)
    wait(driver).until(lambda d: count(d, "#trending .trend-row") >= 1)
    wait(driver).until(lambda d: count(d, "#alerts .alert-row") >= 1)
    wait(driver).until(lambda d: text(d, "#freshness").startswith("live"))
    first = text(driver, "#feed .feed-item")
    assert "followers" in first and "score" in first
    assert count(driver, "#feed .feed-item:first-child .reason") >= 1, "each post shows why it ranks"
    assert driver.find_element(By.ID, "stale-banner").get_attribute("hidden")
    # A wall screen never scrolls.
    assert driver.execute_script("return document.documentElement.scrollHeight <= window.innerHeight + 1")


def test_ages_count_on_in_the_browser_and_unchanged_panels_are_left_alone(stack, driver):
    sign_in(driver, stack)
    open_page(driver, stack.url)
    wait(driver).until(lambda d: count(d, "#feed .feed-item") >= 5 and count(d, "#sources .source-row") >= 1)
    wait_fresh_answers(driver, 6)
    # assets/warroom.js writes every age from its moment (rows carry data-at, not text that changes each tick).
    ages = driver.execute_script(
        "return [...document.querySelectorAll('#feed .age, #sources .age, #alerts .age')].map(a => a.textContent)"
    )
    assert ages, "the panels show ages"
    bad = [a for a in ages if not re.fullmatch(r"( · )?\d+(\.\d)?[smh]( ago)?", a)]
    assert not bad, bad
    # assets/unchanged.js left the panels that did not change between snapshots as they were, and drew the rest.
    st = driver.execute_script("return window.__warroomUnchanged")
    assert st["dropped"] > 0 and st["kept"] > 0, st


ROWS_DRAW = """
const box = document.createElement('div'), draw = window.__warroomRows.draw;
const row = (text, extra) => ({type: 'Div', namespace: 'dash_html_components', props: {className: 'r', children: [
  text, {type: 'A', namespace: 'dash_html_components', props: {href: extra.href, children: 'link'}},
  {type: 'Badge', namespace: 'dash_bootstrap_components', props: {color: 'warning', children: 'b'}},
  {type: 'Button', namespace: 'dash_html_components', props: {id: {type: 'frame-post', post: text}, children: 'F'}},
]}});
draw(box, [row('A', {href: 'https://a.example/'}), row('B', {}), row('C', {})]);
const [a, b, c] = box.children;
draw(box, [row('B', {}), row('C', {}), row('<img src=x onerror=window.pwned=1>', {href: 'javascript:window.pwned=1'})]);
const d = box.children[2];
return {kept: box.children[0] === b && box.children[1] === c, n: box.children.length, gone: !box.contains(a),
        first_link: a.querySelector('a').getAttribute('href'), text: d.firstChild.nodeType === 3 && d.firstChild.data,
        imgs: box.querySelectorAll('img').length, bad_href: d.querySelector('a').hasAttribute('href'),
        badge: a.querySelector('span').className, id: b.querySelector('button').getAttribute('data-dash-id')};
"""


def test_live_lists_are_drawn_as_text_keeping_the_rows_that_did_not_change(stack, driver):
    sign_in(driver, stack)
    open_page(driver, stack.url)
    wait(driver).until(lambda d: d.execute_script("return !!window.__warroomRows"))
    out = driver.execute_script(ROWS_DRAW)
    assert out["kept"] and out["n"] == 3 and out["gone"], out
    assert out["text"] == "<img src=x onerror=window.pwned=1>" and out["imgs"] == 0 and not out["bad_href"], out
    assert out["first_link"] == "https://a.example/" and out["badge"] == "badge bg-warning", out
    assert json.loads(out["id"]) == {"type": "frame-post", "post": "B"}
    assert not driver.execute_script("return window.pwned")


def test_feed_filters_by_source_and_min_score(stack, driver):
    sign_in(driver, stack)
    open_page(driver, stack.url)
    wait(driver).until(lambda d: count(d, "#feed .feed-item") >= 5)
    scores = driver.execute_script(
        "return [...document.querySelectorAll('#feed .feed-head .badge.bg-warning')].map(b => b.innerText)"
    )
    scores = [float(s.split()[1]) for s in scores]
    assert scores and all(s >= 0 for s in scores)
    Select(driver.find_element(By.ID, "feed-source")).select_by_value("rss")
    wait(driver).until(lambda d: "No posts match" in text(d, "#feed"))


def test_card_framed_in_one_browser_appears_in_another(stack, driver):
    other = browser()
    try:
        sign_in(other, stack, "ann")  # an approver's screen sees the card too
        open_page(other, stack.url)
        sign_in(driver, stack)
        open_page(driver, stack.url)
        wait(driver).until(lambda d: count(d, "#feed .frame-btn") > 0)
        wait(other).until(lambda d: count(d, "#cards") == 1)
        # Like a person: point at the feed, and click once it holds still.
        hold_still(driver, "#feed", "feed")
        click(driver, "#feed .frame-btn")
        wait(driver).until(lambda d: text(d, "#card-context-view").startswith("Framing @"))
        title = f"Dunk in the dark {time.time():.0f}"
        retype(driver, "card-title", title)  # over the suggested title
        driver.find_element(By.ID, "card-summary").send_keys("Lights are out; we answer with a cookie in the dark.")
        driver.find_element(By.ID, "card-owner").send_keys("Sam")
        wait(driver).until(lambda d: d.find_element(By.ID, "card-title").get_attribute("value") == title)
        driver.find_element(By.ID, "card-save").click()
        wait(driver, 60).until(EC.text_to_be_present_in_element((By.ID, "card-saved"), "Saved"))
        saved_at = time.monotonic()
        # Generous: this checks that it arrives; how fast (p95 under 1 s) is measured by `make bench`, not here.
        wait(other, 30).until(lambda d: title in text(d, "#cards"))
        seen_after = time.monotonic() - saved_at
        assert seen_after < 30, seen_after
        card = next(c for c in stack.get("/api/cards")["cards"] if c["title"] == title)
        assert card["post_id"] and card["owner"] == "Sam" and card["type"] == "opportunity"
    finally:
        other.quit()


def test_hostile_post_renders_as_text_and_bad_links_do_not_open(stack, driver):
    hostile = {
        "id": f"webhook:xss-{time.time()}",
        "source": "webhook",
        "url": "javascript:window.__xss=3",
        "author": {
            "handle": "attacker",
            "name": '<img src=x onerror="window.__xss=1">',
            "followers": 50_000_000,
            "verified": True,
        },
        "text": 'Oreo <script>window.__xss=2</script><img src=x onerror="window.__xss=1"> dunk in the dark',
        "created_at": time.time(),
        "links": ["javascript:window.__xss=4"],
        "engagement": {"likes": 100000, "reposts": 50000},
    }
    status, body = stack.post("/api/ingest", [hostile])
    assert status == 202, body
    sign_in(driver, stack)
    open_page(driver, stack.url)
    item = f'#feed .feed-item[data-post-id="{hostile["id"]}"]'
    # Read the item in one step (text and links together): the feed re-renders under us.
    read = "const e = document.querySelector(arguments[0]); return e && [e.innerText, e.querySelectorAll('a').length]"
    wait(driver, 30).until(lambda d: d.execute_script(read, item))
    shown, links = driver.execute_script(read, item) or wait(driver, 30).until(lambda d: d.execute_script(read, item))
    assert "<script>window.__xss=2</script>" in shown and 'onerror="window.__xss=1"' in shown
    assert links == 0, "a javascript: link must not be clickable"
    assert driver.execute_script("return window.__xss") is None
    assert count(driver, "#feed script, #feed img") == 0


def test_stale_banner_when_the_pipeline_stops_and_clears_when_it_resumes(stack, driver):
    sign_in(driver, stack)
    open_page(driver, stack.url)
    wait(driver).until(lambda d: text(d, "#freshness").startswith("live"))
    aggregator = stack.child("aggregate")
    aggregator.suspend()
    try:
        wait(driver, 20).until(lambda d: not d.find_element(By.ID, "stale-banner").get_attribute("hidden"))
        assert "STALE" in text(driver, "#stale-banner")
    finally:
        aggregator.resume()
    wait(driver, 20).until(lambda d: d.find_element(By.ID, "stale-banner").get_attribute("hidden"))


def test_wall_and_exec_pages_are_read_only_even_for_a_strategist(stack, driver):
    # The wall and the executive view have pages of their own (tests/web/test_screens.py): nothing to write with.
    sign_in(driver, stack)
    for page, filled in (("/wall", ".wall-view.on .wall-panel"), ("/exec", "#exec-sov tbody tr")):
        open_page(driver, stack.url + page)
        wait(driver).until(lambda d, css=filled: count(d, css) >= 1)
        assert count(driver, "#card-save") == 0 and count(driver, ".frame-btn") == 0


def test_feed_holds_still_while_the_pointer_is_on_it(stack, driver):
    sign_in(driver, stack)
    open_page(driver, stack.url)
    wait(driver).until(lambda d: count(d, "#feed .feed-item") >= 3)
    hold_still(driver, "#feed", "feed")  # the hold has reached the server
    driver.execute_script("document.querySelector('#feed .feed-item').warroomMarker = 1")
    # A post that tops the feed arrives while it is held: the screen must not show it until the pointer leaves.
    # (Waiting for the simulated feed to change on its own failed at random when its top rows stayed put.)
    word = f"held{time.time_ns()}"
    post = {
        "id": f"webhook:{word}",
        "source": "webhook",
        "author": {"handle": word, "followers": 2_000_000, "verified": True},
        "text": f"Oreo cookies dunk in the dark, milk ready for the blackout {word}",
        "created_at": time.time(),
        "engagement": {"likes": 50_000, "reposts": 20_000},
    }
    status, body = stack.post("/api/ingest", [post])
    assert status == 202, body
    wait(driver).until(lambda d: any(p.get("id") == post["id"] for p in stack.get("/api/snapshot")["feed"]))
    wait_fresh_answers(driver, 4, hold="feed")  # several snapshots with the post answered while it holds
    assert driver.execute_script("return document.querySelector('#feed .feed-item').warroomMarker") == 1
    assert word not in text(driver, "#feed")
    ActionChains(driver).move_to_element(driver.find_element(By.ID, "volume-chart")).perform()
    wait(driver).until(lambda d: word in text(d, "#feed"))
