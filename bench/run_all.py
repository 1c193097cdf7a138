"""``make bench``: every benchmark of issue 7, one ``name=value`` line per figure.

    python -m bench.run_all            # all targets (about 12 minutes on 2 cores)
    python -m bench.run_all --quick    # smaller sizes, to check the benches themselves
    python -m bench.run_all --no-real  # without the real-corpus quality part (~5.5 minutes)

Corpora are generated on first use under ~/.cache/newsdedup-bench (NEWSDEDUP_BENCH_CACHE)
from the shared corpora (NEWSDEDUP_CORPORA, see bench/make_corpus.py). Scratch databases
are created on a local PostgreSQL (NEWSDEDUP_BENCH_ADMIN_URL, default postgresql://postgres@127.0.0.1:5432/postgres)
and dropped afterwards. Timings are figures to read, never assertions.

The real-corpus quality part (bench.real_quality: newsdedup, plain datasketch MinHashLSH and
datatrove's MinHash dedup on the judged Reuters-21578 pairs of ../shared/eval/real) prints a
note and no figures where the shared material is absent; --quick runs only its datasketch
peer, a check of the conversion and the scorer.

Last, bench.airflow_start: ``make airflow``'s start time and memory (a note instead where
the airflow extra is not installed).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import subprocess
import sys
import time

from bench.common import figure, note


def _machine() -> None:
    import psutil

    figure("machine_cpus", os.cpu_count() or 0)
    figure("machine_memory_gb", round(psutil.virtual_memory().total / 2**30, 1))
    figure("machine_load_1m_at_start", round(os.getloadavg()[0], 2))
    note(f"python {platform.python_version()} on {platform.platform()}")


def _child(module: str, *args: str) -> dict[str, str]:
    """Run one bench module in its own process (clean peak-RSS figures); echo its lines."""
    got = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, check=False
    )
    sys.stderr.write(got.stderr[-3000:] if got.returncode else "")
    out = {}
    for line in got.stdout.splitlines():
        print(line, flush=True)
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k] = v.split("#")[0].strip()
    if got.returncode:
        figure(f"{module.split('.')[-1]}_failed", got.returncode)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-real", action="store_true", help="skip the real-corpus quality part")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    n = 10_000 if a.quick else 100_000
    _machine()
    from bench.make_corpus import inbox_for

    tc = time.perf_counter()
    inbox = inbox_for(n)
    figure("corpus_prepare_s", time.perf_counter() - tc)
    _child("bench.signatures")
    e2e = _child(
        "bench.e2e", "--articles", str(n), "--prefix", "e2e_100k" if n == 100_000 else f"e2e_{n}"
    )
    base = _child("bench.baseline", "--inbox", str(inbox))
    if "e2e_100k_s" in e2e and "baseline_100k_s" in base:
        figure(
            "baseline_vs_ours_time_ratio", float(base["baseline_100k_s"]) / float(e2e["e2e_100k_s"])
        )
        figure(
            "baseline_vs_ours_memory_ratio",
            float(base["baseline_peak_rss_mb"]) / float(e2e["e2e_100k_peak_rss_mb"]),
        )
    hist = ["20000"] if a.quick else ["100000", "1000000"]
    _child("bench.incremental", "--history", *hist)
    if not a.no_real:
        _child("bench.real_quality", *(["--systems", "datasketch"] if a.quick else []))
    if importlib.util.find_spec("airflow") is None:
        note("bench.airflow_start skipped: the airflow extra is not installed")
    else:
        _child("bench.airflow_start")
    figure("bench_total_s", time.perf_counter() - t0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
