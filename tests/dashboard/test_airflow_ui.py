"""The dashboard inside a real Airflow: the plugin mounted by ``airflow api-server``,
protected by Airflow's authentication, and used in Debian's Chromium like an operator does.

One API server per module (private AIRFLOW_HOME, SQLite metadata, SimpleAuthManager with
an admin "ops" and a viewer "reader", a free port); its whole process group is stopped at
the end. Screenshots land in artifacts/screenshots/.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pipeline.cli import main
from pipeline.store.store import Store
from tests.conftest import SAMPLE_INBOX, airflow_conn
from tests.dashboard import browser
from tests.dashboard.conftest import COPPER_CANONICAL, COPPER_CGTN, POWER_1, POWER_2

pytestmark = [pytest.mark.integration, pytest.mark.airflow, pytest.mark.slow]

AIRFLOW = Path(sys.executable).with_name("airflow")
USERS = {
    "ops": ("admin", "ops-" + secrets.token_hex(4)),
    "reader": ("viewer", "rd-" + secrets.token_hex(4)),
}


@dataclass
class Server:
    base: str
    db_url: str
    home: Path

    def token(self, user: str) -> str:
        r = httpx.post(
            f"{self.base}/auth/token",
            json={"username": user, "password": USERS[user][1]},
            timeout=30,
        )
        r.raise_for_status()
        return r.json()["access_token"]

    def story_of(self, key: str) -> int:
        with Store.open(self.db_url, migrate=False) as store:
            return store.dashboard.story_of_article_key(key)

    def article(self, key: str) -> int:
        with Store.open(self.db_url, migrate=False) as store:
            return store.report.article(key)["id"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop the API server and every process it started (its own process group)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def airflow(databases, migrated_template):
    pytest.importorskip("airflow", reason="needs the airflow extra (`make test` installs it)")
    if not AIRFLOW.exists():
        pytest.skip(f"no airflow command next to {sys.executable}")
    db_url = databases.create(template=migrated_template)
    assert main(["run", "--inbox", str(SAMPLE_INBOX), "--database-url", db_url]) == 0
    # a short private AIRFLOW_HOME (sockets and SQLite paths stay well under OS limits)
    home = Path(tempfile.mkdtemp(prefix="ndaf-"))
    (home / "dags").mkdir()
    (home / "passwords.json").write_text(json.dumps({u: p for u, (_, p) in USERS.items()}))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWSDEDUP_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(home / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(home / "plugins"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
        AIRFLOW__CORE__AUTH_MANAGER=(
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=",".join(
            f"{u}:{r}" for u, (r, _) in USERS.items()
        ),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(home / "passwords.json"),
        AIRFLOW__API__BASE_URL=f"http://127.0.0.1:{port}",
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(16),
        AIRFLOW__API__SECRET_KEY=secrets.token_hex(16),
        AIRFLOW_CONN_NEWSDEDUP_DB=airflow_conn(db_url),
    )
    migrate = subprocess.run(
        [str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    log = (home / "api-server.log").open("w")
    proc = subprocess.Popen(
        [str(AIRFLOW), "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stopped as a whole
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    "airflow api-server exited:\n" + (home / "api-server.log").read_text()[-3000:]
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/api/v2/monitor/health", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(
                    "airflow api-server did not answer:\n"
                    + (home / "api-server.log").read_text()[-3000:]
                )
            time.sleep(1)
        yield Server(base, db_url, home)
    finally:
        _stop(proc)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def test_plugin_is_registered_with_a_nav_entry(airflow):
    r = httpx.get(
        f"{airflow.base}/api/v2/plugins",
        headers={"Authorization": f"Bearer {airflow.token('ops')}"},
        timeout=30,
    )
    plugin = next(p for p in r.json()["plugins"] if p["name"] == "newsdedup")
    assert plugin["fastapi_apps"][0]["url_prefix"] == "/newsdedup"
    view = plugin["external_views"][0]
    assert view["name"] == "Dedup" and view["href"] == "/newsdedup/" and view["icon"]
    assert view["url_route"] == "dedup"


def test_the_old_ui_address_redirects_to_the_new_one(airflow):
    r = httpx.get(f"{airflow.base}/plugin/newsdedup/newsdedup/stories/6?from=2", timeout=30)
    assert r.status_code == 308
    assert r.headers["location"] == "/plugin/dedup/newsdedup/stories/6?from=2"
    r = httpx.get(f"{airflow.base}/plugin/newsdedup", timeout=30)
    assert r.status_code == 308 and r.headers["location"] == "/plugin/dedup"
    # the new address is Airflow's own UI page (its single-page app), not a redirect
    r = httpx.get(f"{airflow.base}/plugin/dedup/newsdedup/stories/6", timeout=30)
    assert r.status_code == 200 and "<html" in r.text.lower()


def test_anonymous_requests_get_401(airflow):
    for path in (
        "/newsdedup/",
        "/newsdedup/stories",
        f"/newsdedup/stories/{airflow.story_of(COPPER_CANONICAL)}",
    ):
        r = httpx.get(airflow.base + path, timeout=30)
        assert r.status_code == 401, path
    page = httpx.get(airflow.base + "/newsdedup/", headers={"Accept": "text/html"}, timeout=30)
    assert page.status_code == 401 and "Sign in to Airflow" in page.text
    assert "/auth/login" in page.text
    r = httpx.post(
        f"{airflow.base}/newsdedup/stories/1/split",
        data={"article_id": "1", "why": "x"},
        timeout=30,
    )
    assert r.status_code == 401
    # the stylesheet and the nav icon are public; no data is
    assert httpx.get(f"{airflow.base}/newsdedup/static/icon.svg", timeout=30).status_code == 200


def test_a_viewer_can_look_but_not_act(airflow):
    auth = {"Authorization": f"Bearer {airflow.token('reader')}", "Accept": "text/html"}
    sid = airflow.story_of(POWER_1)
    page = httpx.get(f"{airflow.base}/newsdedup/stories/{sid}", headers=auth, timeout=30)
    assert page.status_code == 200
    assert "reader" in page.text and "read-only" in page.text and 'name="why"' not in page.text
    r = httpx.post(
        f"{airflow.base}/newsdedup/stories/{sid}/merge",
        data={"other": f"s{airflow.story_of(POWER_2)}", "why": "viewer tries"},
        headers=auth,
        timeout=30,
    )
    assert r.status_code == 403
    assert airflow.story_of(POWER_1) != airflow.story_of(POWER_2)


def test_an_editor_acts_under_their_airflow_name(airflow):
    auth = {"Authorization": f"Bearer {airflow.token('ops')}"}
    sid = airflow.story_of(POWER_1)
    r = httpx.post(
        f"{airflow.base}/newsdedup/stories/{sid}/never-merge",
        data={"other": f"s{airflow.story_of(POWER_2)}", "why": "two different weeks"},
        headers=auth,
        timeout=60,
    )
    assert r.status_code == 303 and r.headers["location"].startswith(
        f"/newsdedup/stories/{sid}?done="
    )
    with Store.open(airflow.db_url, migrate=False) as store:
        ev = store.dashboard.story_history(sid)
    assert ev[0]["who"] == "ops" and ev[0]["kind"] == "never_merge"


@pytest.mark.browser
def test_operator_splits_a_member_in_the_airflow_ui(airflow):
    with browser.chrome() as driver:
        _split_in_the_airflow_ui(driver, airflow)


def _split_in_the_airflow_ui(driver, airflow) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    wait = browser.wait(driver, 60)
    # sign in through Airflow's own login page
    driver.get(airflow.base + "/")
    wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys("ops")
    driver.find_element(By.NAME, "password").send_keys(USERS["ops"][1])
    driver.find_element(By.XPATH, "//button[normalize-space()='Sign in']").click()
    nav = wait.until(
        ec.element_to_be_clickable((By.XPATH, "//a[contains(@href, '/plugin/dedup')]"))
    )
    assert "Dedup" in (nav.text or nav.get_attribute("aria-label") or "")
    browser.shot(driver, "01-airflow-home-with-dedup-nav")

    # open the dashboard from the navigation: it renders in Airflow's frame
    nav.click()
    frame = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "iframe[title='Dedup']")))
    driver.switch_to.frame(frame)
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Overview"))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "svg.chart rect")))
    assert "ops" in driver.find_element(By.CSS_SELECTOR, ".who").text
    driver.switch_to.default_content()
    browser.shot(driver, "02-dashboard-overview")

    # the story list, then the copper story
    driver.switch_to.frame(frame)
    driver.find_element(By.LINK_TEXT, "Stories").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Stories"))
    driver.find_element(By.PARTIAL_LINK_TEXT, "Chile state copper output falls").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Chile state copper"))
    sid = airflow.story_of(COPPER_CANONICAL)
    member = airflow.article(COPPER_CGTN)
    row = driver.find_element(By.ID, f"m{member}")
    assert "duplicate" in row.text
    driver.switch_to.default_content()
    # the UI's address follows the frame, naming the page once
    wait.until(lambda d: f"/stories/{sid}" in d.current_url)
    assert driver.current_url.endswith(f"/plugin/dedup/newsdedup/stories/{sid}")
    browser.shot(driver, "03-story")

    # split the CGTN copy out, with a reason
    driver.switch_to.frame(frame)
    row = driver.find_element(By.ID, f"m{member}")
    row.find_element(By.CSS_SELECTOR, "details.split summary").click()
    why = wait.until(ec.visibility_of(row.find_element(By.NAME, "why")))
    why.send_keys("CGTN feature on the rain, not the output figures")
    row.find_element(By.CSS_SELECTOR, "details.split button[type=submit]").click()
    notice = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".notice.ok")))
    assert "Split applied" in notice.text and "moved to s" in notice.text
    history = driver.find_element(By.ID, "history").text
    assert "CGTN feature on the rain, not the output figures" in history
    assert "ops" in history
    assert not driver.find_elements(By.ID, f"m{member}")  # no longer a member
    driver.switch_to.default_content()
    browser.shot(driver, "04-story-after-split")
    assert airflow.story_of(COPPER_CGTN) != sid

    # its new story says where it came from
    new_story = airflow.story_of(COPPER_CGTN)
    driver.switch_to.frame(frame)
    driver.find_element(By.LINK_TEXT, f"s{new_story}").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "history"), f"out of s{sid}"))
    driver.switch_to.default_content()


def test_the_review_queue_inside_airflow(airflow):
    """Through the plugin: a viewer sees the queue but cannot decide; an editor's "keep
    apart" is recorded under their Airflow name."""
    with Store.open(airflow.db_url, migrate=False) as store:
        a, b = sorted(store.report.article(k)["id"] for k in (POWER_1, POWER_2))
    reader = {"Authorization": f"Bearer {airflow.token('reader')}", "Accept": "text/html"}
    page = httpx.get(f"{airflow.base}/newsdedup/review", headers=reader, timeout=30)
    assert page.status_code == 200 and f'id="p{a}-{b}"' in page.text
    assert 'value="apart"' not in page.text and "edit DAGs in Airflow" in page.text
    overview = httpx.get(f"{airflow.base}/newsdedup/", headers=reader, timeout=30).text
    assert 'id="kpi-review"' in overview
    form = {"decision": "apart", "why": "two weekly editions"}
    r = httpx.post(f"{airflow.base}/newsdedup/review/{a}/{b}", data=form, headers=reader)
    assert r.status_code == 403
    ops = {"Authorization": f"Bearer {airflow.token('ops')}"}
    r = httpx.post(f"{airflow.base}/newsdedup/review/{a}/{b}", data=form, headers=ops, timeout=60)
    assert r.status_code == 303
    assert r.headers["location"] == f"/newsdedup/review?done={a}-{b}"
    with Store.open(airflow.db_url, migrate=False) as store:
        decided = store.review.pair(a, b)
    assert decided["decision"] == "apart" and decided["who"] == "ops"


@pytest.mark.browser
def test_operator_keeps_a_pair_apart_from_the_review_queue_in_the_airflow_ui(airflow):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    with browser.chrome() as driver:
        wait = browser.wait(driver, 60)
        driver.get(airflow.base + "/")
        wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys("ops")
        driver.find_element(By.NAME, "password").send_keys(USERS["ops"][1])
        driver.find_element(By.XPATH, "//button[normalize-space()='Sign in']").click()
        wait.until(
            ec.element_to_be_clickable((By.XPATH, "//a[contains(@href, '/plugin/dedup')]"))
        ).click()
        frame = wait.until(
            ec.presence_of_element_located((By.CSS_SELECTOR, "iframe[title='Dedup']"))
        )
        driver.switch_to.frame(frame)
        wait.until(ec.presence_of_element_located((By.ID, "kpi-review")))
        driver.find_element(By.LINK_TEXT, "Review").click()
        row = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "tr.pair")))
        pair = row.get_attribute("id")[1:]
        a, b = (int(x) for x in pair.split("-"))
        row.find_element(By.NAME, "why").send_keys("Xinhua's week is not Reuters' week")
        row.find_element(By.CSS_SELECTOR, "button[value=apart]").click()
        done = wait.until(ec.presence_of_element_located((By.ID, "done")))
        assert "Kept apart" in done.text
        assert not driver.find_elements(By.ID, f"p{pair}")
        driver.switch_to.default_content()
        wait.until(lambda d: "/plugin/dedup/newsdedup/review" in d.current_url)
        browser.shot(driver, "05-review-kept-apart-in-airflow")
    with Store.open(airflow.db_url, migrate=False) as store:
        decided = store.review.pair(a, b)
    assert decided["decision"] == "apart" and decided["who"] == "ops"
