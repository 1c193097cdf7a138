"""The layers stay layers: the pure packages import neither a database driver nor Airflow,
only the store imports psycopg, and each layer imports only the layers below it."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "pipeline"

PURE = [
    "pipeline.model",
    "pipeline.config",
    "pipeline.evaluate",
    "pipeline.sources.registry",
    "pipeline.sources.prepare",
    "pipeline.sources.collect",
    "pipeline.text.article",
    "pipeline.dedup.minhash",
    "pipeline.dedup.bands",
    "pipeline.dedup.verify",
    "pipeline.dedup.cluster",
    "pipeline.merge.canonical",
    "pipeline.merge.record",
    "pipeline.merge.versions",
    "pipeline.merge.story",
]

# what each part of the package may import from pipeline.*, lowest layer first
BASE = {"pipeline", "pipeline.model", "pipeline.config", "pipeline.errors"}
PURE_PACKAGES = {"pipeline.sources", "pipeline.text", "pipeline.dedup", "pipeline.merge"}
ALLOWED = {
    "pipeline.sources": BASE | {"pipeline.sources", "pipeline.text"},
    "pipeline.text": BASE | {"pipeline.text"},
    "pipeline.dedup": BASE | {"pipeline.dedup", "pipeline.text"},
    "pipeline.merge": BASE | PURE_PACKAGES,
    "pipeline.store": BASE | {"pipeline.store"},
    "pipeline.stages": BASE | PURE_PACKAGES | {"pipeline.store", "pipeline.stages"},
}


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
    offenders = []
    for f in ROOT.rglob("*.py"):
        rel = f.relative_to(ROOT).as_posix()
        if rel.startswith("store/"):
            continue
        text = f.read_text(encoding="utf-8")
        if "import psycopg" in text or "from psycopg" in text:
            offenders.append(rel)
    assert offenders == []


def _imports(f: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m == "pipeline" or m.startswith("pipeline.")}


def _within(module: str, allowed: set[str]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed if a != "pipeline") or (
        module == "pipeline"
    )


def test_each_layer_imports_only_the_layers_below():
    offenders = []
    for package, allowed in ALLOWED.items():
        folder = ROOT / package.split(".", 1)[1]
        for f in sorted(folder.rglob("*.py")):
            for m in sorted(_imports(f)):
                if not _within(m, allowed):
                    offenders.append(f"{f.relative_to(ROOT.parent).as_posix()} imports {m}")
    assert offenders == []


def test_pipeline_never_imports_the_bench_peers():
    """datatrove (and what it pulls in) is a bench extra only: the CLI and the jobs run without it."""
    code = (
        "import sys\n"
        "import pipeline, pipeline.cli, pipeline.stages.run, pipeline.report, pipeline.evaluate\n"
        "peers = ('datatrove', 'spacy', 'xxhash', 'tokenizers')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in peers)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "pipeline"
    assert [f for f in root.rglob("*.py") if "datatrove" in f.read_text(encoding="utf-8")] == []
