"""The story page renders the merged record as the export has it: killed copy is marked
"do not use" and left out, the corrected figure is credited to the correction, and "Why
linked" says what happened."""

from __future__ import annotations

import pytest

from tests.dashboard import browser
from tests.dashboard.conftest import COPPER_CANONICAL, COPPER_CGTN, make_client

pytestmark = pytest.mark.integration

KILLED = "reuters:tag:reuters.com,2026:newsml_L5N3CW1AA"
FIRST_TAKE = "reuters:tag:reuters.com,2026:newsml_L1N3CU0PP"


def test_killed_story_shows_a_red_do_not_use_band_in_chromium(sample_url, store):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    sid = store.dashboard.story_of_article_key(KILLED)
    live = store.dashboard.story_of_article_key(COPPER_CANONICAL)
    with make_client(sample_url) as c, browser.serve(c.app) as base, browser.chrome() as driver:
        wait = browser.wait(driver)
        driver.get(f"{base}/stories/{sid}")
        band = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".killband")))
        assert "Killed - do not use" in band.text
        colour = band.value_of_css_property("background-color")
        assert colour.startswith("rgba(201, 48, 58"), colour  # --bad, the kill red
        assert not driver.find_elements(By.CSS_SELECTOR, "ol.prov li")  # no killed text
        reason = driver.find_element(By.CSS_SELECTOR, "td.reason").text
        assert "killed" in reason and "operator merge" not in reason
        browser.shot(driver, "story-killed")
        driver.get(f"{base}/stories/{live}")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "ol.prov li")))
        assert not driver.find_elements(By.CSS_SELECTOR, ".killband")
        c.app.state.db.close()


def test_copper_record_credits_and_reasons(dash):
    sid = dash.story_of(COPPER_CANONICAL)
    page = dash.get(f"/stories/{sid}").text
    paragraphs = page.split("<h3>Captions")[0]
    assert 'class="added"' not in paragraphs  # the CGTN rewording of the lead is not added
    assert "38,100" in paragraphs and "36,100" not in paragraphs  # the corrected figure
    assert "version of the canonical: same story" in page
    assert COPPER_CGTN in page and FIRST_TAKE in page
