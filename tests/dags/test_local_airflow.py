"""``make airflow`` (python -m pipeline.local_airflow) for real, as the README starts it: it
prints a URL, a login and the dashboard's URL that work; the ingest and dedup DAGs run on
the sample inbox; the dashboard inside Airflow (read through the api-server with a token)
shows the stories the DAGs wrote; a split made there is what ``newsdedup export`` (the
command it printed) sees; the OpenLineage events of the tasks (``--lineage-file``) carry the
folders an ingest read and the tables it and a publish wrote, named as the assets name
them; and Ctrl-C leaves no process behind.

One database is the point: the tasks and the dashboard resolve the same connection
newsdedup_db. Requests retry on 5xx and refused connections while the api-server warms up
on a loaded machine; nothing here asserts a time."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import ROOT

pytest.importorskip("airflow", reason="the airflow extra is not installed")
pytestmark = [pytest.mark.airflow, pytest.mark.integration, pytest.mark.slow]

COPPER = "Chile state copper output falls"
SOURCES = ("reuters", "xinhua", "cgtn")


class Api:
    """Airflow's REST API and the dashboard behind it, with a bearer token; a 5xx or a
    refused connection is retried until ``patience`` runs out."""

    def __init__(self, base: str, user: str, password: str, patience: float = 180):
        self.base = base
        self.patience = patience
        r = self.call("POST", "/auth/token", json={"username": user, "password": password})
        self.auth = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def call(self, method: str, path: str, **kw) -> httpx.Response:
        deadline = time.monotonic() + self.patience
        headers = {**getattr(self, "auth", {}), **kw.pop("headers", {})}
        while True:
            try:
                r = httpx.request(method, self.base + path, headers=headers, timeout=60, **kw)
                if r.status_code < 500:
                    return r
                last = f"{r.status_code}: {r.text[:300]}"
            except httpx.TransportError as e:
                last = repr(e)
            if time.monotonic() > deadline:
                pytest.fail(f"{method} {path} kept failing: {last}")
            time.sleep(2)

    def json(self, method: str, path: str, **kw):
        r = self.call(method, path, **kw)
        assert r.status_code < 400, (path, r.status_code, r.text[:500])
        return r.json()

    def run_dag(self, dag_id: str, timeout: float = 420) -> str:
        """Trigger a run and wait for it to end; returns its state."""
        run = self.json("POST", f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None})
        path = f"/api/v2/dags/{dag_id}/dagRuns/{quote(run['dag_run_id'], safe='')}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.json("GET", path)["state"]
            if state in ("success", "failed"):
                return state
            time.sleep(3)
        return "timed out"


def _sessions() -> dict[int, int]:
    """pid -> session id of every process."""
    out = {}
    for d in Path("/proc").glob("[0-9]*"):
        try:
            out[int(d.name)] = os.getsid(int(d.name))
        except (OSError, ValueError):
            continue
    return out


def _descendants(root: int) -> set[int]:
    parent = {}
    for d in Path("/proc").glob("[0-9]*"):
        try:
            stat = (d / "stat").read_text()
            parent[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, todo = set(), [root]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in found]
        found.update(kids)
        todo.extend(kids)
    return found


def _export(command: str, env: dict) -> dict[str, dict]:
    """The stories as ``newsdedup export`` prints them, by story id."""
    got = subprocess.run(
        shlex.split(command), env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert got.returncode == 0, got.stderr[-2000:]
    return {s["story_id"]: s for s in map(json.loads, got.stdout.splitlines())}


def _events(path: Path, job: str, patience: float = 60) -> list[dict]:
    """The COMPLETE events of ``job`` (dag_id.task_id) in the lineage file, once there
    (the provider writes them from a fork of the finished task)."""
    deadline = time.monotonic() + patience
    while True:
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        found = [
            e
            for e in map(json.loads, lines)
            if e.get("eventType") == "COMPLETE" and e.get("job", {}).get("name") == job
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(2)


def _datasets(event: dict, side: str) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for d in event.get(side, [])}


def _as_dataset(uri: str) -> tuple[str, str]:
    """An asset's ``postgres://host:port/db/schema/table[?...]`` as OpenLineage names it."""
    m = re.fullmatch(r"(postgres://[^/]+)/([^/]+)/([^/]+)/([^/?]+)(\?.*)?", uri)
    assert m, uri
    return m.group(1), ".".join(m.group(2, 3, 4))


def _check_lineage(path: Path, api: Api) -> None:
    """Ingest: the source's folder in, the payload and article tables out; publish: the
    article table in, the story tables out; tables named as the DAGs' assets name them."""
    from pipeline.local_airflow import SAMPLE_INBOX

    assets = {a["name"]: a["uri"] for a in api.json("GET", "/api/v2/assets?limit=100")["assets"]}
    article = _as_dataset(assets["newsdedup.articles.reuters"])
    story = _as_dataset(assets["newsdedup.stories"])
    namespace, database = story[0], story[1].split(".")[0]
    tables = {t: (namespace, f"{database}.public.{t}") for t in ("payload", "story_member")}

    ingest = _events(path, "newsdedup_ingest_reuters.ingest")
    assert ingest, "no COMPLETE event of newsdedup_ingest_reuters.ingest"
    assert ("file", str(SAMPLE_INBOX / "reuters")) in _datasets(ingest[0], "inputs")
    assert {article, tables["payload"]} <= _datasets(ingest[0], "outputs")

    # a run with an empty batch skips publish: the one that published is among them
    wrote = {story, tables["story_member"], (namespace, f"{database}.public.provenance")}
    publish = _events(path, "newsdedup_dedup.publish")
    assert any(
        article in _datasets(e, "inputs") and wrote <= _datasets(e, "outputs") for e in publish
    ), [(_datasets(e, "inputs"), _datasets(e, "outputs")) for e in publish]


def _screenshot(base: str, user: str, password: str, story_id: int) -> None:
    """The dashboard inside Airflow's UI showing a story the DAG run just wrote (skipped
    where Debian's chromium is missing)."""
    from tests.dashboard import browser

    if not (browser.CHROMIUM and browser.CHROMEDRIVER):
        return
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    with browser.chrome() as driver:
        wait = browser.wait(driver, 90)
        driver.get(base + "/")
        wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys(user)
        driver.find_element(By.NAME, "password").send_keys(password)
        driver.find_element(By.XPATH, "//button[normalize-space()='Sign in']").click()
        nav = wait.until(ec.element_to_be_clickable((By.XPATH, "//a[contains(@href, '/plugin/')]")))
        nav.click()
        frame = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "iframe")))
        driver.switch_to.frame(frame)
        wait.until(ec.presence_of_element_located((By.TAG_NAME, "h1")))
        driver.execute_script(
            "window.location.href = arguments[0]", f"{base}/newsdedup/stories/{story_id}"
        )
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Chile state copper"))
        driver.switch_to.default_content()
        browser.shot(driver, "airflow-dashboard-dag-written-story")


def test_make_airflow_one_database_from_dag_to_dashboard_to_export():
    from pipeline.local_airflow import free_port

    # a short path: the embedded server's Unix socket lives under it
    home = Path(tempfile.mkdtemp(prefix="ndaf-")) / "af"
    port = str(free_port())
    lineage = home.parent / "lineage.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.pop("NEWSDEDUP_DATABASE_URL", None)
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "pipeline.local_airflow", "--home", str(home)),
            *("--port", port, "--lineage-file", str(lineage)),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # our own Ctrl-C target, like a terminal's foreground job
    )
    lines: list[str] = []
    sids = {proc.pid}
    try:
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Ctrl-C stops everything"):
                break
        out = "".join(lines)
        url = re.search(r"Airflow is ready in \d+s: (http://127\.0\.0\.1:\d+)", out)
        login = re.search(r"log in as (\S+) / (\S+)", out)
        dashboard = re.search(r"dashboard: (\S+)", out)
        export = re.search(r"stories: (.+ export stories .+)$", out, re.M)
        assert url and login and dashboard and export, out
        base = url.group(1)
        assert dashboard.group(1) == base + "/plugin/dedup"
        api = Api(base, *login.groups())

        # the DAGs are there (once the dag-processor's first pass is in), unpaused by
        # default, and parse cleanly
        wanted = {f"newsdedup_ingest_{s}" for s in SOURCES} | {
            "newsdedup_dedup",
            "newsdedup_maintenance",
        }
        deadline = time.monotonic() + 240
        while True:
            dags = {d["dag_id"]: d for d in api.json("GET", "/api/v2/dags?limit=50")["dags"]}
            if set(dags) >= wanted or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert set(dags) >= wanted
        assert not any(dags[d]["is_paused"] for d in dags if d.startswith("newsdedup_"))
        assert api.json("GET", "/api/v2/importErrors")["total_entries"] == 0

        # ingest every source, then a dedup run (after any the assets already started)
        for s in SOURCES:
            assert api.run_dag(f"newsdedup_ingest_{s}") == "success", s
        assert api.run_dag("newsdedup_dedup") == "success"
        _check_lineage(lineage, api)

        # the dashboard inside Airflow reads the database the DAGs wrote
        page = api.call("GET", "/newsdedup/stories", headers={"Accept": "text/html"})
        assert page.status_code == 200, page.text[:500]
        assert COPPER in page.text
        shown = set(re.findall(r'href="/newsdedup/stories/(\d+)"', page.text))
        assert len(shown) >= 3
        before = _export(export.group(1), env)
        assert {f"s{i}" for i in shown} <= set(before)
        copper = next(s for s in before.values() if COPPER in (s["headline"] or ""))
        sid = int(copper["story_id"][1:])
        assert len(copper["members"]) >= 2

        story = api.call("GET", f"/newsdedup/stories/{sid}", headers={"Accept": "text/html"})
        assert story.status_code == 200 and COPPER in story.text
        _screenshot(base, *login.groups(), sid)

        # split a member out in the dashboard: export (same connection) sees it
        members = re.findall(
            rf'action="/newsdedup/stories/{sid}/split".*?name="article_id" value="(\d+)"',
            story.text,
            re.S,
        )
        assert members, story.text[:2000]
        r = api.call(
            "POST",
            f"/newsdedup/stories/{sid}/split",
            data={"article_id": members[-1], "why": "end-to-end check under make airflow"},
            follow_redirects=False,
        )
        assert r.status_code == 303, (r.status_code, r.text[:500])
        after = _export(export.group(1), env)
        left = set(after[copper["story_id"]]["members"])
        moved = set(copper["members"]) - left
        assert len(moved) == 1 and len(left) == len(copper["members"]) - 1
        (key,) = moved
        assert any(key in s["members"] for k, s in after.items() if k != copper["story_id"])

        pgdata = home / "data" / "pgdata"
        assert (pgdata / "postmaster.pid").exists()
        # every session the launcher's processes run in (one per Airflow component)
        sessions = _sessions()
        sids |= {sessions[p] for p in _descendants(proc.pid) if p in sessions}
        assert len(sids) >= 4
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        rest, _ = proc.communicate(timeout=180)
        server_left = (home / "data" / "pgdata" / "postmaster.pid").exists()
        shutil.rmtree(home.parent, ignore_errors=True)
    assert proc.returncode == 0, rest
    assert not server_left
    assert "stopped every process" in rest
    left_over = [p for p, sid in _sessions().items() if sid in sids]
    assert left_over == []
