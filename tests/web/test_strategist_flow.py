"""A strategist's flows in real headless Chromium against the real stack: mark, zoom to an alert, frame a storyline."""

from __future__ import annotations

import re
import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from store import posts as post_store
from store.keys import Keys
from store.server import connect, running_embedded_url
from tests.web.stack import (
    Stack,
    answers_to,
    click,
    count,
    event_file,
    fresh_answers,
    hold_still,
    open_page,
    retype,
    sign_in,
    text,
    wait,
    wait_fresh_answers,
)

pytestmark = pytest.mark.browser

EVENT_ID = "superbowl"  # event_file() keeps the demo event's id


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("strategist")
    s = Stack(tmp / "var", event_file(tmp, rate=120)).start()
    yield s
    s.stop()


def x_range_s(driver) -> list[float] | None:
    """The volume chart's current x range in epoch seconds, as plotly drew it."""
    return driver.execute_script("""
        const gd = document.getElementById('volume-chart').querySelector('.js-plotly-plot');
        const ax = gd && gd._fullLayout && gd._fullLayout.xaxis;
        return ax && ax.range ? ax.range.map(v => ax.r2l(v) / 1000) : null;""")


def marks_in_learning_line(driver) -> int:
    found = re.search(r"learns from (\d+) marks", text(driver, "#learning"))
    return int(found.group(1)) if found else 0


def test_marking_a_post_relevant_teaches_the_ranking(stack, driver):
    sign_in(driver, stack)
    open_page(driver, stack.url)
    wait(driver).until(lambda d: count(d, "#feed .feed-item .mark-btn") >= 2)
    wait(driver).until(lambda d: text(d, "#learning") != "")
    hold_still(driver, "#feed", "feed")
    post_id = click(driver, "#feed .feed-item .mark-btn.btn-outline-success")
    assert post_id, "a ✓ relevant button was clicked"
    wait(driver, 30).until(lambda d: marks_in_learning_line(d) >= 1)
    assert stack.get("/api/snapshot")["learning"]["marks"] >= 1
    feed_ids = [p["id"] for p in stack.get("/api/snapshot")["feed"]]
    assert post_id in feed_ids, "a relevant mark keeps the post in the feed"


def width(driver) -> float:
    lo_hi = x_range_s(driver)
    return lo_hi[1] - lo_hi[0] if lo_hi else 0.0


class StaysNarrow:
    """True once the chart's range has been at most `limit_s` wide on every read across `answers` new
    snapshots (a read that is not narrow starts the count again)."""

    def __init__(self, limit_s: float, answers: int = 2):
        self.limit_s, self.answers, self.since = limit_s, answers, None

    def __call__(self, driver) -> bool:
        if not 0 < width(driver) <= self.limit_s:
            self.since = None
            return False
        if self.since is None:
            self.since = fresh_answers(driver)
        return fresh_answers(driver) >= self.since + self.answers and 0 < width(driver) <= self.limit_s


def test_an_alerts_chart_link_zooms_the_volume_chart_to_its_moment(stack, driver):
    # A young stack's chart shows only the minutes it has. A few posts received ten minutes ago (through the
    # trusted producers' path, as a replay writes them; ingest stamps its own time) give it minutes to narrow.
    ago = time.time() - 600
    r = connect(running_embedded_url(stack.var / "redis"))
    try:
        post_store.append_dicts(
            r,
            Keys(EVENT_ID),
            [
                {
                    "id": f"replay:early-{ago:.0f}-{i}",
                    "source": "replay",
                    "author": {"handle": "early"},
                    "text": f"Oreo before kickoff, number {i}",
                    "created_at": ago + i,
                    "received_at": ago + i,
                }
                for i in range(3)
            ],
        )
    finally:
        r.close()
    sign_in(driver, stack)
    open_page(driver, stack.url)
    wait(driver).until(lambda d: count(d, "#alerts .alert-row .focus-btn") >= 1)
    wait(driver).until(lambda d: width(d) > 400)
    before = width(driver)
    hold_still(driver, "#alerts", "alerts")
    alert_id = click(driver, "#alerts .alert-row .focus-btn")
    assert alert_id
    alert = next(a for a in stack.get("/api/snapshot")["alerts"] if a["id"] == alert_id)
    # A tick answered before the click can land just after it and redraw the full window once; the zoom holds
    # from the next snapshot on (for a minute), so wait for it to be narrow on consecutive reads.
    wait(driver, 60).until(StaysNarrow(240))
    lo, hi = x_range_s(driver)
    others = [(a["id"], a["kind"], a["moment"]) for a in stack.get("/api/snapshot")["alerts"]]
    assert lo <= alert["moment"] <= hi, (lo, alert["moment"], hi, alert_id, others)
    assert hi - lo < before / 2


def test_framing_a_storyline_saves_a_card_that_names_it(stack, driver):
    sign_in(driver, stack)
    open_page(driver, stack.url)
    # Storylines are re-clustered every 30 s once relevant posts have built up.
    wait(driver, 120).until(lambda d: count(d, "#storylines .story-item button") >= 1)
    for _ in range(3):
        hold_still(driver, "#storylines", "stories")
        picked = answers_to(driver, "..card-context.data")
        story_id = click(driver, "#storylines .story-item button")
        assert story_id
        wait(driver).until(lambda d, picked=picked: answers_to(d, "..card-context.data") > picked)
        if wait(driver).until(lambda d: text(d, "#card-context-view")).startswith("Framing the storyline"):
            break
        # Storylines are re-clustered every 30 s: the held row was gone. Like a person: look away, pick again.
        ActionChains(driver).move_to_element(driver.find_element(By.ID, "volume-chart")).perform()
        wait_fresh_answers(driver, 1, hold=None)
    assert text(driver, "#card-context-view").startswith("Framing the storyline"), text(driver, "#card-context-view")
    context = text(driver, "#card-context-view")
    title = f"Storyline card {time.time():.0f}"
    retype(driver, "card-title", title)  # over the suggested title
    driver.find_element(By.ID, "card-summary").send_keys("The room is talking about this; we join in.")
    wait(driver).until(lambda d: d.find_element(By.ID, "card-title").get_attribute("value") == title)
    driver.find_element(By.ID, "card-save").click()
    wait(driver, 60).until(lambda d: "Saved" in text(d, "#card-saved"))
    card = next(c for c in stack.get("/api/cards")["cards"] if c["title"] == title)
    assert card["storyline"] and f"“{card['storyline']}”" in context, (card, context)
    assert card["post_ids"], "the card keeps the storyline's posts"
    wait(driver, 30).until(lambda d: title in text(d, "#cards"))
