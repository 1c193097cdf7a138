"""``make airflow``: a local Airflow with the newsdedup DAGs, in one command.

Starts ``airflow api-server``, ``scheduler`` and ``dag-processor`` (a LocalExecutor whose
parallelism is sized to the machine, at most 4; a SQLite metadata database; the simple
auth manager) bound to 127.0.0.1, with

* ``AIRFLOW_HOME`` in ``.airflow/`` of the checkout (gitignored),
* the DAGs of ``dags/``, unpaused (``--paused`` keeps them paused), the sample inbox as the
  sources' folders (``--inbox`` changes it),
* the pipeline's embedded PostgreSQL, started here in ``.airflow/data`` (``--data-dir``,
  or ``--database-url`` for a server) and handed to every Airflow process as the one
  connection ``newsdedup_db`` (``AIRFLOW_CONN_NEWSDEDUP_DB``): tasks and the dashboard
  read and write the same database,
* Airflow's metadata and the pipeline's schema migrated and the pool ``newsdedup_db``
  created once, before the scheduler starts (``python -m pipeline.airflow_db init --pool
  --metadata``; the api-server starts meanwhile), and the MinHash kernels compiled into
  numba's cache, so no task pays for either,

prints the Airflow URL, the login and the dashboard's page inside Airflow's UI, and with
``--lineage-file FILE`` has the OpenLineage provider write the tasks' lineage events to
FILE (off by default). On Ctrl-C (or SIGTERM) it stops
every process it started. It runs Airflow's commands of this interpreter's environment as
subprocesses and never imports Airflow itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pipeline.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_INBOX = Path(__file__).resolve().parent / "samples" / "inbox"
USER = "admin"
PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"
MAX_PARALLELISM = 4
SIMPLE_AUTH = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
# the dashboard's page in Airflow's UI, under "Dedup" in its menu (the plugin's UI_PAGE;
# the bare app at /newsdedup/ has no Airflow navigation around it)
DASHBOARD_PATH = "/plugin/dedup"
MENU_ENTRY = "Dedup"
# api-server, scheduler, dag-processor: what runs DAGs and serves the UI (no triggerer: no
# task of ours defers). The api-server takes longest to start and needs no table to do so:
# it starts while the databases are set up; the other two need the tables.
API_SERVER = ["api-server", "--workers", "1"]
AFTER_SETUP = (["scheduler"], ["dag-processor"])


def parallelism(cpus: int | None = None) -> int:
    """Tasks at once: one per CPU, at most MAX_PARALLELISM (each forked LocalExecutor
    worker costs memory whether it works or not)."""
    return max(1, min(MAX_PARALLELISM, cpus or os.cpu_count() or 1))


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="make airflow",
        description="Local Airflow (standalone) with the newsdedup DAGs on the sample inbox.",
    )
    ap.add_argument("--port", type=int, help="api-server port (default: 8080, or a free one)")
    ap.add_argument("--home", metavar="DIR", help="AIRFLOW_HOME (default: .airflow)")
    ap.add_argument(
        "--inbox", metavar="DIR", help="reuters/ xinhua/ cgtn/ folders (default: the sample)"
    )
    ap.add_argument(
        "--data-dir", metavar="DIR", help="embedded PostgreSQL's data dir (default: HOME/data)"
    )
    ap.add_argument("--database-url", metavar="URL", help="use this PostgreSQL instead")
    ap.add_argument(
        "--paused", action="store_true", help="keep the newsdedup DAGs paused (default: unpaused)"
    )
    ap.add_argument("--unpause", action="store_true", help=argparse.SUPPRESS)  # the default
    ap.add_argument(
        "--parallelism",
        type=int,
        help=f"tasks run at once (default: the CPU count, at most {MAX_PARALLELISM})",
    )
    ap.add_argument(
        "--lineage-file",
        metavar="FILE",
        help="write the tasks' OpenLineage events to FILE, one JSON line each (default: none)",
    )
    ap.add_argument("-v", "--verbose", action="store_true", help="echo Airflow's own output")
    return ap


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if nothing listens there on 127.0.0.1, else a port the OS picks."""
    if preferred:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def airflow_env(
    home: Path,
    port: int,
    inbox: Path,
    db_url: str,
    *,
    paused: bool = False,
    tasks_at_once: int | None = None,
    lineage_file: Path | None = None,
) -> dict[str, str]:
    """The environment of every Airflow process started here."""
    from pipeline.tasks import connection_json

    n = tasks_at_once or parallelism()
    bindir = str(Path(sys.executable).parent)
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update(
        {
            "PATH": bindir + os.pathsep + env.get("PATH", ""),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": str(paused),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(n),
            "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__BASE_URL": base,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            # new DAG files show up within seconds, not the default 5 minutes
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            # other Airflow instances on the same host: keep the log servers off the default ports
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            # every component signs and checks the same task and UI tokens
            "AIRFLOW__API_AUTH__JWT_SECRET": _secret(home, "jwt_secret"),
            "AIRFLOW__API__SECRET_KEY": _secret(home, "api_secret_key"),
            "AIRFLOW_CONN_NEWSDEDUP_DB": connection_json(db_url),
            "NEWSDEDUP_INBOX": str(inbox),
            # worker processes inside one task: the executor already runs n tasks at once
            "NEWSDEDUP_WORKERS": os.environ.get("NEWSDEDUP_WORKERS")
            or str(max(1, (os.cpu_count() or 1) // n)),
            "NEWSDEDUP_DB_POOL_SLOTS": os.environ.get("NEWSDEDUP_DB_POOL_SLOTS") or str(n),
            # a dedup run maps sign and verify over as many shards as tasks can run at once
            "NEWSDEDUP_SHARDS": os.environ.get("NEWSDEDUP_SHARDS") or str(n),
        }
    )
    env.pop("NEWSDEDUP_DATABASE_URL", None)  # the connection is the one source of truth
    if lineage_file is not None:
        # the provider stays disabled without a transport: no listener, no event
        env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(
            {"type": "file", "log_file_path": str(lineage_file), "append": True}
        )
        env["AIRFLOW__OPENLINEAGE__NAMESPACE"] = "newsdedup"
    return env


def _config(home: Path) -> None:
    """A first ``airflow.cfg`` holding only a Fernet key, unless there is one. Otherwise the
    api-server and the set-up, started together, would each generate a key and write
    the file, and the api-server would encrypt with a key no other component has (every
    other setting has its default or comes from the environment, see airflow_env)."""
    path = home / "airflow.cfg"
    if path.exists():
        return
    import base64

    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    path.write_text(
        "# written by make airflow; Airflow's defaults and its environment do the rest\n"
        f"[core]\nfernet_key = {key}\n",
        encoding="utf-8",
    )
    path.chmod(0o600)


def _check_lineage(path: Path) -> None:
    """The provider that writes the events is installed, and FILE's folder exists."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        version("apache-airflow-providers-openlineage")
    except PackageNotFoundError:
        raise ConfigError(
            "--lineage-file needs apache-airflow-providers-openlineage (the airflow extra)"
        ) from None
    path.parent.mkdir(parents=True, exist_ok=True)


def _secret(home: Path, name: str) -> str:
    """A random secret kept in AIRFLOW_HOME, the same for every component and restart
    (each component would otherwise draw its own and refuse the others' tokens)."""
    path = home / f"newsdedup_{name}"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        value = secrets.token_urlsafe(32)
        path.write_text(value, encoding="utf-8")
        path.chmod(0o600)
        return value


def _session_pids(sid: int) -> list[int]:
    """Processes of a session (Linux /proc), to find stragglers after the group is gone."""
    out = []
    for d in Path("/proc").glob("[0-9]*"):
        try:
            if os.getsid(int(d.name)) == sid and int(d.name) != os.getpid():
                out.append(int(d.name))
        except (OSError, ValueError):
            continue
    return out


def stop_session(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM to the process group of ``proc`` (started in its own session), then
    SIGKILL to whatever of that session is still alive after ``timeout``."""
    sid = proc.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(sid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None and not _session_pids(sid):
            return
        time.sleep(0.3)
    for pid in [sid, *_session_pids(sid)]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=3) as r:
            body = json.load(r)
    except (OSError, ValueError, urllib.error.URLError):
        return False
    return all(
        (body.get(k) or {}).get("status") == "healthy"
        for k in ("metadatabase", "scheduler", "dag_processor")
    )


def password(home: Path) -> str | None:
    try:
        return json.loads((home / PASSWORD_FILE).read_text(encoding="utf-8")).get(USER)
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    airflow = Path(sys.executable).parent / "airflow"
    if not airflow.exists():
        print(
            "make airflow: the airflow extra is not installed (make test installs it, or "
            "pip install -e '.[airflow]')",
            file=sys.stderr,
        )
        return 2
    if not (ROOT / "dags").is_dir():
        print(f"make airflow: no dags/ folder next to {ROOT / 'pipeline'}", file=sys.stderr)
        return 2
    home = Path(args.home).expanduser().resolve() if args.home else ROOT / ".airflow"
    inbox = Path(args.inbox).expanduser().resolve() if args.inbox else SAMPLE_INBOX
    data_dir = Path(args.data_dir).expanduser() if args.data_dir else home / "data"
    lineage = Path(args.lineage_file).expanduser().resolve() if args.lineage_file else None
    t0 = time.monotonic()
    try:
        if not inbox.is_dir():
            raise ConfigError(f"inbox folder not found: {inbox}")
        if args.parallelism is not None and not 1 <= args.parallelism <= 64:
            raise ConfigError(f"--parallelism must be between 1 and 64, got {args.parallelism}")
        home.mkdir(parents=True, exist_ok=True)
        _config(home)
        if lineage:
            _check_lineage(lineage)
        settings = load_settings(database_url=args.database_url, data_dir=data_dir)
        db_url, where = _pipeline_db(settings)
    except Exception as e:  # config and database errors: one line, like the CLI
        print(f"make airflow: error: {e}".splitlines()[0], file=sys.stderr)
        return 2
    port = free_port(args.port or 8080)
    if args.port and port != args.port:
        print(f"make airflow: port {args.port} is taken", file=sys.stderr)
        _stop_db(settings)
        return 2
    base = f"http://127.0.0.1:{port}"
    n = args.parallelism or parallelism()
    env = airflow_env(
        home, port, inbox, db_url, paused=args.paused, tasks_at_once=n, lineage_file=lineage
    )
    log_path = home / "airflow.log"
    print(f"newsdedup: starting Airflow in {home} (log: {log_path})")
    print(f"  pipeline database: {where} (connection newsdedup_db)")
    print(f"  sources' folders:  {inbox}/{{reuters,xinhua,cgtn}}")
    print(f"  tasks at once:     {n}")
    if lineage:
        print(f"  lineage events:    {lineage} (OpenLineage, one JSON line each)")
    procs: list[subprocess.Popen] = []
    stopping = False

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    # explicitly: a process started from a script may inherit SIGINT as ignored
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        with open(log_path, "ab") as log:
            out = subprocess.PIPE if args.verbose else log
            # the MinHash kernels into numba's on-disk cache, and the api-server's start-up,
            # while the databases are set up
            warm = _start([sys.executable, "-m", "pipeline.dedup.warm"], env, out, procs)
            # (it would refuse a metadata database still being created; it reads the
            # database only when asked, and the set-up is done before anyone asks)
            early = {**env, "AIRFLOW__DATABASE__CHECK_MIGRATIONS": "False"}
            _start([str(airflow), *API_SERVER], early, out, procs)
            _setup(env, out, log_path)
            for cmd in AFTER_SETUP:
                _start([str(airflow), *cmd], env, out, procs)
        _wait_ready(procs, base, home, args.verbose, log_path)
        if not args.paused:
            _unpause(base, password(home))
        warm.wait()
        print(
            f"\nAirflow is ready in {time.monotonic() - t0:.0f}s: {base}\n"
            f"  log in as {USER} / {password(home) or '(see ' + str(home / PASSWORD_FILE) + ')'}"
            f"\n  dashboard: {base}{DASHBOARD_PATH} ({MENU_ENTRY} in Airflow's menu)"
            f"\n  DAGs: newsdedup_ingest_{{reuters,xinhua,cgtn}}, newsdedup_dedup, "
            f"newsdedup_maintenance ({'paused: unpause them' if args.paused else 'unpaused'})"
            f"\n  stories: {Path(sys.executable).parent / 'newsdedup'} export stories "
            + (f"--data-dir {data_dir}" if not settings.database_url else "--database-url URL")
            + "\nCtrl-C stops everything.",
            flush=True,
        )
        while all(p.poll() is None for p in procs[1:]):
            for p in procs:
                _pump(p, args.verbose)
            time.sleep(0.2)
        gone = next(p for p in procs[1:] if p.poll() is not None)
        print(
            f"make airflow: {' '.join(gone.args[1:2])} exited with {gone.returncode}",
            file=sys.stderr,
        )
        _tail(log_path)
        return 1
    except KeyboardInterrupt:
        stopping = True
        print("\nnewsdedup: stopping Airflow...", flush=True)
        return 0
    except RuntimeError as e:
        print(f"make airflow: {e}", file=sys.stderr)
        _tail(log_path)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut cleanup
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            stop_session(p)
        _stop_db(settings)
        if stopping:
            print("newsdedup: stopped every process", flush=True)


def _start(cmd: list[str], env: dict, out, procs: list) -> subprocess.Popen:
    p = subprocess.Popen(
        cmd,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # one process group each to stop, and Ctrl-C is ours
    )
    procs.append(p)
    return p


def _setup(env: dict, out, log_path: Path) -> None:
    """Airflow's metadata database, then the pipeline's schema and the pool: once, here,
    before any task starts (tasks only check the schema)."""
    cmd = [sys.executable, "-m", "pipeline.airflow_db", "init", "--pool", "--metadata"]
    done = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"setting up the databases failed (see {log_path})")


def _unpause(base: str, pw: str | None) -> None:
    """Unpause the newsdedup DAGs, also those an earlier ``--paused`` start left paused."""
    if not pw:
        return
    with contextlib.suppress(OSError, ValueError, urllib.error.URLError):
        req = urllib.request.Request(
            f"{base}/auth/token",
            data=json.dumps({"username": USER, "password": pw}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            token = json.load(r)["access_token"]
        req = urllib.request.Request(
            f"{base}/api/v2/dags?dag_id_pattern=newsdedup_%25",
            data=json.dumps({"is_paused": False}).encode(),
            method="PATCH",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        urllib.request.urlopen(req, timeout=30).close()


def _pipeline_db(settings) -> tuple[str, str]:
    from pipeline.store.connect import describe, resolve_url

    url = resolve_url(settings)  # starts the embedded server when no URL is configured
    if settings.database_url:
        return url, describe(url)
    return url, f"embedded PostgreSQL in {settings.data_dir / 'pgdata'}"


def _stop_db(settings) -> None:
    if not settings.database_url:
        from pipeline.store.connect import stop_embedded

        stop_embedded(settings.data_dir)


def _pump(proc: subprocess.Popen, verbose: bool) -> None:
    if not verbose or proc.stdout is None:
        return
    os.set_blocking(proc.stdout.fileno(), False)
    while True:
        line = proc.stdout.readline()
        if not line:
            return
        sys.stdout.write(line.decode("utf-8", "replace"))


def _wait_ready(procs, base: str, home: Path, verbose: bool, log_path: Path, limit=300) -> None:
    deadline = time.monotonic() + limit
    dots = 0
    while time.monotonic() < deadline:
        for p in procs:
            _pump(p, verbose)
        for p in procs[1:]:
            if p.poll() is not None:
                raise RuntimeError(f"airflow {p.args[1]} exited with {p.returncode} while starting")
        if healthy(base) and password(home):
            return
        time.sleep(0.5)
        dots += 1
        if not verbose and dots % 20 == 0:
            print(f"  waiting for Airflow ({dots // 2}s)...", flush=True)
    raise RuntimeError(f"Airflow did not become healthy in {limit}s")


def _tail(log_path: Path, n: int = 30) -> None:
    with contextlib.suppress(OSError):
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:]
        print("\n".join(lines), file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
