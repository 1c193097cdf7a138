"""Target 2: ``newsdedup run`` over a generated inbox of N articles, time per stage, peak RSS.

The CLI runs in a child process; the peak memory of it and its worker processes is
sampled together, as RSS summed over processes (pages the forked workers share with
their parent counted once per process: an overestimate) and as PSS (shared pages split).
It runs against a scratch database on a local PostgreSQL, as an operator would::

    newsdedup run --inbox DIR --database-url URL

Stage times come from the ``run`` table the pipeline writes (one row per stage execution),
summed over batches.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

import psutil
import psycopg

from bench.common import figure, note, scratch_db
from bench.make_corpus import inbox_for

STAGES = ("ingest", "open_batch", "sign", "candidates", "verify", "cluster_merge", "publish")


def _tree_memory(ps: psutil.Process) -> tuple[int, int]:
    """(RSS, PSS) of a process and its children. RSS counts pages shared by the forked
    workers once per process; PSS splits them, and is what the tree really occupies."""
    rss = pss = 0
    for p in (ps, *ps.children(recursive=True)):
        with contextlib.suppress(psutil.Error):
            m = p.memory_full_info()
            rss += m.rss
            pss += getattr(m, "pss", m.rss)
    return rss, pss


def run_cli(args: list[str], interval: float = 0.1) -> tuple[int, float, float, float]:
    """(exit code, wall seconds, peak RSS MB, peak PSS MB of the process tree)."""
    t0 = time.perf_counter()
    # stderr goes to a file, not a pipe: a pipe nobody reads until the end would stop the
    # CLI once its progress lines filled the pipe's buffer
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=log, text=True)
        ps = psutil.Process(proc.pid)
        peak_rss = peak_pss = 0
        while proc.poll() is None:
            rss, pss = _tree_memory(ps)
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(interval)
        log.seek(0)
        err = log.read()
    if proc.returncode not in (0, 1):
        print(err[-2000:], file=sys.stderr)
    return proc.returncode, time.perf_counter() - t0, peak_rss / 2**20, peak_pss / 2**20


def stage_times(url: str) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    with psycopg.connect(url) as c:
        for stage, secs in c.execute("SELECT stage, seconds FROM run WHERE status = 'ok'"):
            out[stage.split(":")[0]] += secs or 0.0
    return dict(out)


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as c:
        articles = c.execute("SELECT count(*) FROM article").fetchone()[0]
        stories = c.execute(
            "SELECT count(*) FROM story WHERE merged_into IS NULL AND member_count > 0"
        ).fetchone()[0]
    return {"articles": articles, "stories": stories}


def run(n: int, prefix: str = "e2e", keep: bool = False) -> dict:
    inbox = inbox_for(n)
    exe = [sys.executable, "-m", "pipeline.cli"]
    with scratch_db(f"ndbench_{prefix}", keep=keep) as url:
        code, wall, peak, pss = run_cli([*exe, "run", "--inbox", str(inbox), "--database-url", url])
        if code not in (0, 1):
            raise SystemExit(f"newsdedup run failed with exit code {code}")
        st = stage_times(url)
        got = counts(url)
    res = {f"{prefix}_s": wall, f"{prefix}_peak_rss_mb": peak, f"{prefix}_peak_pss_mb": pss}
    for s in STAGES:
        res[f"{prefix}_stage_{s}_s"] = st.get(s, 0.0)
    res[f"{prefix}_articles"] = got["articles"]
    res[f"{prefix}_stories"] = got["stories"]
    return res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--prefix", default="e2e_100k")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database")
    a = ap.parse_args(argv)
    note(f"end to end: newsdedup run over {a.articles} generated articles")
    for k, v in run(a.articles, a.prefix, a.keep).items():
        figure(k, v)


if __name__ == "__main__":
    main()
