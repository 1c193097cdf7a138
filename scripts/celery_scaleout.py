#!/usr/bin/env python3
"""Scale-out check: the newsdedup DAGs under the CeleryExecutor with two workers.

    .venv/bin/python scripts/celery_scaleout.py [--admin-url URL] [--redis URL] [--keep]

What it does, all on the local host and all cleaned up afterwards:

1. creates three databases on the PostgreSQL server of ``--admin-url`` (default
   ``$NEWSDEDUP_TEST_DATABASE_URL``, else postgresql://postgres@127.0.0.1:5432/postgres):
   Airflow's metadata, the pipeline's database for the DAGs, and one for the CLI;
2. starts an Airflow (api-server, scheduler, dag-processor) with the CeleryExecutor, the
   Redis of ``--redis`` (default redis://127.0.0.1:6379/0) as broker, a private
   AIRFLOW_HOME, free ports and a queue of its own (other Airflows on this Redis never see
   its tasks), and two Celery worker processes that report themselves as ``worker-1`` and
   ``worker-2`` (as a task instance's hostname);
3. through the REST API (JWT login): unpauses and triggers the three ingest DAGs on the
   sample inbox, waits for them, then unpauses and triggers the dedup DAG (4 shards);
4. checks that the mapped sign/verify tasks of the batch ran on both workers, and that
   the stories equal those of a single-process ``newsdedup run`` of the same inbox (story
   and caption-group ids aside);
5. stops every process it started (their process groups) and drops the databases.

Exit status 0 when both checks pass, 1 when one fails, 2 when the host lacks a
prerequisite (no PostgreSQL, no Redis, no airflow extra).
"""

from __future__ import annotations

import argparse
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
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.local_airflow import free_port, stop_session  # noqa: E402
from pipeline.tasks import connection_json  # noqa: E402

SAMPLE_INBOX = ROOT / "pipeline" / "samples" / "inbox"
SOURCES = ("reuters", "xinhua", "cgtn")
WORKERS = ("worker-1", "worker-2")
SHARDS = 4
HOSTNAME_MODULE = '''\
"""hostname_callable of the scale-out check: a worker's name, else the machine's."""
import os
import socket


def name():
    return os.environ.get("NEWSDEDUP_SCALEOUT_WORKER") or socket.getfqdn()
'''


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Prerequisite(Exception):
    pass


# --- databases ------------------------------------------------------------------------------


def _with_db(admin_url: str, name: str) -> str:
    import psycopg

    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    info["dbname"] = name
    host = info.get("host") or "127.0.0.1"
    auth = info.get("user", "postgres") + (f":{info['password']}" if info.get("password") else "")
    return f"postgresql://{auth}@{host}:{info.get('port') or 5432}/{name}"


def create_db(admin_url: str, name: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as c:
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _with_db(admin_url, name)


def drop_db(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def redis_ping(url: str) -> None:
    u = urlsplit(url)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=3) as s:
            s.sendall(b"PING\r\n")
            if not s.recv(64).startswith(b"+PONG"):
                raise Prerequisite(f"{url} does not answer PING like Redis")
    except OSError as e:
        raise Prerequisite(f"no Redis at {url}: {e.strerror or e}") from None


# --- REST API -------------------------------------------------------------------------------


class Api:
    def __init__(self, base: str):
        self.base = base
        self.token: str | None = None

    def call(self, method: str, path: str, body: dict | None = None):
        req = urllib.request.Request(
            self.base + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {self.token}"} if self.token else {}),
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def login(self, user: str, password: str) -> None:
        self.token = self.call("POST", "/auth/token", {"username": user, "password": password})[
            "access_token"
        ]

    def healthy(self) -> bool:
        try:
            h = self.call("GET", "/api/v2/monitor/health")
        except (OSError, ValueError):
            return False
        return all(
            (h.get(k) or {}).get("status") == "healthy"
            for k in ("metadatabase", "scheduler", "dag_processor")
        )

    def runs(self, dag_id: str) -> list[dict]:
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id)}/taskInstances"
        return self.call("GET", path + "?limit=100")["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str):
        path = (
            f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id)}/taskInstances/"
            f"{task_id}/xcomEntries/{key}"
        )
        try:
            return self.call("GET", path)["value"]
        except urllib.error.HTTPError:
            return None

    def unpause(self, dag_id: str) -> None:
        self.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        got = self.call(
            "POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}}
        )
        return got["dag_run_id"]


def wait(what: str, check, timeout: float, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def settled(api: Api, dag_id: str, run_id: str) -> bool:
    """The triggered run finished and no other run of the DAG is queued or running."""
    runs = api.runs(dag_id)
    mine = [r for r in runs if r["dag_run_id"] == run_id]
    busy = [r for r in runs if r["state"] in ("queued", "running")]
    return bool(mine) and mine[0]["state"] in ("success", "failed") and not busy


# --- stories --------------------------------------------------------------------------------


def normalized(stories: list[dict]) -> list:
    """Stories without their ids: caption groups become the set of caption texts in them."""
    groups: dict[str, set[str]] = {}
    for s in stories:
        for c in s["captions"]:
            if c["group"] is not None:
                groups.setdefault(c["group"], set()).add(c["text"])
    label = {g: tuple(sorted(texts)) for g, texts in groups.items()}
    return sorted(
        (
            s["canonical"] or "",
            tuple(sorted(s["members"])),
            tuple(sorted(s["contributors"])),
            tuple(sorted((c["text"], label.get(c["group"], ())) for c in s["captions"])),
        )
        for s in stories
    )


def export(url: str) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "export", "stories", "--database-url", url],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


# --- the run --------------------------------------------------------------------------------


def run(admin_url: str, redis_url: str, keep: bool, timeout: float) -> dict:
    airflow = Path(sys.executable).parent / "airflow"
    if not airflow.exists():
        raise Prerequisite("the airflow extra is not installed in this environment")
    redis_ping(redis_url)
    try:
        import psycopg

        psycopg.connect(admin_url, connect_timeout=5).close()
    except Exception as e:
        raise Prerequisite(f"no PostgreSQL at {admin_url}: {e}".splitlines()[0]) from None

    tag = f"{os.getpid()}_{secrets.token_hex(3)}"
    names = {k: f"nd_scaleout_{k}_{tag}" for k in ("airflow", "dags", "cli")}
    home = Path(tempfile.mkdtemp(prefix="nd-scaleout-"))
    procs: dict[str, subprocess.Popen] = {}
    created: list[str] = []
    try:
        urls = {}
        for k, n in names.items():
            urls[k] = create_db(admin_url, n)
            created.append(n)
        meta = urls["airflow"].replace("postgresql://", "postgresql+psycopg://", 1)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        password = secrets.token_urlsafe(12)
        (home / "passwords.json").write_text(json.dumps({"admin": password}))
        (home / "scaleout_host.py").write_text(HOSTNAME_MODULE)
        queue = f"newsdedup_scaleout_{tag}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.pop("NEWSDEDUP_DATABASE_URL", None)
        env.update(
            {
                "PATH": str(airflow.parent) + os.pathsep + env.get("PATH", ""),
                "PYTHONPATH": os.pathsep.join(filter(None, [str(home), env.get("PYTHONPATH")])),
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "scaleout_host.name",
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__API__BASE_URL": base,
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": meta,
                "AIRFLOW__CELERY__BROKER_URL": redis_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta,
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
                "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
                "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW_CONN_NEWSDEDUP_DB": connection_json(urls["dags"]),
                "NEWSDEDUP_INBOX": str(SAMPLE_INBOX),
                "NEWSDEDUP_SHARDS": str(SHARDS),
            }
        )
        log(f"AIRFLOW_HOME {home}; metadata {names['airflow']}; pipeline {names['dags']}")
        log("airflow db migrate")
        subprocess.run(
            [str(airflow), "db", "migrate"],
            env=env,
            check=True,
            stdout=open(home / "migrate.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        # the pipeline's schema and the pool newsdedup_db, once: tasks only check the schema
        log("python -m pipeline.airflow_db init --pool")
        subprocess.run(
            [sys.executable, "-m", "pipeline.airflow_db", "init", "--pool"],
            env=env,
            check=True,
            stdout=open(home / "init.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )

        def start(name: str, *cmd: str, extra: dict | None = None) -> None:
            out = open(home / f"{name}.log", "wb")  # noqa: SIM115
            procs[name] = subprocess.Popen(
                [str(airflow), *cmd],
                env={**env, **(extra or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        start("api-server", "api-server", "--port", str(port), "--host", "127.0.0.1")
        start("scheduler", "scheduler")
        start("dag-processor", "dag-processor")
        for w in WORKERS:
            start(
                w,
                "celery",
                "worker",
                "--queues",
                queue,
                "--concurrency",
                "2",
                "--celery-hostname",
                f"{w}@%h",
                "--pid",
                str(home / f"{w}.pid"),
                "--skip-serve-logs",
                extra={"NEWSDEDUP_SCALEOUT_WORKER": w},
            )
        log(f"started {', '.join(procs)} (queue {queue}, api {base})")
        api = Api(base)
        wait("a healthy api-server, scheduler and dag-processor", api.healthy, timeout)
        api.login("admin", password)
        log("logged in to the REST API (JWT)")
        expected = {*(f"newsdedup_ingest_{s}" for s in SOURCES), "newsdedup_dedup"}
        wait(
            "the DAGs to be parsed",
            lambda: (
                expected <= {d["dag_id"] for d in api.call("GET", "/api/v2/dags?limit=100")["dags"]}
            ),
            timeout,
        )
        wait("both Celery workers", lambda: _workers_ready(home), timeout)

        # Trigger, then unpause: the triggered run is queued first, so it is the one that
        # does the work; the scheduled run that unpausing creates finds nothing new.
        t0 = time.monotonic()
        ingest_runs = {}
        for s in SOURCES:
            dag_id = f"newsdedup_ingest_{s}"
            ingest_runs[dag_id] = api.trigger(dag_id)
            api.unpause(dag_id)
        log(f"triggered {', '.join(ingest_runs)}")
        for dag_id, run_id in ingest_runs.items():
            wait(f"{dag_id} {run_id}", lambda d=dag_id, r=run_id: settled(api, d, r), timeout)
        ingest_states = {d: [r["state"] for r in api.runs(d)] for d in ingest_runs}
        log(f"ingest done: {ingest_states}")
        dedup_run = api.trigger("newsdedup_dedup", {"shards": SHARDS})
        api.unpause("newsdedup_dedup")
        log(f"triggered newsdedup_dedup {dedup_run}")
        wait("the dedup runs", lambda: settled(api, "newsdedup_dedup", dedup_run), timeout)
        # an asset-triggered or fallback run may follow the manual one: let it finish too
        time.sleep(5)
        wait(
            "every dedup run",
            lambda: (
                not [r for r in api.runs("newsdedup_dedup") if r["state"] in ("queued", "running")]
            ),
            timeout,
        )
        seconds = time.monotonic() - t0

        placements, worked = [], None
        for r in api.runs("newsdedup_dedup"):
            articles = api.xcom("newsdedup_dedup", r["dag_run_id"], "open_batch", "articles")
            for ti in api.task_instances("newsdedup_dedup", r["dag_run_id"]):
                placements.append(
                    {
                        "run": r["dag_run_id"],
                        "run_state": r["state"],
                        "articles": articles,
                        "task": ti["task_id"]
                        + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else ""),
                        "state": ti["state"],
                        "worker": ti["hostname"] or "",
                    }
                )
            if articles:
                worked = r["dag_run_id"]
        for d in ingest_runs:
            for r in api.runs(d):
                for ti in api.task_instances(d, r["dag_run_id"]):
                    placements.append(
                        {
                            "run": f"{d} {r['dag_run_id']}",
                            "run_state": r["state"],
                            "articles": None,
                            "task": ti["task_id"],
                            "state": ti["state"],
                            "worker": ti["hostname"] or "",
                        }
                    )
        mapped_workers = sorted(
            {
                p["worker"]
                for p in placements
                if p["run"] == worked and p["task"].startswith(("sign[", "verify["))
            }
        )
        # a run the schedule starts while the check winds down is not part of it
        all_ok = all(
            p["run_state"] == "success" and p["state"] in ("success", "skipped")
            for p in placements
            if p["run_state"] not in ("queued", "running")
        )

        log("single-process reference: newsdedup run on the same inbox")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pipeline.cli",
                "run",
                "--inbox",
                str(SAMPLE_INBOX),
                "--database-url",
                urls["cli"],
            ],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        airflow_stories, cli_stories = export(urls["dags"]), export(urls["cli"])
        equal = normalized(airflow_stories) == normalized(cli_stories)
        return {
            "placements": placements,
            "batch_run": worked,
            "mapped_task_workers": mapped_workers,
            "both_workers": set(WORKERS) <= set(mapped_workers),
            "all_tasks_ok": all_ok,
            "stories_airflow": len(airflow_stories),
            "stories_cli": len(cli_stories),
            "stories_equal": equal,
            "seconds_from_trigger": round(seconds, 1),
            "home": str(home),
        }
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for name, p in procs.items():
            stop_session(p)
            log(f"stopped {name}")
        for n in created:
            with contextlib.suppress(Exception):
                drop_db(admin_url, n)
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def _workers_ready(home: Path) -> bool:
    ready = 0
    for w in WORKERS:
        with contextlib.suppress(OSError):
            if b" ready." in (home / f"{w}.log").read_bytes():
                ready += 1
    return ready == len(WORKERS)


def report(result: dict) -> None:
    print("\ntask placement (dedup runs first, then ingest runs):")
    for p in result["placements"]:
        extra = f" articles={p['articles']}" if p["articles"] is not None else ""
        state, worker = p["state"] or "none", p["worker"] or "-"  # not yet queued or placed
        print(f"  {p['run'][:60]:<60} {p['task']:<14} {state:<8} {worker}{extra}")
    print(
        "\n(unpausing a DAG makes the scheduler create a run of its own, which may take the "
        "work before the REST-triggered run; every run is listed)"
    )
    print(f"batch processed by dedup run: {result['batch_run']}")
    print(f"mapped sign/verify tasks ran on: {', '.join(result['mapped_task_workers'])}")
    print(f"both workers used: {'yes' if result['both_workers'] else 'NO'}")
    print(f"every task succeeded or was skipped: {'yes' if result['all_tasks_ok'] else 'NO'}")
    print(
        f"stories: airflow {result['stories_airflow']}, newsdedup run {result['stories_cli']}; "
        f"equal (ids aside): {'yes' if result['stories_equal'] else 'NO'}"
    )
    print(f"from the first trigger to the last dedup run: {result['seconds_from_trigger']}s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--admin-url",
        default=os.environ.get("NEWSDEDUP_TEST_DATABASE_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres",
    )
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per wait")
    ap.add_argument("--keep", action="store_true", help="keep AIRFLOW_HOME (logs) afterwards")
    ap.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    args = ap.parse_args(argv)
    try:
        result = run(args.admin_url, args.redis, args.keep, args.timeout)
    except Prerequisite as e:
        print(f"celery_scaleout: cannot run here: {e}", file=sys.stderr)
        return 2
    report(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    ok = result["both_workers"] and result["stories_equal"] and result["all_tasks_ok"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
