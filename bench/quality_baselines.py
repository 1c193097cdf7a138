"""The plain MinHash + LSH baselines of the quality issue, run on a labelled inbox.

What most people would write: bodies read straight from the files (every <p>, the RSS
description without tags, CGTN lines after the header; captions, datelines and trailers
left in; pubStatus ignored; the last file of a guid wins), datasketch MinHash and
MinHashLSH, union-find over every LSH candidate, canonical = earliest member, captions =
paragraphs ending in a known credit grouped by exact text without the credit.

    python -m bench.quality_baselines [--inbox DIR] [--truth FILE]

prints one summary line per configuration, scored with pipeline.evaluate (the same metrics
as ../shared/eval/score.py), as name=value pairs.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
import time
from pathlib import Path

from datasketch import MinHash, MinHashLSH
from lxml import etree

from pipeline.evaluate import evaluate, norm_caption
from pipeline.report import read_jsonl

DEV = (
    Path(os.environ.get("NEWSDEDUP_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))
    / "eval"
    / "dev"
)
CONFIGS = {
    "textdedup_newscopy": {"num_perm": 256, "ngram": 2, "threshold": 0.45},
    "datasketch_readme": {"num_perm": 128, "ngram": 5, "threshold": 0.5},
}
_CREDIT = re.compile(r"(/\s*(VCG|CFP|Reuters|Xinhua|AP|AFP)(\s+Photo)?|\(Xinhua/[^)]*\))\s*$")
_TAGS = re.compile(r"<[^>]+>")


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def read_items(inbox: Path) -> dict[str, tuple[float, list[str]]]:
    """item key -> (first-seen order, paragraphs), as a naive reader sees them."""
    items: dict[str, tuple[float, list[str]]] = {}
    order = 0.0
    for f in sorted((inbox / "reuters").glob("*")):
        root = etree.fromstring(f.read_bytes(), etree.XMLParser(resolve_entities=False))
        for item in (e for e in root.iter() if _local(e.tag) == "newsItem"):
            paras = ["".join(p.itertext()).strip() for p in item.iter() if _local(p.tag) == "p"]
            key = "reuters:" + item.get("guid")
            first = items.get(key, (order, []))[0]
            items[key] = (first, paras)  # the last file of a guid wins
            order += 1
    for f in sorted((inbox / "xinhua").glob("*")):
        root = etree.fromstring(f.read_bytes(), etree.XMLParser(resolve_entities=False))
        for item in root.iter("item"):
            desc = html.unescape(item.findtext("description") or "")
            paras = [
                html.unescape(_TAGS.sub("", p)).strip()
                for p in re.split(r"</p>|<br\s*/?>", desc)
                if _TAGS.sub("", p).strip()
            ]
            key = "xinhua:" + (item.findtext("guid") or item.findtext("link") or "").strip()
            first = items.get(key, (order, []))[0]
            items[key] = (first, paras)
            order += 1
    for f in sorted((inbox / "cgtn").glob("*.txt")):
        lines = f.read_text(encoding="utf-8-sig").splitlines()[4:]
        items["cgtn:" + f.stem] = (order, [ln.strip() for ln in lines if ln.strip()])
        order += 1
    return items


def run(items, num_perm: int, ngram: int, threshold: float) -> list[dict]:
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    keys = sorted(items, key=lambda k: items[k][0])
    parent = {k: k for k in keys}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for k in keys:
        words = " ".join(items[k][1]).lower().split()
        if not words:  # a kill's empty body: a story of its own, as the naive reader sees it
            continue
        m = MinHash(num_perm=num_perm)
        grams = {" ".join(words[i : i + ngram]) for i in range(max(1, len(words) - ngram + 1))}
        m.update_batch([g.encode("utf-8") for g in grams])
        for other in lsh.query(m):
            ra, rb = find(k), find(other)
            if ra != rb:
                parent[max(ra, rb, key=lambda x: items[x][0])] = min(
                    ra, rb, key=lambda x: items[x][0]
                )
        lsh.insert(k, m)
    clusters: dict[str, list[str]] = {}
    for k in keys:
        clusters.setdefault(find(k), []).append(k)
    stories = []
    for root, members in clusters.items():
        caps = []
        for m in members:
            for p in items[m][1]:
                if _CREDIT.search(p):
                    caps.append({"text": p, "group": norm_caption(p)})
        stories.append(
            {"story_id": root, "canonical": members[0], "members": members, "captions": caps}
        )
    return stories


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inbox", type=Path, default=DEV / "inbox")
    ap.add_argument("--truth", type=Path, default=DEV / "truth.jsonl")
    args = ap.parse_args(argv)
    if not args.inbox.is_dir() or not args.truth.is_file():
        print(f"quality_baselines: labelled set not found at {args.inbox}", file=sys.stderr)
        return 2
    truth = {r["item"]: r for r in read_jsonl(args.truth, required=("item", "story"))}
    neg = args.truth.parent / "negatives.jsonl"
    negatives = list(read_jsonl(neg)) if neg.exists() else []
    items = read_items(args.inbox)
    for name, cfg in CONFIGS.items():
        t0 = time.perf_counter()
        stories = run(items, **cfg)
        r = evaluate(truth, stories, negatives)
        c = r.clustering
        hard = " ".join(f"{t}={m}/{n}" for t, (m, n) in r.hard_negatives.items())
        print(
            f"baseline={name} ari={c.ari:.3f} precision={c.precision:.3f} "
            f"recall={c.recall:.3f} caption_f1={r.caption_f1:.3f} "
            f"killed_canonical={r.killed_canonical} {hard} "
            f"seconds={time.perf_counter() - t0:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
