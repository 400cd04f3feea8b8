"""Browser fixtures: a headless Chromium per test."""

import pytest

from tests.web.stack import browser


@pytest.fixture
def driver():
    d = browser()
    yield d
    d.quit()
