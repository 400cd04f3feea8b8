"""The care lane in real headless Chromium against the real stack (`cli.py up`): a complaint posted through the
ingest API is triaged by a worker, folded into a case by the aggregator and shown in the strategist's lane with its
timer; the strategist opens it (the conversation is text), assigns it to themself and drafts a reply from a care
template; the approver's lane shows the case with Approve only and approves it; the strategist publishes (dry-run)
and the case is replied, with every step in the audit trail under the signed-in names. A safety post goes to the
top of the lane, escalated. Waits on state only."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.support.ui import Select

from store import audit
from store import care as care_store
from tests.web.stack import Stack, click, count, event_file, open_page, sign_in, text, wait

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("care")
    s = Stack(tmp / "var", event_file(tmp, rate=5)).start(timeout=120)
    yield s
    s.stop()


def ingest(stack: Stack, handle: str, text_: str) -> str:
    post = {
        "id": f"webhook:{handle}-{time.time_ns()}",
        "source": "webhook",
        "author": {"handle": handle, "followers": 900},
        "text": text_,
        "created_at": time.time(),
    }
    status, body = stack.post("/api/ingest", [post])
    assert status == 202, body
    return post["id"]


def case_of(stack: Stack, handle: str) -> dict | None:
    r, keys = stack.store()
    try:
        return next((c for c in care_store.open_cases(r, keys) if c["author"]["handle"] == handle), None)
    finally:
        r.close()


def row(handle: str) -> str:
    """The lane row of a case: the row whose text names the author."""
    return f"//div[contains(@class,'care-case')][.//span[normalize-space()='@{handle}']]"


def row_text(driver, xpath: str) -> str:
    """The text of the first element at `xpath`, read in one script (the lane re-renders under any handle)."""
    return driver.execute_script(
        "const n = document.evaluate(arguments[0], document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null)"
        ".singleNodeValue; return n ? n.innerText : '';",
        xpath,
    )


def until(driver, condition, timeout: float = 60) -> None:
    """Wait for `condition`; on a timeout say what the lane showed."""
    try:
        wait(driver, timeout).until(condition)
    except Exception:
        shown = {css: text(driver, css)[:300] for css in ("#care-message", "#care-detail", "#care-lane")}
        raise AssertionError(f"the lane showed {shown}") from None


def open_case(driver, handle: str) -> None:
    """Click the case's "open" until its conversation shows. Found and clicked in one script: the lane re-renders
    with every snapshot (its timers move), so a handle found in one call is stale in the next."""
    xpath = row(handle) + "//button[normalize-space()='open']"
    for _ in range(10):
        clicked = driver.execute_script(
            "const n = document.evaluate(arguments[0], document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null)"
            ".singleNodeValue; if (n) { n.click(); } return !!n;",
            xpath,
        )
        if clicked:
            try:
                wait(driver, 10).until(lambda d: f"@{handle} ·" in text(d, "#care-detail"))
                return
            except Exception:
                pass
    raise AssertionError(f"could not open the case of @{handle}: {text(driver, '#care-detail')[:300]}")


def lane_message(driver, button: str, says: str) -> str:
    click(driver, f"#{button}")
    until(driver, lambda d: says in text(d, "#care-message"))
    return text(driver, "#care-message")


def test_a_complaint_is_queued_answered_through_the_chain_and_audited(stack, driver):
    handle = f"crushed{time.time_ns() % 10**8}"
    ingest(stack, handle, "@oreo my pack arrived crushed <b>again</b>, so disappointed")
    sign_in(driver, stack, "sam")
    open_page(driver, stack.url + "/")
    until(driver, lambda d: row_text(d, row(handle)))
    lane_row = row_text(driver, row(handle))
    assert "complaint" in lane_row and ("left" in lane_row or "over target" in lane_row), lane_row  # its timer

    open_case(driver, handle)
    assert "<b>again</b>" in text(driver, "#care-detail .care-post-text")  # post text is text
    assert count(driver, "#care-detail .care-post-text b") == 0
    lane_message(driver, "care-assign", "is assigned")
    Select(driver.find_element("id", "care-template")).select_by_value("care-sorry")
    message = lane_message(driver, "care-draft", "submitted")
    assert "Waiting for Care lead" in message, message
    case = case_of(stack, handle)
    assert case["owner"] == "sam" and case["state"] == "assigned" and case["drafts"]
    assert not driver.find_element("id", "care-approve").is_displayed(), "a strategist does not approve"

    driver.delete_all_cookies()
    sign_in(driver, stack, "ann")  # an approver in the brand group: the lane shows the case with Approve only
    open_page(driver, stack.url + "/")
    until(driver, lambda d: row_text(d, row(handle)))
    assert not driver.find_element("id", "care-assign").is_displayed()
    assert not driver.find_element("id", "care-draft").is_displayed()
    open_case(driver, handle)
    assert "Approved" in lane_message(driver, "care-approve", "Approved")

    driver.delete_all_cookies()
    sign_in(driver, stack, "sam")
    open_page(driver, stack.url + "/")
    until(driver, lambda d: row_text(d, row(handle)))
    open_case(driver, handle)
    assert "is replied" in lane_message(driver, "care-publish", "Reply dry-run")
    until(driver, lambda d: "replied" in row_text(d, row(handle)))

    r, keys = stack.store()
    try:
        case = care_store.get(r, keys, case["id"])
        assert case["state"] == "replied" and case["responded_by"] == "sam" and case["first_response_at"]
        trail = [(e["action"], e["who"]) for e in audit.timeline(r, keys, "care", case["id"])]
        assert trail == [("care.assign", "sam"), ("care.reply", "sam"), ("care.reply", "sam")], trail
        drafted = [(e["action"], e["who"]) for e in audit.timeline(r, keys, "draft", case["drafts"][-1])]
        assert drafted == [("care.draft", "sam"), ("care.approve", "ann")], drafted
    finally:
        r.close()


def test_a_safety_post_goes_to_the_top_of_the_lane_escalated(stack, driver):
    handle = f"sharp{time.time_ns() % 10**8}"
    ingest(stack, handle, "@oreo found something sharp in my cookies, my son cut his lip")
    sign_in(driver, stack, "sam")
    open_page(driver, stack.url + "/")
    first = "(//div[contains(@class,'care-case')])[1]"
    until(driver, lambda d: f"@{handle}" in row_text(d, first))
    top = row_text(driver, first)
    assert "safety" in top and "escalated" in top, top
    case = case_of(stack, handle)
    assert case["kind"] == "safety" and case["state"] == "escalated" and case["escalation"]["to"] == "legal"
