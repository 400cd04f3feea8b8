"""The wall and the executive view in real headless Chromium against the real stack: sizes, rotation, takeover,
stale and recovery, colour emoji, and axe-core's WCAG 2.2 AA rules (on the strategists' page too)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml
from selenium.common.exceptions import TimeoutException

from tests.web.stack import Stack, browser, count, event_file, sign_in, text, wait

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
DOCS = Path(__file__).resolve().parents[2] / "docs"
ROTATE_S, TAKEOVER_S = 4, 8


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("screens")
    path = event_file(tmp, rate=80)
    event = yaml.safe_load(path.read_text())
    event["wall"] = {"rotate_s": ROTATE_S, "takeover_s": TAKEOVER_S}
    path.write_text(yaml.safe_dump(event))
    s = Stack(tmp / "var", path).start(timeout=180)  # a loaded machine starts slowly
    yield s
    s.stop()


def screen_browser(stack: Stack, width: int = 1920, height: int = 1080):
    """Chromium whose page is exactly width x height, like a TV's browser in kiosk mode (no window chrome),
    signed in as a strategist (who may see every screen) through the real sign-in form."""
    driver = browser(width, height)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    sign_in(driver, stack)
    return driver


@pytest.fixture
def driver(stack):
    d = screen_browser(stack)
    yield d
    d.quit()


def open_screen(driver, url: str, output: str, timeout: float = 60) -> None:
    """Load a page and wait until its route rendered and its own screen callback (`output`) answered after that."""
    driver.get(url)
    wait(driver, timeout).until(
        lambda d: d.execute_script(
            """const t = window.__warroom; if (!t) return false;
            const route = t.answers.find(a => a.output.startsWith('page.children') && a.status === 200);
            return !!route && t.answers.some(a => a.output.indexOf(arguments[0]) >= 0 && a.status === 200
              && a.sent > route.done);""",
            output,
        )
    )


# Every visible element: its own text no smaller than the minimum, inside the screen, nothing clipped, no scrollbar.
LAYOUT_CHECK = """
const min = arguments[0], bad = [], vw = innerWidth, vh = innerHeight, de = document.documentElement;
if (de.scrollWidth > vw || de.scrollHeight > vh) bad.push(`page scrolls ${de.scrollWidth}x${de.scrollHeight}`);
for (const el of document.querySelectorAll('body *')) {
  const cs = getComputedStyle(el);
  if (cs.visibility !== 'visible' || cs.display === 'none' || +cs.opacity === 0) continue;
  const r = el.getBoundingClientRect();
  if (!r.width || !r.height) continue;
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  const name = `${el.tagName.toLowerCase()}.${(el.getAttribute('class') || '').split(' ')[0]} "${(el.textContent || '').trim().slice(0, 30)}"`;
  if (own && parseFloat(cs.fontSize) < min - 0.01) bad.push(`${cs.fontSize} text: ${name}`);
  if (own && (r.right > vw + 1 || r.bottom > vh + 1 || r.left < -1 || r.top < -1)) bad.push(`off screen: ${name}`);
  if (el.closest('.js-plotly-plot') || el instanceof SVGElement) continue;
  if (['auto', 'scroll'].includes(cs.overflowY) || ['auto', 'scroll'].includes(cs.overflowX)) {
    if (el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1) bad.push(`scrollbar: ${name}`);
  } else if (el.scrollHeight > el.clientHeight + 2 || el.scrollWidth > el.clientWidth + 2) {
    if (cs.overflowX !== 'visible' || cs.overflowY !== 'visible') bad.push(`clipped ${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight}: ${name}`);
  }
}
return bad;"""

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
  .then(r => done(r.violations.map(v => `${v.id}: ${v.nodes.length} × ${v.nodes[0].target} ${v.nodes[0].failureSummary}`)),
        e => done(['axe failed: ' + e]));"""


def axe_violations(driver) -> list[str]:
    driver.set_script_timeout(60)
    driver.execute_script(AXE)
    return driver.execute_async_script(RUN_AXE)


def view_on(driver) -> str:
    return driver.execute_script("const v = document.querySelector('.wall-view.on'); return v ? v.id : ''")


def wait_filled(driver, view: str) -> None:
    """The view is on and its panels have their first content."""
    wait(driver).until(lambda d: view_on(d) == f"wall-view-{view}")
    wait(driver).until(
        lambda d: d.execute_script(
            "const v = document.querySelector('.wall-view.on'); return v && [...v.querySelectorAll('.wall-panel')]"
            ".every(p => p.innerText.split('\\n').length > 1 || p.querySelector('.main-svg .scatterlayer .trace'))"
        )
    )


def settled_problems(driver, view: str, minimum: float, timeout: float = 5) -> list:
    """The layout problems of `view` once it has settled, or the last ones seen while it stayed on: a chart drawn
    just before the page's text size reached the server is drawn again at that size with the next answer."""
    seen: list = []

    def settled(d) -> bool:
        if view_on(d) != view:
            return bool(seen)  # rotated away: report what it showed
        seen[:] = [d.execute_script(LAYOUT_CHECK, minimum)]
        return not seen[0]

    try:
        wait(driver, timeout).until(settled)
    except TimeoutException:
        pass
    return seen[0] if seen else ["the view rotated away before it was checked"]


@pytest.mark.parametrize("width, height, minimum", [(1920, 1080, 28), (3840, 2160, 56)])
def test_wall_rotates_through_its_views_with_big_text_and_nothing_cut_or_scrolling(stack, width, height, minimum):
    driver = screen_browser(stack, width, height)
    try:
        open_screen(driver, stack.url + "/wall", "wall-version.data")
        assert count(driver, "button, input, select, textarea, a[href]") == 0, "the wall has no controls"
        assert driver.execute_script("return getComputedStyle(document.querySelector('.wall')).cursor") == "none"
        seen = []
        for _ in range(4):  # every view comes round in turn
            view = wait(driver).until(lambda d: (v := view_on(d)) and v not in seen and v)
            wait_filled(driver, view.removeprefix("wall-view-"))
            assert count(driver, ".wall-view.on .wall-panel") <= 4
            problems = settled_problems(driver, view, minimum)
            assert problems == [], (view, problems, driver.execute_script("return [innerWidth, innerHeight]"))
            seen.append(view)
        assert sorted(seen) == sorted(f"wall-view-{v}" for v in ("overview", "spotlight", "storylines", "brands"))
        if width == 1920:
            assert axe_violations(driver) == []
    finally:
        driver.quit()


def test_a_critical_alert_takes_over_the_wall_then_hands_back(stack, driver):
    open_screen(driver, stack.url + "/wall", "wall-version.data")
    post = {
        "id": f"webhook:critical-{time.time()}",
        "source": "webhook",
        "author": {"handle": "fan1", "followers": 120},
        "text": "Oreo contaminated batch?! 😱 is this real",
        "created_at": time.time(),
    }
    status, body = stack.post("/api/ingest", [post])
    assert status == 202, body
    wait(driver).until(lambda d: "contaminated" in text(d, "#wall-takeover.on"))
    assert "CRITICAL" in text(driver, "#wall-takeover")
    assert count(driver, "#wall-takeover-chart .shapelayer path") >= 1, "its moment is marked on the chart"
    assert driver.execute_script(LAYOUT_CHECK, 28) == []
    wait(driver, TAKEOVER_S + 30).until(lambda d: count(d, "#wall-takeover.on") == 0)
    assert view_on(driver)


def test_posts_emoji_render_in_colour(stack, driver):
    open_screen(driver, stack.url + "/wall", "wall-version.data")
    coloured = driver.execute_async_script(
        """const done = arguments[0];
        document.fonts.load('28px "War Room Emoji"', '😀').then(() => {
          const c = document.createElement('canvas'); c.width = 40; c.height = 40;
          const g = c.getContext('2d'); g.font = '28px "War Room Emoji"'; g.fillText('😀', 2, 32);
          const px = g.getImageData(0, 0, 40, 40).data; let colour = 0;
          for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && Math.abs(px[i] - px[i + 2]) > 60) colour++;
          done(colour);
        }, () => done(-1));"""
    )
    assert coloured > 20, "the emoji is drawn in colour, not as an empty box"


def test_the_wall_shows_stale_when_answers_stop_and_recovers_by_itself(stack, driver):
    open_screen(driver, stack.url + "/wall", "wall-version.data")
    wait(driver).until(lambda d: text(d, "#wall-live").startswith("● LIVE"))
    # The web stops answering (frozen, so it cannot be restarted faster than the wall may notice) ...
    serve = stack.child("serve")
    serve.suspend()
    try:
        wait(driver).until(lambda d: "STALE" in text(d, "#wall-stale"))
        assert "STALE" in text(driver, "#wall-live")
    finally:
        serve.kill()  # ... then dies; `up` restarts it
    wait(driver, 90).until(lambda d: text(d, "#wall-live").startswith("● LIVE"))
    # A new build on the server reloads the page (as after a deploy): the page we marked is gone.
    driver.execute_script("window.warroomMarker = 1; window.warroomBuild = 'an-older-build'")
    wait(driver).until(lambda d: d.execute_script("return window.warroomMarker") is None)
    wait(driver).until(lambda d: text(d, "#wall-live").startswith("● LIVE"))


FADED_IN = "const v = document.querySelector('.wall-view.on'); return !!v && getComputedStyle(v).opacity === '1'"


@pytest.mark.skipif(not os.environ.get("WARROOM_SCREENSHOTS"), reason="only when retaking the README's pictures")
def test_the_readme_picture_of_the_wall(stack, driver):
    """The overview at 1080p, taken when no alert has the screen and kept only if it did not rotate meanwhile."""
    open_screen(driver, stack.url + "/wall", "wall-version.data")
    shot = DOCS / "wall.tmp.png"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        wait_filled(driver, "overview")
        wait(driver).until(lambda d: d.execute_script(FADED_IN) or view_on(d) != "wall-view-overview")
        if count(driver, "#wall-takeover.on") == 0 and driver.execute_script(FADED_IN):
            driver.save_screenshot(str(shot))
            if view_on(driver) == "wall-view-overview" and count(driver, "#wall-takeover.on") == 0:
                shot.replace(DOCS / "wall.png")
                return
        wait(driver).until(lambda d: view_on(d) != "wall-view-overview")
    shot.unlink(missing_ok=True)
    raise AssertionError("the overview was never on without an alert taking the screen")


def test_exec_view_answers_on_one_screen_and_passes_axe(stack, driver):
    open_screen(driver, stack.url + "/exec", "exec-version.data")
    wait(driver).until(lambda d: count(d, "#exec-sov tbody tr") == 3)
    wait(driver).until(lambda d: "Data" in text(d, "#exec-light"))
    sov = text(driver, "#exec-sov")
    assert "Oreo" in sov and "Chips Ahoy" in sov and "whole event" in sov
    assert "posts in the last minute" in text(driver, "#exec-volume")
    assert "Verdict" in text(driver, "#exec-volume")
    assert "median time to approval" in text(driver, "#exec-pipeline")
    wait(driver).until(lambda d: "care backlog" in text(d, "#exec-pipeline .care-figures"))  # customer care too
    assert count(driver, "#report-button") == 1
    assert count(driver, ".source-row") == 0, "one light instead of source rows"
    assert driver.execute_script(LAYOUT_CHECK, 12) == []
    assert axe_violations(driver) == []
    if os.environ.get("WARROOM_SCREENSHOTS"):
        wait(driver).until(lambda d: count(d, "#exec-moments .moment") >= 1)
        driver.save_screenshot(str(DOCS / "exec.png"))


def test_strategists_page_passes_axe(stack, driver):
    open_screen(driver, stack.url + "/", "snap-version.data")
    wait(driver).until(lambda d: count(d, "#feed .feed-item") >= 3)
    violations = axe_violations(driver)
    assert violations == [], "\n".join(violations)
