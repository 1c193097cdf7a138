"""The standalone dashboard in a real browser: pages render and their script runs under
the Content-Security-Policy (no inline code is blocked that the page needs)."""

from __future__ import annotations

import pytest

from pipeline.stages import review
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


def test_operator_keeps_a_conflict_apart_in_the_review_queue(sample_url, store):
    """In Chromium: the queue shows the Japan power editions as a conflict; "Keep apart" with a
    reason takes them off the queue, and the next run (a rebuild re-verifying everything)
    neither merges them nor brings the pair back."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    from tests.dashboard.test_review import CONFIG, _next_run, _power_pair

    a, b = _power_pair(store)
    with make_client(sample_url) as c, browser.serve(c.app) as base, browser.chrome() as driver:
        wait = browser.wait(driver)
        driver.get(base + "/")
        card = wait.until(ec.presence_of_element_located((By.ID, "kpi-review")))
        assert card.find_element(By.CSS_SELECTOR, ".v a").text == str(review.count(store, CONFIG))
        card.find_element(By.CSS_SELECTOR, ".v a").click()
        row = wait.until(ec.presence_of_element_located((By.ID, f"p{a}-{b}")))
        assert "conflict" in row.text and "Japan weekly power output" in row.text
        browser.shot(driver, "review-queue")

        # the diff first, then the decision from the queue
        row.find_element(By.LINK_TEXT, "Compare").click()
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Same story?"))
        assert driver.find_elements(By.CSS_SELECTOR, "table.diff mark")
        browser.shot(driver, "review-pair-diff")
        driver.back()
        row = wait.until(ec.presence_of_element_located((By.ID, f"p{a}-{b}")))
        row.find_element(By.NAME, "why").send_keys("weekly editions: other figures, other weeks")
        row.find_element(By.CSS_SELECTOR, "button[value=apart]").click()
        done = wait.until(ec.presence_of_element_located((By.ID, "done")))
        assert "Kept apart" in done.text and "will never be merged" in done.text
        assert not driver.find_elements(By.ID, f"p{a}-{b}")
        browser.shot(driver, "review-kept-apart")

        _next_run(store)
        driver.refresh()
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Review"))
        assert not driver.find_elements(By.ID, f"p{a}-{b}")
        decided = driver.find_element(By.ID, "decided").text
        assert "kept apart" in decided and "weekly editions: other figures" in decided
        c.app.state.db.close()
    assert store.overrides.story_of(a)[0] != store.overrides.story_of(b)[0]
    assert store.review.pair(a, b)["decision"] == "apart"
