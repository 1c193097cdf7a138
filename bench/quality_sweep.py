"""How the dev-set scores move when one dedup threshold moves: the evidence behind the
defaults in pipeline.config.DedupConfig.

    python -m bench.quality_sweep [--database-url ADMIN_URL] [--inbox DIR] [--truth FILE]

Each configuration runs the whole pipeline in a fresh database (a scratch database on
ADMIN_URL's server, or an embedded server), then prints one name=value line.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

from pipeline.config import DedupConfig
from pipeline.evaluate import evaluate
from pipeline.report import export_stories, read_jsonl
from pipeline.stages import run
from pipeline.store import admin
from pipeline.store.store import Store

DEV = (
    Path(os.environ.get("NEWSDEDUP_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
    / "eval"
    / "dev"
)
SWEEP = [
    {},
    {"jaccard_min": 0.4},
    {"jaccard_min": 0.6},
    {"containment_min": 0.6},
    {"containment_min": 0.8},
    {"para_match_min": 0.5},
    {"para_match_min": 0.8},
    {"coherence_min": 0.3},
    {"coherence_min": 0.7},
    {"shingle_size": 2},
    {"shingle_size": 5},
    {"edition_gap_hours": 12},
    {"edition_gap_hours": 24},
    {"resend_hours": 48},
    {"resend_hours": 96},
]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", help="admin URL of a server for scratch databases")
    ap.add_argument("--inbox", type=Path, default=DEV / "inbox")
    ap.add_argument("--truth", type=Path, default=DEV / "truth.jsonl")
    args = ap.parse_args(argv)
    if not args.inbox.is_dir():
        print(f"quality_sweep: no labelled inbox at {args.inbox}", file=sys.stderr)
        return 2
    truth = {r["item"]: r for r in read_jsonl(args.truth, required=("item", "story"))}
    neg = args.truth.parent / "negatives.jsonl"
    negatives = list(read_jsonl(neg)) if neg.exists() else []
    scratch = None
    admin_url = args.database_url
    if admin_url is None:
        scratch = Path(tempfile.mkdtemp(prefix="nd-sweep-"))
        admin_url = admin.embedded_admin_url(scratch)
    try:
        for overrides in SWEEP:
            config = dataclasses.replace(DedupConfig(), **overrides)
            name = f"ndsweep_{uuid.uuid4().hex[:8]}"
            url = admin.create_database(admin_url, name)
            try:
                with Store.open(url) as store:
                    run.inbox(store, args.inbox, config)
                    r = evaluate(truth, export_stories(store), negatives)
            finally:
                admin.drop_database(admin_url, name)
            c = r.clustering
            label = ",".join(f"{k}={v}" for k, v in overrides.items()) or "defaults"
            hard = " ".join(f"{t}={m}" for t, (m, _) in r.hard_negatives.items())
            print(
                f"config={label} ari={c.ari:.4f} precision={c.precision:.4f} "
                f"recall={c.recall:.4f} caption_f1={r.caption_f1:.4f} "
                f"contributor_recall={r.contributor_recall:.4f} {hard}",
                flush=True,
            )
    finally:
        if scratch is not None:
            from pipeline.store.connect import stop_embedded

            stop_embedded(scratch)
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
