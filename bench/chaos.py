"""Chaos: what a scheduler does to a pipeline, measured against one undisturbed run.

On a PostgreSQL instance of its own (initdb in a scratch folder, a free port), over one
inbox (default: the labelled dev inbox; ``--articles N``: a generated one):

* ``--kills`` times: ``newsdedup run`` on a fresh database, ``kill -9`` at a random moment
  of it, then a re-run;
* ``--pairs`` times: two runs at once on a fresh database;
* ``--restarts`` times: the server restarted (fast or immediate, alternately) at a random
  moment of a run, then a re-run.

Prints, as ``name=value`` lines: how many of each were done, hangs (a run over
``--hang-s``), bad exits (a run that should finish and exited other than 0/1, or any
traceback), export diffs (a finished database whose stories differ from the clean run's),
and orphans (worker processes alive after their run was killed). All should be 0.

    python -m bench.chaos --articles 1000 --kills 10 --pairs 4 --restarts 3
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg

from bench.common import figure, note

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = Path(os.environ.get("NEWSDEDUP_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A throwaway PostgreSQL: initdb'd in ``folder``, on ``port``, trust auth on localhost.
    As root, the server runs as the ``postgres`` system user (initdb refuses root)."""

    def __init__(self, folder: Path, port: int):
        self.data = folder / "pgdata"
        self.log = folder / "server.log"
        self.port = port
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, check=check, timeout=400
        )

    def init(self) -> None:
        self.data.parent.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.data.parent, "postgres")
        self._pg(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust")
        self.start()

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1"
        self._pg(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts,
            "-w", "start",
        )  # fmt: skip

    def restart(self, mode: str) -> None:
        """Restart; an immediate stop means crash recovery on start, which on a loaded
        machine can outlast pg_ctl's default 60 s wait: wait up to 300 s, and say why a
        restart failed (pg_ctl's words, the end of the server log)."""
        opts = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1"
        r = self._pg(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts,
            "-m", mode, "-t", "300", "-w", "restart", check=False,
        )  # fmt: skip
        if r.returncode != 0:
            tail = (
                self.log.read_text(errors="replace").splitlines()[-5:] if self.log.exists() else []
            )
            raise SystemExit(
                f"chaos: the {mode} restart of the server failed: {r.stdout.strip()} "
                f"{r.stderr.strip()}\n" + "\n".join(tail)
            )

    def stop(self) -> None:
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop", check=False)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"


class Chaos:
    def __init__(self, server: Server, inbox: Path, hang_s: float):
        self.server, self.inbox, self.hang_s = server, inbox, hang_s
        self.n_db = 0
        self.hangs = self.bad_exits = self.diffs = self.orphans = 0
        self.clean: list[str] = []
        self.clean_s = 0.0

    # --- databases and runs ---------------------------------------------------------------

    def fresh_db(self) -> str:
        self.n_db += 1
        name = f"chaos_{self.n_db}"
        with psycopg.connect(self.server.url(), autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name}")
            c.execute(f"CREATE DATABASE {name}")
        return self.server.url(name)

    def start(self, url: str) -> subprocess.Popen:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "pipeline.cli", "run"),
                *("--inbox", str(self.inbox), "--database-url", url),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def finish(self, p: subprocess.Popen, what: str, ok: tuple[int, ...] = (0, 1)) -> int:
        """Wait for a run; a hang is killed and counted, a bad exit counted."""
        try:
            _out, err = p.communicate(timeout=self.hang_s)
        except subprocess.TimeoutExpired:
            self.hangs += 1
            note(f"{what}: hung over {self.hang_s:.0f} s")
            _kill_tree(p.pid)
            p.communicate()
            return -1
        if p.returncode not in ok or "Traceback" in err:
            self.bad_exits += 1
            note(f"{what}: exit {p.returncode}: {err.strip().splitlines()[-1:]}")
        return p.returncode

    def export(self, url: str) -> list[str]:
        r = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "export", "stories", "--database-url", url],
            capture_output=True,
            text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            timeout=self.hang_s,
        )
        if r.returncode != 0:
            note(f"export exited {r.returncode}: {r.stderr.strip().splitlines()[-1:]}")
        return sorted(r.stdout.splitlines())

    def compare(self, url: str, what: str) -> None:
        got = self.export(url)
        if got != self.clean:
            self.diffs += 1
            mine, theirs = set(got) - set(self.clean), set(self.clean) - set(got)
            note(
                f"{what}: export differs from the clean run ({len(got)} stories, "
                f"{len(mine)} not in the clean run, {len(theirs)} of it missing; "
                f"exported again: {'the same' if self.export(url) == got else 'different'})"
            )
            for line in sorted(mine)[:2]:
                note(f"  only here: {line[:300]}")
            for line in sorted(theirs)[:2]:
                note(f"  only in the clean run: {line[:300]}")

    # --- the three experiments ------------------------------------------------------------

    def clean_run(self) -> None:
        url = self.fresh_db()
        t0 = time.monotonic()
        code = self.finish(self.start(url), "clean run")
        self.clean_s = time.monotonic() - t0
        if code not in (0, 1):
            raise SystemExit("the clean run failed; nothing to compare with")
        self.clean = self.export(url)
        note(f"clean run: {self.clean_s:.1f} s, {len(self.clean)} stories")

    def kill(self, i: int, rng: random.Random) -> None:
        url = self.fresh_db()
        p = self.start(url)
        time.sleep(rng.uniform(0.3, self.clean_s))
        children = _children(p.pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(p.pid, signal.SIGKILL)
        p.communicate(timeout=self.hang_s)
        time.sleep(2)
        alive = [c for c in children if _alive(c)]
        if alive:
            self.orphans += len(alive)
            note(f"kill {i}: {len(alive)} worker(s) outlived the run")
            for c in alive:
                _kill_tree(c)
        self.finish(self.start(url), f"re-run after kill {i}")
        self.compare(url, f"kill {i}")

    def pair(self, i: int) -> None:
        url = self.fresh_db()
        a, b = self.start(url), self.start(url)
        self.finish(a, f"pair {i} a")
        self.finish(b, f"pair {i} b")
        self.compare(url, f"pair {i}")

    def restart(self, i: int, rng: random.Random) -> None:
        url = self.fresh_db()
        p = self.start(url)
        time.sleep(rng.uniform(0.3, self.clean_s))
        self.server.restart("fast" if i % 2 else "immediate")
        # the interrupted run ends with a one-line database error (2) or finishes
        self.finish(p, f"run during restart {i}", ok=(0, 1, 2))
        self.finish(self.start(url), f"re-run after restart {i}")
        self.compare(url, f"restart {i}")


def _children(pid: int) -> list[int]:
    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill_tree(pid: int) -> None:
    for c in [pid, *_children(pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(c, signal.SIGKILL)


def _inbox(args) -> Path:
    if args.inbox:
        return Path(args.inbox)
    if args.articles:
        from bench.make_corpus import inbox_for

        return inbox_for(args.articles)
    shared = Path(os.environ.get("NEWSDEDUP_SHARED_DIR") or ROOT.parent / "shared")
    return shared / "eval" / "dev" / "inbox"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inbox", help="inbox folder (default: the shared dev inbox)")
    ap.add_argument("--articles", type=int, help="a generated inbox of this many articles")
    ap.add_argument("--kills", type=int, default=30)
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--restarts", type=int, default=5)
    ap.add_argument("--hang-s", type=float, default=120.0, help="a run longer than this hangs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", help="where the server lives (default: a temporary folder)")
    args = ap.parse_args(argv)
    inbox = _inbox(args)
    if not inbox.is_dir():
        print(f"chaos: inbox not found: {inbox}", file=sys.stderr)
        return 2
    if not (PG_BIN / "initdb").exists():
        print(f"chaos: no PostgreSQL binaries in {PG_BIN} (set NEWSDEDUP_PG_BIN)", file=sys.stderr)
        return 2
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="ndchaos-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # the server's own user must reach its folder
    server = Server(work / f"pg-{os.getpid()}", _free_port())
    rng = random.Random(args.seed)
    server.init()
    try:
        chaos = Chaos(server, inbox, args.hang_s)
        chaos.clean_run()
        for i in range(args.kills):
            chaos.kill(i, rng)
        for i in range(args.pairs):
            chaos.pair(i)
        for i in range(args.restarts):
            chaos.restart(i, rng)
    finally:
        server.stop()
        shutil.rmtree(server.data.parent, ignore_errors=True)
    figure("chaos_inbox_files", sum(1 for _ in inbox.rglob("*") if _.is_file()))
    figure("chaos_clean_run_s", chaos.clean_s, "s")
    figure("chaos_kills", args.kills)
    figure("chaos_pairs", args.pairs)
    figure("chaos_restarts", args.restarts)
    figure("chaos_hangs", chaos.hangs, f"runs over {args.hang_s:.0f} s")
    figure("chaos_bad_exits", chaos.bad_exits, "runs that should finish: exit not 0/1")
    figure("chaos_export_diffs", chaos.diffs, "databases whose stories differ from a clean run")
    figure("chaos_orphans", chaos.orphans, "workers alive after their run was killed")
    return 1 if chaos.hangs or chaos.bad_exits or chaos.diffs or chaos.orphans else 0


if __name__ == "__main__":
    raise SystemExit(main())
