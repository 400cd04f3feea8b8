"""The fast lane in real headless Chromium against the real stack (`cli.py up`): a strategist opens Respond on a
card, picks a pre-approved template (one pick fills the text), submits; an approver of the brand group approves;
the strategist publishes, and the drawer shows the exact request a dry run would send. Waits on state only."""

from __future__ import annotations

import time

import pytest
import yaml
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from auth.identity import Identity
from store import audit
from store import cards as card_store
from tests.web.stack import ROOT, Stack, click, count, drawer_open, event_file, open_page, sign_in, text, wait

pytestmark = pytest.mark.browser

TEMPLATE = "dunk-in-the-dark"
TEMPLATE_TEXT = "Power out? No problem. You can still dunk in the dark. #DunkInTheDark"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("responses")
    path = event_file(tmp, rate=40)
    event = yaml.safe_load(path.read_text())
    event["publishing"]["templates_file"] = str(ROOT / "config" / "superbowl-templates.yaml")
    # The simulated game raises alerts that open a sensitive moment at times (a playful template then also needs
    # legal: tests/web/test_responses.py); this run is about the fast lane, so no word opens one.
    event["publishing"]["sensitive_words"] = []
    event["alerts"]["watch_words"] = []
    path.write_text(yaml.safe_dump(event))
    s = Stack(tmp / "var", path).start(timeout=120)
    yield s
    s.stop()


def seed_card(stack) -> str:
    r, keys = stack.store()
    try:
        sam = Identity("sam", frozenset({"strategist"}))
        card = card_store.save(
            r,
            keys,
            {"title": f"Lights out {time.time_ns()}", "summary": "", "type": "opportunity", "priority": "P1"}
            | {"owner": "Sam", "status": "drafting", "group": "brand"},
            audit.entry(sam, "card.create", "card", ""),
        )
    finally:
        r.close()
    return card["id"]


def open_respond(driver, stack, card_id: str) -> None:
    open_page(driver, stack.url + "/")
    button = f'[data-card-id="{card_id}"] button[id*="respond-open"]'
    wait(driver).until(lambda d: count(d, button) > 0)
    click(driver, button)
    drawer_open(driver, "#respond-drawer")


def until(driver, condition, timeout: float = 60) -> None:
    """Wait for `condition`; on a timeout say what the drawer showed."""
    try:
        wait(driver, timeout).until(condition)
    except Exception:
        shown = {css: text(driver, css) for css in ("#respond-message", "#respond-drafts", "#respond-hint")}
        shown["answers"] = driver.execute_script(
            "return window.__warroom.answers.filter(a => a.output.includes('respond')).map(a => [a.output, a.status])"
        )
        raise AssertionError(f"the drawer showed {shown}") from None


def draft_state(driver) -> str:
    return text(driver, "#respond-drafts .respond-draft .respond-state")


def test_fast_lane_template_submit_approve_publish_dry_run(stack, driver):
    card_id = seed_card(stack)
    sign_in(driver, stack, "sam")
    open_respond(driver, stack, card_id)
    wait(driver).until(
        lambda d: (
            TEMPLATE in [o.get_attribute("value") for o in d.find_elements(By.CSS_SELECTOR, "#respond-template option")]
        )
    )
    offered = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#respond-template option")]
    assert "sorry-for-the-wait" not in offered  # a threat template is not offered on an opportunity card
    Select(driver.find_element(By.ID, "respond-template")).select_by_value(TEMPLATE)
    wait(driver).until(lambda d: d.find_element(By.ID, "respond-text").get_attribute("value") == TEMPLATE_TEXT)
    wait(driver).until(lambda d: text(d, "#respond-count") == f"{len(TEMPLATE_TEXT)} / 280")
    driver.find_element(By.ID, "respond-submit").click()
    wait(driver).until(lambda d: "Submitted." in text(d, "#respond-message"))
    assert "fast lane" in text(driver, "#respond-message")
    until(driver, lambda d: draft_state(d) == "pending")
    assert count(driver, '#respond-drafts button[id*="respond-approve"]') == 0  # a strategist does not approve

    driver.delete_all_cookies()
    sign_in(driver, stack, "ann")
    open_page(driver, stack.url + f"/?respond={card_id}")  # the link the approvers' webhook message carries
    drawer_open(driver, "#respond-drawer")
    approve = '#respond-drafts button[id*="respond-approve"]'
    wait(driver).until(lambda d: count(d, approve) == 1)
    assert count(driver, "#respond-text") == 1 and count(driver, "#respond-submit:not([hidden])") <= 1
    click(driver, approve)
    until(driver, lambda d: draft_state(d) == "approved")
    assert "Approved: ready to publish." in text(driver, "#respond-message")
    wait(driver).until(lambda d: "approved" in text(d, f'[data-card-id="{card_id}"] .card-response'))

    driver.delete_all_cookies()
    sign_in(driver, stack, "sam")
    open_respond(driver, stack, card_id)
    publish = '#respond-drafts button[id*="respond-publish"]'
    wait(driver).until(lambda d: count(d, publish) == 1)
    click(driver, publish)
    wait(driver).until(lambda d: "/2/tweets" in text(d, "#respond-drafts .respond-request"))
    request = text(driver, "#respond-drafts .respond-request")
    assert TEMPLATE_TEXT in request and "Dry run" in text(driver, "#respond-drafts")

    r, keys = stack.store()
    try:
        actions = {(e["action"], e["who"]) for e in audit.query(r, keys, obj="draft", limit=50)}
    finally:
        r.close()
    assert {("response.draft", "sam"), ("response.submit", "sam"), ("response.approve", "ann")} <= actions
    assert ("response.publish", "sam") in actions
