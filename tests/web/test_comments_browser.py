"""Comments on a card in real headless Chromium against the real stack (`cli.py up`): a strategist opens a card's
discussion and comments, @-mentioning an approver (markup typed into it stays text); the approver's header counts
the mention, opening it lists the mention and marks it read, and its Open shows the comment; the webhook's link
(/?comments=<card>) opens the discussion. Waits on state only."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.by import By

from auth.identity import Identity
from store import audit
from store import cards as card_store
from tests.web.stack import Stack, click, count, drawer_open, event_file, open_page, sign_in, text, wait

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("comments")
    s = Stack(tmp / "var", event_file(tmp, rate=20)).start(timeout=120)
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
            | {"owner": "Sam", "status": "new", "group": "brand"},
            audit.entry(sam, "card.create", "card", ""),
        )
    finally:
        r.close()
    return card["id"]


def until(driver, condition, timeout: float = 60) -> None:
    """Wait for `condition`; on a timeout say what the drawer showed."""
    try:
        wait(driver, timeout).until(condition)
    except Exception:
        shown = {css: text(driver, css) for css in ("#comment-message", "#comments-list", "#comment-hint")}
        shown["mentions"] = text(driver, "#mentions-button")
        raise AssertionError(f"the drawer showed {shown}") from None


def test_comment_with_a_mention_reaches_the_mentioned_approver(stack, driver):
    card_id = seed_card(stack)
    sign_in(driver, stack, "sam")
    open_page(driver, stack.url + "/")
    button = f'[data-card-id="{card_id}"] button[id*="comments-open"]'
    wait(driver).until(lambda d: count(d, button) > 0)
    assert text(driver, button) == "comments · 0"
    click(driver, button)
    drawer_open(driver, "#comments-drawer")
    box = driver.find_element(By.ID, "comment-text")
    box.send_keys("@Ann can we say this? <b>cookie</b> @nobody")
    until(driver, lambda d: "Tells @ann" in text(d, "#comment-hint") and "@nobody" in text(d, "#comment-hint"))
    click(driver, "#comment-add")
    until(driver, lambda d: "Commented" in text(d, "#comment-message"))
    assert "told @ann" in text(driver, "#comment-message")
    until(driver, lambda d: count(d, "#comments-list .comment") == 1)
    assert text(driver, "#comments-list .comment-text .mention") == "@Ann"
    assert "<b>cookie</b>" in text(driver, "#comments-list .comment-text")  # typed markup is text
    assert count(driver, "#comments-list .comment-text b") == 0
    assert driver.find_element(By.ID, "comment-text").get_attribute("value") == ""
    wait(driver).until(lambda d: text(d, button) == "comments · 1")  # every screen's card counts it

    driver.delete_all_cookies()
    sign_in(driver, stack, "ann")
    open_page(driver, stack.url + "/")
    until(driver, lambda d: text(d, "#mentions-button .mentions-count") == "1")
    click(driver, "#mentions-button")
    drawer_open(driver, "#comments-drawer")
    until(driver, lambda d: "can we say this?" in text(d, "#mentions-list"))
    until(driver, lambda d: count(d, "#mentions-button .mentions-count") == 0)  # opened: read
    click(driver, '#mentions-list button[id*="mention-open"]')
    until(driver, lambda d: "can we say this?" in text(d, "#comments-list"))
    assert count(driver, "#comments-list .comment-mentions-me") == 1

    open_page(driver, stack.url + f"/?comments={card_id}")  # the link the webhook's message carries
    drawer_open(driver, "#comments-drawer")
    until(driver, lambda d: "can we say this?" in text(d, "#comments-list"))

    r, keys = stack.store()
    try:
        actions = {(e["action"], e["who"]) for e in audit.query(r, keys, action="comment.", limit=20)}
    finally:
        r.close()
    assert {("comment.add", "sam"), ("comment.seen", "ann")} <= actions
