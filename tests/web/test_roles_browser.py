"""People and permissions in real headless Chromium against the real stack (`cli.py up`): each role signs in
(the real /login form, the first admin's one-time link, a kiosk link) and sees only what it may do; a revoked
kiosk screen shows "signed out" within seconds; Sign out in the header ends the session."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By

from auth.identity import Identity
from store import audit, tokens
from store import cards as card_store
from tests.web.stack import (
    ROOT,
    Stack,
    browser,
    click,
    count,
    event_file,
    open_kiosk_link,
    open_page,
    sign_in,
    text,
    wait,
)

pytestmark = pytest.mark.browser

CONTROLS = {"card form": "#card-save", "frame": ".frame-btn", "mark": ".mark-btn", "ack": "#alerts button"}
ADMIN_PASSWORD = "first admin's own password"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roles")
    s = Stack(tmp / "var", event_file(tmp, rate=80)).start(timeout=120)
    yield s
    s.stop()


def path_of(driver) -> str:
    return urlsplit(driver.current_url).path


def controls(driver) -> set[str]:
    """Which write controls the page draws (Ack only counts buttons, not the "chart" links)."""
    found = {name for name, css in CONTROLS.items() if name != "ack" and count(driver, css) > 0}
    acks = driver.execute_script(
        "return [...document.querySelectorAll('#alerts button')].filter(b => b.innerText.trim() === 'Ack').length"
    )
    return found | ({"ack"} if acks else set())


def cli(stack: Stack, *args: str) -> str:
    """Run `cli.py` against the stack's store, as an admin at the server would."""
    env = {**os.environ, "WARROOM_VAR": str(stack.var), "WARROOM_EVENT": str(stack.event), "PORT": str(stack.port)}
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args], env=env, cwd=ROOT, capture_output=True, timeout=60, check=True
    )
    return done.stdout.decode()


def test_first_admin_signs_in_with_the_printed_link_and_manages_people_links_and_the_audit(stack, driver):
    link = stack.first_admin_link()
    assert link, "`up` printed no one-time link for the first admin on a fresh data dir"
    driver.get(link)
    wait(driver).until(lambda d: d.find_elements(By.ID, "password2"))
    driver.find_element(By.ID, "password").send_keys(ADMIN_PASSWORD)
    driver.find_element(By.ID, "password2").send_keys(ADMIN_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(driver).until(lambda d: "/auth/link/" not in d.current_url)
    open_page(driver, stack.url + "/")  # admin + strategist: the command center, with the strategists' controls
    wait(driver).until(lambda d: controls(d) >= {"card form", "frame", "mark"})
    who = text(driver, "#whoami")
    assert "Admin" in who and "strategist, admin" in who and "Sign out" in who

    driver.get(stack.url + "/admin")
    wait(driver).until(lambda d: "vic" in text(d, "#admin-people") and "browser tests" in text(d, "#admin-tokens"))
    driver.find_element(By.ID, "new-kiosk-screen").send_keys("lobby wall")
    driver.find_element(By.ID, "new-kiosk-add").click()
    wait(driver).until(lambda d: "/kiosk/" in text(d, "#admin-message"))
    wait(driver).until(lambda d: "lobby wall" in text(d, "#admin-kiosks"))
    assert "not opened yet" in text(driver, "#admin-kiosks")

    # Publishing: a reason is required; the pause shows on the command center's header, then resume
    driver.find_element(By.ID, "publish-pause").click()
    wait(driver).until(lambda d: "say why" in text(d, "#admin-message"))
    driver.find_element(By.ID, "publish-reason").send_keys("Injury on the field")
    driver.find_element(By.ID, "publish-pause").click()
    wait(driver).until(lambda d: "Publishing paused by admin" in text(d, "#admin-publishing"))
    # Guardrails: the form opens with the event file's; a bad domain is refused in words
    wait(driver).until(lambda d: "guarantee" in (d.find_element(By.ID, "guard-banned").get_attribute("value") or ""))
    driver.find_element(By.ID, "guard-domains").send_keys("\nhttps://oreo.com/deals")
    driver.find_element(By.ID, "guard-save").click()
    wait(driver).until(lambda d: "write just the host" in text(d, "#admin-message"))
    open_page(driver, stack.url + "/")
    wait(driver).until(lambda d: "Publishing paused: Injury on the field (by admin)" in text(d, "#header-status"))
    driver.get(stack.url + "/admin")
    wait(driver).until(lambda d: "Publishing paused by admin" in text(d, "#admin-publishing"))
    driver.find_element(By.ID, "publish-resume").click()
    wait(driver).until(lambda d: "Publishing is on." in text(d, "#admin-publishing"))

    driver.get(stack.url + "/audit")
    wait(driver).until(lambda d: "kiosk.create" in text(d, "#audit-rows"))
    assert "signin" in text(driver, "#audit-rows") and "admin" in text(driver, "#audit-rows")
    driver.find_element(By.ID, "audit-action").send_keys("kiosk.")
    driver.find_element(By.ID, "audit-search").click()
    wait(driver).until(lambda d: "signin" not in text(d, "#audit-rows") and "kiosk.create" in text(d, "#audit-rows"))
    href = driver.find_element(By.ID, "audit-export").get_attribute("href")
    assert "format=csv" in href and "action=kiosk." in href


@pytest.mark.parametrize(
    "name,home,allowed",
    [("sam", "/", {"card form", "frame", "mark", "ack"}), ("vic", "/exec", set()), ("ann", "/", set())],
)
def test_each_person_sees_only_what_their_role_may_do(stack, driver, name, home, allowed):
    sign_in(driver, stack, name)
    assert path_of(driver) == home
    open_page(driver, stack.url + home)
    wait(driver).until(lambda d: count(d, "#feed .feed-item, #storylines .story-item, #exec-sov tbody tr") > 0)
    if allowed:
        wait(driver).until(lambda d: controls(d) >= allowed)
    assert controls(driver) == allowed
    who = text(driver, "#whoami")
    assert name in who and "Sign out" in who
    for page in ("/admin", "/audit"):  # not theirs: the server sends them home, and draws nothing of it
        driver.get(stack.url + page)
        wait(driver).until(lambda d, page=page: path_of(d) != page)
        assert path_of(driver) == home
        assert count(driver, "#new-user-add, #audit-search") == 0
    nav = driver.execute_script("return [...document.querySelectorAll('.role-nav a')].map(a => a.innerText)")
    assert "admin" not in nav and "audit" not in nav


def test_an_approver_approves_a_card_of_their_group_and_its_timeline_says_so(stack, driver):
    r, keys = stack.store()
    try:
        sam = Identity("sam", frozenset({"strategist"}))
        title = f"Review me {time.time_ns()}"
        card = card_store.save(
            r,
            keys,
            {"title": title, "summary": "", "type": "opportunity", "priority": "P1", "owner": "Sam"}
            | {"status": "in review", "group": "brand"},
            audit.entry(sam, "card.create", "card", ""),
        )
    finally:
        r.close()
    sign_in(driver, stack, "ann")
    open_page(driver, stack.url + "/")
    button = f'[data-card-id="{card["id"]}"] button'
    wait(driver).until(lambda d: count(d, button) > 0)
    labels = driver.execute_script(f"return [...document.querySelectorAll('{button}')].map(b => b.innerText)")
    assert labels == ["Respond", "comments · 0", "→ approved", "→ drafting"], labels  # approvers see drafts, discuss
    driver.execute_script(f"[...document.querySelectorAll('{button}')].find(b => b.innerText === '→ approved').click()")
    wait(driver, 30).until(lambda d: "now approved" in text(d, "#card-saved") or "approved ·" in text(d, "#cards"))
    stored = next(c for c in stack.get("/api/cards")["cards"] if c["id"] == card["id"])
    assert stored["status"] == "approved"
    history = f'[data-card-id="{card["id"]}"] .card-history'
    wait(driver, 30).until(lambda d: "history · 2" in text(d, history))
    click(driver, f"{history} summary")  # found again if the list was re-rendered under it
    wait(driver).until(lambda d: "ann (approver) · in review → approved" in text(d, history))


def test_a_kiosk_screen_is_a_wall_and_shows_signed_out_within_seconds_of_revoking(stack, driver):
    out = cli(stack, "kiosk", "create", "lobby wall")
    link = out.strip().rsplit(" ", 1)[-1]
    link_id = out.split()[2]
    assert "/kiosk/" in link and tokens.API_PREFIX not in link
    open_kiosk_link(driver, link)
    open_page(driver, stack.url + "/wall")
    wait(driver).until(lambda d: count(d, ".wall-view.on .wall-panel") >= 1)
    assert controls(driver) == set()
    assert count(driver, "#sign-out, #whoami") == 0  # a wall has nobody to sign out
    driver.get(stack.url + "/")  # a wall screen always lands on the wall
    wait(driver).until(lambda d: path_of(d) == "/wall")
    open_page(driver, stack.url + "/wall")
    other = browser()
    try:  # the link opened once: useless to anyone else
        other.get(link)
        assert "not valid" in other.find_element(By.TAG_NAME, "body").text
    finally:
        other.quit()

    cli(stack, "kiosk", "revoke", link_id)
    revoked_at = time.monotonic()
    wait(driver, 15).until(lambda d: path_of(d) == "/signed-out")
    took = time.monotonic() - revoked_at
    assert "signed out" in driver.find_element(By.TAG_NAME, "body").text
    assert took < 10, f"the screen showed 'signed out' {took:.1f} s after the revoke"
    driver.get(stack.url + "/wall")
    wait(driver).until(lambda d: path_of(d) == "/login")


def test_sign_out_in_the_header_ends_the_session(stack, driver):
    sign_in(driver, stack, "vic")
    open_page(driver, stack.url + "/exec")
    driver.find_element(By.ID, "sign-out").click()
    wait(driver).until(lambda d: path_of(d) == "/login")
    driver.get(stack.url + "/exec")
    wait(driver).until(lambda d: path_of(d) == "/login")
