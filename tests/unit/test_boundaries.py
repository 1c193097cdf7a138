"""The pure packages stay pure: no database driver, no Airflow, no network at import."""

import subprocess
import sys

PURE = [
    "pipeline.model",
    "pipeline.config",
    "pipeline.sources.registry",
    "pipeline.text.article",
    "pipeline.dedup.minhash",
    "pipeline.dedup.bands",
    "pipeline.dedup.verify",
    "pipeline.dedup.cluster",
    "pipeline.merge.canonical",
    "pipeline.merge.provenance",
]


def test_pure_packages_import_neither_psycopg_nor_airflow():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in PURE)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'airflow', 'psycopg_binary'))\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_only_store_imports_psycopg():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "pipeline"
    offenders = []
    for f in root.rglob("*.py"):
        rel = f.relative_to(root).as_posix()
        if rel.startswith("store/"):
            continue
        text = f.read_text(encoding="utf-8")
        if "import psycopg" in text or "from psycopg" in text:
            offenders.append(rel)
    assert offenders == []


def test_pipeline_never_imports_the_bench_peers():
    """datatrove (and what it pulls in) is a bench extra only: the CLI and the jobs run without it."""
    code = (
        "import sys\n"
        "import pipeline, pipeline.cli, pipeline.jobs, pipeline.report, pipeline.evaluate\n"
        "peers = ('datatrove', 'spacy', 'xxhash', 'tokenizers')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in peers)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "pipeline"
    assert [f for f in root.rglob("*.py") if "datatrove" in f.read_text(encoding="utf-8")] == []
