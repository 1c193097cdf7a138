"""``make airflow``: a local Airflow with the newsdedup DAGs, in one command.

Starts ``airflow standalone`` (api-server, scheduler, dag-processor, triggerer; a
LocalExecutor; a SQLite metadata database) bound to 127.0.0.1, with

* ``AIRFLOW_HOME`` in ``.airflow/`` of the checkout (gitignored),
* the DAGs of ``dags/``, the sample inbox as the sources' folders (``--inbox`` changes it),
* the pipeline's embedded PostgreSQL, started here in ``.airflow/data`` (``--data-dir``,
  or ``--database-url`` for a server) and handed to the tasks as the Airflow connection
  ``newsdedup_db`` (``AIRFLOW_CONN_NEWSDEDUP_DB``),

prints the URL and the login, and on Ctrl-C (or SIGTERM) stops every process it started.
It runs the ``airflow`` command of this interpreter's environment as a subprocess and never
imports Airflow itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
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
        "--unpause", action="store_true", help="start with the DAGs unpaused (default: paused)"
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
    home: Path, port: int, inbox: Path, db_url: str, *, unpause: bool = False
) -> dict[str, str]:
    """The environment of every Airflow process started here."""
    from pipeline.tasks import connection_json

    bindir = str(Path(sys.executable).parent)  # standalone spawns `airflow` from PATH
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env.update(
        {
            "PATH": bindir + os.pathsep + env.get("PATH", ""),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": str(not unpause),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": base,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
            # other Airflow instances on the same host: keep the log servers off the default ports
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW_CONN_NEWSDEDUP_DB": connection_json(db_url),
            "NEWSDEDUP_INBOX": str(inbox),
        }
    )
    env.pop("NEWSDEDUP_DATABASE_URL", None)  # the connection is the one source of truth
    return env


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
    try:
        if not inbox.is_dir():
            raise ConfigError(f"inbox folder not found: {inbox}")
        home.mkdir(parents=True, exist_ok=True)
        settings = load_settings(database_url=args.database_url, data_dir=data_dir)
        db_url, where = _pipeline_db(settings)
    except Exception as e:  # config and database errors: one line, like the CLI
        print(f"make airflow: error: {e}".splitlines()[0], file=sys.stderr)
        return 2
    port = free_port(args.port or 8080)
    if args.port and port != args.port:
        print(f"make airflow: port {args.port} is taken", file=sys.stderr)
        return 2
    base = f"http://127.0.0.1:{port}"
    env = airflow_env(home, port, inbox, db_url, unpause=args.unpause)
    log_path = home / "standalone.log"
    print(f"newsdedup: starting Airflow in {home} (log: {log_path})")
    print(f"  pipeline database: {where}")
    print(f"  sources' folders:  {inbox}/{{reuters,xinhua,cgtn}}")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [str(airflow), "standalone"],
            env=env,
            stdout=subprocess.PIPE if args.verbose else log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group to stop, and Ctrl-C is ours
        )
    stopping = False

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    # explicitly: a process started from a script may inherit SIGINT as ignored
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        _wait_ready(proc, base, home, args.verbose, log_path)
        print(
            f"\nAirflow is ready: {base}\n"
            f"  log in as {USER} / {password(home) or '(see ' + str(home / PASSWORD_FILE) + ')'}"
            f"\n  DAGs: newsdedup_ingest_{{reuters,xinhua,cgtn}}, newsdedup_dedup, "
            f"newsdedup_maintenance ({'unpaused' if args.unpause else 'paused: unpause them'})"
            f"\n  stories: {Path(sys.executable).parent / 'newsdedup'} export stories "
            + (f"--data-dir {data_dir}" if not settings.database_url else "--database-url URL")
            + "\nCtrl-C stops everything.",
            flush=True,
        )
        while proc.poll() is None:
            _pump(proc, args.verbose)
            time.sleep(0.2)
        print(f"make airflow: airflow standalone exited with {proc.returncode}", file=sys.stderr)
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
        stop_session(proc)
        if not settings.database_url:
            from pipeline.store.connect import stop_embedded

            stop_embedded(settings.data_dir)
        if stopping:
            print("newsdedup: stopped every process", flush=True)


def _pipeline_db(settings) -> tuple[str, str]:
    from pipeline.store.connect import describe, resolve_url
    from pipeline.store.store import Store

    url = resolve_url(settings)
    Store.open(url).close()  # migrated before the first task needs it
    if settings.database_url:
        return url, describe(url)
    return url, f"embedded PostgreSQL in {settings.data_dir / 'pgdata'}"


def _pump(proc: subprocess.Popen, verbose: bool) -> None:
    if not verbose or proc.stdout is None:
        return
    os.set_blocking(proc.stdout.fileno(), False)
    while True:
        line = proc.stdout.readline()
        if not line:
            return
        sys.stdout.write(line.decode("utf-8", "replace"))


def _wait_ready(proc, base: str, home: Path, verbose: bool, log_path: Path, limit=300) -> None:
    deadline = time.monotonic() + limit
    dots = 0
    while time.monotonic() < deadline:
        _pump(proc, verbose)
        if proc.poll() is not None:
            raise RuntimeError(f"airflow standalone exited with {proc.returncode} while starting")
        if healthy(base) and password(home):
            return
        time.sleep(1)
        dots += 1
        if not verbose and dots % 10 == 0:
            print(f"  waiting for Airflow ({dots}s)...", flush=True)
    raise RuntimeError(f"Airflow did not become healthy in {limit}s")


def _tail(log_path: Path, n: int = 30) -> None:
    with contextlib.suppress(OSError):
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:]
        print("\n".join(lines), file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
