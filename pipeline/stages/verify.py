"""The verify stage: decide every candidate pair of the batch, store scores, verdict and
reason (story pairs by ``pipeline.dedup.verify``, caption pairs by token Jaccard)."""

from __future__ import annotations

import logging

from pipeline.config import DedupConfig
from pipeline.dedup import minhash
from pipeline.dedup.cluster import by_component
from pipeline.dedup.verify import (
    Features,
    Meta,
    decide,
    hashed,
    is_correction,
    unhashed,
)
from pipeline.model import Batch, Edge
from pipeline.stages import poison, pool
from pipeline.stages.record import Progress, Summary, bump, no_progress, recorded
from pipeline.store.store import Store
from pipeline.text.captions import token_jaccard
from pipeline.text.normalize import dateline_day, split_dateline

log = logging.getLogger("newsdedup")


VERIFY_CHUNK = 2000
# Candidate pairs; fewer are decided in this process, where the workers' start would cost
# more than it saves. An incremental batch of a thousand articles (about 1,200 pairs)
# already gains: its two halves at once took 0.37 s against 0.53 s in this process.
VERIFY_PARALLEL_MIN = 500


def split(pairs: list[tuple[int, int]]) -> tuple[list[list[tuple[int, int]]], bool]:
    """The pairs in chunks, in order, and whether to decide them in the worker processes:
    chunks of VERIFY_CHUNK, or two halves when there are fewer than two chunks' worth (one
    per worker) and enough to repay starting the workers."""
    parallel = len(pairs) >= VERIFY_PARALLEL_MIN
    size = VERIFY_CHUNK
    if parallel and len(pairs) < 2 * VERIFY_CHUNK:
        size = (len(pairs) + 1) // 2
    return [pairs[i : i + size] for i in range(0, len(pairs), size)], parallel


def decide_chunk(
    rows: list[dict], pairs: list[tuple[int, int]], config: DedupConfig
) -> tuple[list[Edge], list[tuple[int, str]]]:
    """Edges of one chunk of candidate pairs from the verify_inputs rows of its articles
    (module-level: it runs in worker processes), and the articles that could not be
    decided about, with the reason: those whose features raise, and those to blame for the
    pairs whose decision raises."""
    bare: dict[int, Features] = {}
    failed: dict[int, str] = {}
    for r in _in_pair_order(rows, pairs):
        try:
            bare[r["article_id"]] = _features(r)
        except Exception as e:
            if not poison.is_poison(e):
                raise
            failed[r["article_id"]] = poison.reason("verify", e)
    feats = _hashed(bare, config, failed)
    edges, broken = [], []
    for a, b in pairs:
        if a in feats and b in feats:
            try:
                edges.append(decide(feats[a], feats[b], config))
            except Exception as e:
                if not poison.is_poison(e):
                    raise
                broken.append((a, b, poison.reason("verify", e)))
    for n, why in blame(broken).items():
        failed.setdefault(n, why)
    return edges, sorted(failed.items())


def _in_pair_order(rows: list[dict], pairs: list[tuple[int, int]]) -> list[dict]:
    """The rows in the order their articles first appear in the pairs. Copies of a story
    share most paragraphs and their pairs stand together (pairs come by component), while
    the rows come by article id: read in pair order, a paragraph repeats while it is still
    in ``slots``' cache of recent readings (on the 5k bench, 5,770 hits instead of 1,749)."""
    first: dict[int, int] = {}
    for a, b in pairs:
        first.setdefault(a, len(first))
        first.setdefault(b, len(first))
    return sorted(rows, key=lambda r: first.get(r["article_id"], len(first)))


def _hashed(
    bare: dict[int, Features], config: DedupConfig, failed: dict[int, str]
) -> dict[int, Features]:
    """The chunk's features with their shingle sets, hashed in one call; an article whose
    text makes that call raise is found by halving (``poison.isolate``) and failed."""
    ids = list(bare)
    done, bad = poison.isolate(lambda part: hashed([bare[n] for n in part], config), ids, "verify")
    for n, why in bad:
        failed[n] = why
    held = {n for n, _ in bad}
    return dict(zip([n for n in ids if n not in held], done, strict=True))


def blame(broken: list[tuple[int, int, str]]) -> dict[int, str]:
    """The articles to quarantine for pairs whose decision raised: the one in most of
    them first (one bad article fails with every partner; its partners are innocent), and
    both of a pair no article explains better."""
    out: dict[int, str] = {}
    left = list(broken)
    while left:
        count: dict[int, int] = {}
        for a, b, _ in left:
            count[a] = count.get(a, 0) + 1
            count[b] = count.get(b, 0) + 1
        top = max(count.values())
        worst = {n for n, k in count.items() if k == top}
        if top == 1:  # no article is in two broken pairs: each pair's own two
            worst = set(count)
        for a, b, why in left:
            for n in (a, b):
                if n in worst:
                    out.setdefault(n, why)
        left = [(a, b, w) for a, b, w in left if a not in worst and b not in worst]
    return out


def _features(r: dict) -> Features:
    """An article's features but for its shingle sets (``_hashed`` adds them)."""
    texts = list(r["texts"])
    dateline = ""
    if texts:  # the dateline is furniture, not text: cut as for the similarity form
        dateline, texts[0] = split_dateline(texts[0])
    meta = Meta(
        source=r["source"],
        item_id=r["item_key"].split(":", 1)[1],
        ed_stat=r["origin_ed_stat"],
        headline_tag=r["origin_tag"],
        lineage=frozenset(t for _, t in (r["lineage"] or [])),
        headline=r["headline"],
        published=r["published_at"],
        corrected=r["correction_note"] or is_correction(r["headline_tag"], texts),
        dated=dateline_day(dateline),
    )
    return unhashed(r["article_id"], list(r["norms"]), meta, texts)


def run(
    store: Store,
    batch: Batch,
    config: DedupConfig,
    shard: int = 0,
    shards: int = 1,
    progress: Progress = no_progress,
) -> Summary:
    """Decide every candidate pair of this shard; store scores, verdict and reason."""
    with recorded(store, "verify", batch.key) as s:
        c = s.counts
        c.update(
            pairs=0,
            duplicate=0,
            contributor=0,
            distinct=0,
            caption_pairs=0,
            caption_duplicate=0,
            shard=shard,
            shards=shards,
        )
        pairs = by_component(store.lsh.candidate_pairs(batch.id, "story", shard, shards))
        # features and decisions are pure and CPU-bound: big batches spread the chunks
        # over the worker processes while this one reads the next chunk's paragraphs and
        # writes the previous chunk's edges
        chunks, parallel = split(pairs)

        def tasks():
            for chunk in chunks:
                ids = sorted({x for p in chunk for x in p})
                yield (store.edges.verify_inputs(ids), chunk, config)

        done = 0
        if parallel:
            # features hash a few texts per call, each too small for ``auto`` to load the
            # compiled kernels, yet together they repay loading them; loaded here, before
            # the pool forks, so that each worker does not load them again
            minhash.warm_up()
        failed: dict[int, str] = {}
        for chunk, (decided, undecided) in zip(
            chunks,
            pool.run_tasks(decide_chunk, tasks(), parallel),
            strict=True,
        ):
            for e in decided:
                bump(c, e.verdict)
            with store.transaction():
                store.edges.write(batch.id, decided)
            for n, why in undecided:
                failed.setdefault(n, why)
            c["pairs"] += len(chunk)
            done += len(chunk)
            progress("verify", done, len(pairs))
        if failed:
            for n, why in sorted(failed.items()):
                log.warning("quarantined article %d: %s", n, why)
            with store.transaction():
                store.batches.quarantine_articles(batch.id, "verify", sorted(failed.items()))
        c["quarantined"] = len(failed)
        cpairs = store.lsh.candidate_pairs(batch.id, "caption", shard, shards)
        if cpairs:
            norms = {
                i: norm.split()
                for i, norm in store.edges.caption_norms(
                    sorted({x for p in cpairs for x in p})
                ).items()
            }
            edges = []
            for a, b in cpairs:
                e = _caption_edge(a, b, norms.get(a, []), norms.get(b, []), config)
                edges.append(e)
                if e.verdict == "duplicate":
                    c["caption_duplicate"] += 1
            with store.transaction():
                store.edges.write(batch.id, edges)
            c["caption_pairs"] = len(cpairs)
        return s


def _caption_edge(a: int, b: int, ta: list[str], tb: list[str], config: DedupConfig) -> Edge:
    j = token_jaccard(ta, tb)
    sa, sb = set(ta), set(tb)
    con = len(sa & sb) / min(len(sa), len(sb)) if sa and sb else 0.0
    same = j >= config.caption_jaccard_min
    reason = (
        f"{'same photo' if same else 'different captions'}: token Jaccard {j:.2f}, "
        f"containment {con:.2f}"
    )
    return Edge(
        a=min(a, b),
        b=max(a, b),
        kind="caption",
        verdict="duplicate" if same else "distinct",
        jaccard=round(j, 4),
        containment=round(con, 4),
        fuzz=0.0,
        reason=reason,
    )
