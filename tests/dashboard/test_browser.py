"""The standalone dashboard in a real browser: pages render and their script runs under
the Content-Security-Policy (no inline code is blocked that the page needs)."""

from __future__ import annotations

import pytest

from tests.dashboard import browser
from tests.dashboard.conftest import make_client

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_overview_and_stories_render_in_chromium(sample_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    with make_client(sample_url) as c, browser.serve(c.app) as base, browser.chrome() as driver:
        wait = browser.wait(driver)
        driver.get(base + "/")
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Overview"))
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "svg.chart rect")))
        browser.shot(driver, "standalone-overview")
        driver.find_element(By.LINK_TEXT, "Stories").click()
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Stories"))
        assert driver.find_elements(By.PARTIAL_LINK_TEXT, "Chile state copper output falls")
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        c.app.state.db.close()
