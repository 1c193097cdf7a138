"""Dedup quality on real wire copy: judged Reuters-21578 pairs, newsdedup beside two peers.

The whole Reuters-21578 corpus (1987 wire copy, as sent) is converted at run time with the
shared converter (``../shared/eval/real/convert.py``) into a temp folder, and three systems
cluster the same converted items:

* ``newsdedup``: the CLI in a subprocess against a scratch database (``ingest --source
  reuters DIR``, ``dedup``, ``export stories``); seconds = ingest + dedup;
* ``datasketch``: what most people would write, plain MinHashLSH (128 perms, word
  5-shingles, threshold 0.5) over the texts read straight from the ninjs JSON (headline and
  body_html paragraphs, tags stripped), union-find over every LSH candidate pair;
* ``datatrove``: datatrove's MinHash dedup stages (signature, buckets, cluster) with the
  default ``MinhashConfig``, run locally in a temp folder on the same texts; the stories are
  its clusters (the ``.clusters`` files that ``save_cluster_id`` writes).

Each export (JSON Lines, ``{"story_id", "members": ["reuters:<uri>", ...]}``) is scored with
the shared ``score_pairs.py`` on ``pairs-dev.tsv``: pair precision and recall over the judged
SAME / DIFF pairs, and, over all merged pairs, how many join headlines with different ticker
symbols. Figures are printed as ``real_<system>_<name>=value`` lines, then a summary table.

    python -m bench.real_quality [--systems newsdedup,datasketch,datatrove] [--items DIR]
                                 [--reading body|readme] [--keep DIR]

The peers read the headline and the body by default, the reading behind the peer rows of
the shared ``eval/real/README.md``, which this bench reproduces. ``--reading body`` hashes
the body alone; that matters most for datatrove, whose default normalisation masks digits:
on bodies alone the earnings tables of different companies (share, net and revenue lines,
only the figures differ) look alike and chain into big clusters; the headline parts them.

The shared material comes from NEWSDEDUP_SHARED_DIR (default ``../shared`` beside the
checkout; the corpus from NEWSDEDUP_CORPORA, default its ``corpora``); without it the bench
says so and exits 0. The corpus text is only read at run time, never stored in the project.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.common import figure, note

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSDEDUP_SHARED_DIR", ROOT.parent / "shared"))
REAL = SHARED / "eval" / "real"
CORPUS = Path(os.environ.get("NEWSDEDUP_CORPORA", SHARED / "corpora")) / "reuters21578"
SYSTEMS = ("newsdedup", "datasketch", "datatrove")
SECONDS = {  # what real_<system>_seconds covers (wall clock)
    "newsdedup": "s wall, ingest + dedup (CLI subprocesses)",
    "datasketch": "s wall, read texts + MinHash + LSH + union-find",
    "datatrove": "s wall, read texts + signature + buckets + cluster stages",
}
# What the two peers read of each item. "readme" (the default) is the whole item, headline
# line and body paragraphs, words as they stand: the reading behind the peers' figures in
# the shared eval/real/README.md, which this bench then reproduces. "body" hashes the body's
# paragraphs alone (datasketch lowercases its words).
READINGS = {
    "body": "body_html paragraphs, tags stripped; datasketch words lowercased",
    "readme": "headline + body paragraphs; datasketch words case kept",
}
DATASKETCH = {"num_perm": 128, "ngram": 5, "threshold": 0.5}

_PARA = re.compile(r"<p\b[^>]*>(.*?)</p>", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>")


class Skip(Exception):
    """A system that cannot run here (missing package or database): reported, not fatal."""


# --- shared input ------------------------------------------------------------------------------


def convert(items_dir: Path) -> int:
    """The shared converter: Reuters-21578 SGML -> ninjs JSON lists in items_dir."""
    got = subprocess.run(
        [
            sys.executable,
            str(REAL / "convert.py"),
            "--corpus",
            str(CORPUS),
            "--out",
            str(items_dir),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    m = re.search(r"(\d+) items", got.stdout)
    return int(m.group(1)) if m else 0


def read_texts(items_dir: Path, reading: str = "body") -> dict[str, str]:
    """item key ("reuters:<uri>") -> the text the peers hash, in corpus order (file, then list).

    As a naive reader takes it: every <p> of body_html, tags stripped, entities unescaped,
    one paragraph a line; dateline and sign-off left in. The "readme" reading puts the
    headline (as the converter wrote it, ticker symbols in <...> kept) on a line above."""
    texts: dict[str, str] = {}
    for f in sorted(items_dir.glob("*.json")):
        for it in json.loads(f.read_text(encoding="utf-8")):
            paras = [
                html.unescape(_TAGS.sub("", p)).strip() for p in _PARA.findall(it["body_html"])
            ]
            if reading == "readme":
                paras.insert(0, it.get("headline", ""))
            texts["reuters:" + it["uri"]] = "\n".join(p for p in paras if p)
    return texts


def stories_from_roots(keys: list[str], root_of: Callable[[str], str]) -> list[dict]:
    """Stories in the export shape: one per root, members in corpus order (first = canonical)."""
    groups: dict[str, list[str]] = {}
    for k in keys:
        groups.setdefault(root_of(k), []).append(k)
    return [
        {"story_id": sid, "canonical": members[0], "members": members}
        for sid, members in groups.items()
    ]


def write_jsonl(path: Path, stories: list[dict]) -> None:
    path.write_text("".join(json.dumps(s, ensure_ascii=False) + "\n" for s in stories))


def score(pred: Path, items_dir: Path) -> dict:
    """The shared pair scorer, as a dict (precision, recall, f1, merged_pairs, ...)."""
    got = subprocess.run(
        [
            sys.executable,
            str(REAL / "score_pairs.py"),
            "--pred",
            str(pred),
            "--pairs",
            str(REAL / "pairs-dev.tsv"),
            "--items",
            str(items_dir),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(got.stdout.strip().splitlines()[-1])


# --- 1. newsdedup ----------------------------------------------------------------------------


def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("newsdedup")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.cli"]


def run_newsdedup(items_dir: Path, out: Path) -> dict[str, float]:
    """ingest + dedup + export through the CLI against a scratch database."""
    from bench.common import scratch_db

    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(scratch_db("ndreal"))
        except Exception as e:  # no PostgreSQL here: the other systems still run
            raise Skip(f"no scratch database ({type(e).__name__}: {str(e).strip()[:200]})") from e
        times = {}
        for step, args in (
            ("ingest", ["ingest", "--source", "reuters", str(items_dir)]),
            ("dedup", ["dedup"]),
            ("export", ["export", "stories", "-o", str(out)]),
        ):
            t0 = time.perf_counter()
            got = subprocess.run(
                [*_cli(), *args, "--database-url", url],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
            )
            times[step] = time.perf_counter() - t0
            if got.returncode:
                raise RuntimeError(
                    f"newsdedup {step} exited {got.returncode}: {got.stderr.strip()[-2000:]}"
                )
    return {
        "ingest_s": times["ingest"],
        "dedup_s": times["dedup"],
        "export_s": times["export"],
        "seconds": times["ingest"] + times["dedup"],
    }


# --- 2. plain datasketch MinHashLSH ----------------------------------------------------------


def run_datasketch(items_dir: Path, out: Path, reading: str = "body") -> dict[str, float]:
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    texts = read_texts(items_dir, reading)
    keys = list(texts)
    order = {k: i for i, k in enumerate(keys)}
    parent = {k: k for k in keys}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    n, num_perm = DATASKETCH["ngram"], DATASKETCH["num_perm"]
    lsh = MinHashLSH(threshold=DATASKETCH["threshold"], num_perm=num_perm)
    for k in keys:
        text = texts[k].lower() if reading == "body" else texts[k]
        words = text.split()
        if not words:
            continue
        grams = {" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))}
        m = MinHash(num_perm=num_perm)
        m.update_batch([g.encode("utf-8") for g in grams])
        for other in lsh.query(m):  # every candidate is a merge: no verification
            ra, rb = find(k), find(other)
            if ra != rb:
                ra, rb = sorted((ra, rb), key=order.__getitem__)
                parent[rb] = ra  # the earliest item stays the root
        lsh.insert(k, m)
    write_jsonl(out, stories_from_roots(keys, find))
    return {"seconds": time.perf_counter() - t0}


# --- 3. datatrove's MinHash dedup ------------------------------------------------------------


@contextlib.contextmanager
def _quiet(log: io.StringIO) -> Iterator[None]:
    """datatrove logs every task (loguru, to the sys.stderr of the moment) and tqdm bars."""
    with contextlib.redirect_stderr(log), contextlib.redirect_stdout(log):
        yield


def run_datatrove(
    items_dir: Path, out: Path, work: Path, reading: str = "body"
) -> dict[str, float]:
    try:
        from datatrove.data import Document
        from datatrove.executor import LocalPipelineExecutor
        from datatrove.pipeline.dedup import (
            MinhashDedupBuckets,
            MinhashDedupCluster,
            MinhashDedupSignature,
        )
        from datatrove.pipeline.dedup.minhash import MinhashConfig
    except ImportError as e:
        raise Skip(f"datatrove not importable ({e}); install the bench extra") from e

    t0 = time.perf_counter()
    texts = read_texts(items_dir, reading)
    keys = list(texts)
    docs = [Document(text=texts[k], id=k) for k in keys]
    config = MinhashConfig()  # the default: 5-grams, 14 buckets x 8 hashes, 64-bit xxhash
    sigs, buckets, clusters, logs = (work / d for d in ("sigs", "buckets", "clusters", "logs"))
    log = io.StringIO()
    try:
        with _quiet(log):
            # one task: the document index in the .clusters file is the index in `docs`
            LocalPipelineExecutor(
                pipeline=[docs, MinhashDedupSignature(output_folder=str(sigs), config=config)],
                tasks=1,
                workers=1,
                logging_dir=str(logs / "signatures"),
            ).run()
            LocalPipelineExecutor(
                pipeline=[
                    MinhashDedupBuckets(
                        input_folder=str(sigs), output_folder=str(buckets), config=config
                    )
                ],
                tasks=config.num_buckets,
                workers=1,
                logging_dir=str(logs / "buckets"),
            ).run()
            LocalPipelineExecutor(
                pipeline=[
                    MinhashDedupCluster(
                        input_folder=str(buckets),
                        output_folder=str(clusters),
                        config=config,
                        save_cluster_id=True,
                    )
                ],
                tasks=1,
                workers=1,
                logging_dir=str(logs / "clusters"),
            ).run()
    except Exception as e:
        raise RuntimeError(f"datatrove failed: {e}\n{log.getvalue()[-3000:]}") from e
    # save_cluster_id: <rank>.clusters holds (document index, cluster id) as little-endian
    # uint32 pairs for every document in a cluster of two or more; the rest stand alone
    cluster_of: dict[str, str] = {}
    for f in sorted(clusters.glob("*.clusters")):
        for doc, cluster in struct.iter_unpack("<2I", f.read_bytes()):
            cluster_of[keys[doc]] = f"dt-{f.stem}-{cluster}"
    write_jsonl(out, stories_from_roots(keys, lambda k: cluster_of.get(k, k)))
    return {"seconds": time.perf_counter() - t0}


# --- report ----------------------------------------------------------------------------------

FIGURES = (
    ("precision", "pair precision on pairs-dev"),
    ("recall", "pair recall on pairs-dev"),
    ("f1", ""),
    ("merged_pairs", "item pairs in one story, all exported stories"),
    ("ticker_conflict_pairs", "merged pairs whose headlines name different tickers"),
    ("ticker_conflict_rate", ""),
)


def summary(results: dict[str, dict]) -> None:
    rows = [("system", "pair P", "pair R", "F1", "merged pairs", "ticker conflicts", "seconds")]
    for name, r in results.items():
        if "precision" not in r:
            rows.append((name, "-", "-", "-", "-", "-", r.get("status", "-")))
            continue
        rows.append(
            (
                name,
                f"{r['precision']:.3f}",
                f"{r['recall']:.3f}",
                f"{r['f1']:.3f}",
                f"{r['merged_pairs']:,}",
                f"{r['ticker_conflict_pairs']:,} ({100 * r['ticker_conflict_rate']:.1f}%)",
                f"{r['seconds']:.1f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print("# real Reuters-21578, judged pairs-dev.tsv, one converted corpus for all:", flush=True)
    for row in rows:
        line = "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
        print("#   " + line.rstrip(), flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help="comma-separated subset of %(default)s",
    )
    ap.add_argument(
        "--items", type=Path, help="already converted items (convert.py --out); default: convert"
    )
    ap.add_argument(
        "--reading",
        choices=READINGS,
        default="readme",
        help="what the two peers hash: %(choices)s (default: %(default)s; see READINGS)",
    )
    ap.add_argument("--keep", type=Path, help="also copy the exported stories into this folder")
    a = ap.parse_args(argv)
    systems = [s.strip() for s in a.systems.split(",") if s.strip()]
    if unknown := set(systems) - set(SYSTEMS):
        ap.error(f"unknown systems: {', '.join(sorted(unknown))}")
    need = [REAL / "convert.py", REAL / "score_pairs.py", REAL / "pairs-dev.tsv"]
    if a.items is None:
        need.append(CORPUS)
    if missing := [p for p in need if not p.exists()]:
        print(
            f"# real_quality: skipped, shared material not found ({missing[0]}); "
            "set NEWSDEDUP_SHARED_DIR to the shared folder",
            flush=True,
        )
        return 0
    with tempfile.TemporaryDirectory(prefix="ndreal-") as tmp:
        tmp = Path(tmp)
        items = a.items
        if items is None:
            items = tmp / "r21578"
            t0 = time.perf_counter()
            figure("real_items", convert(items))
            figure("real_convert_s", time.perf_counter() - t0)
        note(f"real quality: {', '.join(systems)} on {items}")
        print(f"# real_quality: peers read {a.reading!r}: {READINGS[a.reading]}", flush=True)
        results: dict[str, dict] = {}
        for name in systems:
            pred = tmp / f"{name}-stories.jsonl"
            try:
                if name == "newsdedup":
                    timing = run_newsdedup(items, pred)
                elif name == "datasketch":
                    timing = run_datasketch(items, pred, a.reading)
                else:
                    work = tmp / "datatrove"
                    work.mkdir()
                    timing = run_datatrove(items, pred, work, a.reading)
            except Skip as e:
                print(f"# real_{name}: skipped, {e}", flush=True)
                results[name] = {"status": "skipped"}
                continue
            except Exception as e:
                print(f"# real_{name}: failed, {str(e).splitlines()[0]}", flush=True)
                note(str(e))
                figure(f"real_{name}_failed", 1)
                results[name] = {"status": "failed"}
                continue
            r = score(pred, items) | timing
            with pred.open(encoding="utf-8") as f:
                r["stories"] = sum(1 for _ in f)
            results[name] = r
            for key, unit in FIGURES:
                figure(f"real_{name}_{key}", r[key], unit)
            figure(f"real_{name}_stories", r["stories"], "exported stories, singletons included")
            for key in ("ingest_s", "dedup_s", "export_s"):
                if key in r:
                    figure(f"real_{name}_{key}", r[key], "s")
            figure(f"real_{name}_seconds", r["seconds"], SECONDS[name])
            if a.keep:
                a.keep.mkdir(parents=True, exist_ok=True)
                (a.keep / pred.name).write_bytes(pred.read_bytes())
        ours, peer = results.get("newsdedup", {}), results.get("datasketch", {})
        if ours.get("seconds") and peer.get("seconds"):
            figure(
                "real_baseline_vs_ours_time_ratio",
                peer["seconds"] / ours["seconds"],
                "plain datasketch s / newsdedup s on the same items (>= 1: we are faster)",
            )
        summary(results)
    return 1 if any(r.get("status") == "failed" for r in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
