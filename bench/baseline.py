"""Target 4: the plain in-memory pipeline most people would write, on the same inbox.

Read each file, take the body text the obvious way (NewsML ``<p>`` text, RSS description
without tags, CGTN lines after the header), lower-case word 5-grams, ``datasketch.MinHash``
(num_perm 128, its default sha1 hash, ``update_batch``), ``MinHashLSH(threshold=0.5)``
insert + query, union-find over every candidate pair, stories printed to nowhere. No
persistence, no versions or kills, no verification: everything lives in Python memory.

Run as a child process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from html import unescape
from pathlib import Path

from lxml import etree

from bench.common import figure, maxrss_mb, note

NUM_PERM = 128
K = 5
THRESHOLD = 0.5
_TAG = re.compile(r"<[^>]+>")


def bodies(inbox: Path):
    """(key, text) of every item; a later version of a key replaces the earlier one."""
    for f in sorted((inbox / "reuters").iterdir()):
        root = etree.fromstring(f.read_bytes())
        for item in root.iter("{*}newsItem"):
            text = " ".join("".join(p.itertext()) for p in item.iter("{*}p"))
            yield "reuters:" + item.get("guid"), text
    for f in sorted((inbox / "xinhua").iterdir()):
        root = etree.fromstring(f.read_bytes())
        for item in root.iter("item"):
            yield (
                "xinhua:" + (item.findtext("guid") or ""),
                _TAG.sub(" ", unescape(item.findtext("description") or "")),
            )
    for f in sorted((inbox / "cgtn").iterdir()):
        lines = f.read_text(encoding="utf-8").splitlines()
        yield "cgtn:" + f.stem, " ".join(lines[4:])


def shingles(text: str) -> list[bytes]:
    toks = text.lower().split()
    return [" ".join(toks[i : i + K]).encode() for i in range(max(1, len(toks) - K + 1))]


class UnionFind:
    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def run(inbox: Path) -> dict:
    from datasketch import MinHash, MinHashLSH

    t0 = time.perf_counter()
    docs = dict(bodies(inbox))
    t_read = time.perf_counter() - t0
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    uf = UnionFind()
    sigs = {}
    for key, text in docs.items():
        m = MinHash(num_perm=NUM_PERM)
        m.update_batch(shingles(text))
        sigs[key] = m
    t_sign = time.perf_counter() - t0 - t_read
    for key, m in sigs.items():
        for other in lsh.query(m):
            uf.union(key, other)
        lsh.insert(key, m)
        uf.find(key)
    stories: dict[str, list[str]] = {}
    for key in docs:
        stories.setdefault(uf.find(key), []).append(key)
    wall = time.perf_counter() - t0
    return {
        "baseline_100k_s": wall,
        "baseline_read_s": t_read,
        "baseline_sign_s": t_sign,
        "baseline_lsh_cluster_s": wall - t_read - t_sign,
        "baseline_articles": len(docs),
        "baseline_stories": len(stories),
        "baseline_peak_rss_mb": maxrss_mb(),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--inbox", required=True)
    a = ap.parse_args(argv)
    note("baseline: datasketch MinHash + MinHashLSH in memory, word 5-grams, threshold 0.5")
    for k, v in run(Path(a.inbox)).items():
        figure(k, v)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
