"""The sign stage: MinHash signatures and LSH band keys of a batch's articles, their body
paragraphs and their captions."""

from __future__ import annotations

from pipeline.config import DedupConfig
from pipeline.dedup.bands import band_hashes, band_keys
from pipeline.dedup.minhash import Permutations, signatures
from pipeline.dedup.slots import lsh_text
from pipeline.model import Batch
from pipeline.stages import poison
from pipeline.stages.record import Summary, recorded
from pipeline.store.store import Store

# What signing writes, computed before anything is written: (``store.lsh`` method, its
# arguments), in the order they are applied
Writes = list[tuple[str, tuple]]


def sign_articles(
    store: Store, config_id: int, config: DedupConfig, rows: list[dict], paras: list[dict]
) -> int:
    """Signatures and LSH bands of articles (``rows``: id, story_text, headline,
    published_at), of their slots, and of their body paragraphs (``paras``: article_id,
    norm, published_at); returns how many paragraphs were long enough to index. Used by
    ``run`` and by re-signing."""
    writes, n_paras = article_writes(config_id, config, rows, paras)
    apply(store, writes)
    return n_paras


def sign_captions(store: Store, config_id: int, config: DedupConfig, caps: list[dict]) -> None:
    """Signatures and LSH bands of captions (``caps``: id, norm, published_at)."""
    apply(store, caption_writes(config_id, config, caps))


def apply(store: Store, writes: Writes) -> None:
    for method, args in writes:
        getattr(store.lsh, method)(*args)


def article_writes(
    config_id: int, config: DedupConfig, rows: list[dict], paras: list[dict]
) -> tuple[Writes, int]:
    """What ``sign_articles`` writes, and how many paragraphs were long enough to index."""
    out: Writes = []
    perms = Permutations(config.num_perm, config.seed)
    k = config.shingle_size
    if rows:
        ids = [r["id"] for r in rows]
        texts = [r["story_text"] for r in rows]
        published = [r["published_at"] for r in rows]
        counts = [len(t.split()) for t in texts]
        sig = signatures(texts, k, k, perms)
        keys = band_keys(band_hashes(sig, config.bands, config.rows), config_id, "story")
        out.append(("write_signatures", (config_id, "story", ids, sig, counts, keys, published)))
        slot_texts = [lsh_text(r["headline"], r["story_text"]) for r in rows]
        ssig = signatures(slot_texts, 1, 1, perms)
        keys = band_keys(band_hashes(ssig, config.slot_bands, config.slot_rows), config_id, "slots")
        out.append(("write_bands", (config_id, "slots", ids, keys, published)))
        if config.lead_words:
            leads = [" ".join(t.split()[: config.lead_words]) for t in texts]
            lsig = signatures(leads, k, k, perms)
            lcounts = [min(c, config.lead_words) for c in counts]
            keys = band_keys(
                band_hashes(lsig, config.lead_bands, config.lead_rows), config_id, "lead"
            )
            out.append(
                ("write_signatures", (config_id, "lead", ids, lsig, lcounts, keys, published))
            )
    paras = [r for r in paras if len(r["norm"].split()) >= config.para_min_tokens]
    if paras:
        psig = signatures([r["norm"] for r in paras], k, k, perms)
        keys = band_keys(band_hashes(psig, config.para_bands, config.para_rows), config_id, "para")
        pids = [r["article_id"] for r in paras]
        out.append(
            ("write_bands", (config_id, "para", pids, keys, [r["published_at"] for r in paras]))
        )
    return out, len(paras)


def caption_writes(config_id: int, config: DedupConfig, caps: list[dict]) -> Writes:
    """Signatures and LSH bands of captions: word 1- and 2-grams, because captions are
    short and one edited word should cost little."""
    if not caps:
        return []
    norms = [r["norm"] for r in caps]
    sig = signatures(norms, 1, 2, Permutations(config.num_perm, config.seed))
    keys = band_keys(
        band_hashes(sig, config.caption_bands, config.caption_rows), config_id, "caption"
    )
    ids = [r["id"] for r in caps]
    counts = [len(t.split()) for t in norms]
    published = [r["published_at"] for r in caps]
    return [("write_signatures", (config_id, "caption", ids, sig, counts, keys, published))]


def band_rows(config: DedupConfig, articles: int, paragraphs: int, captions: int) -> int:
    """How many lsh_band rows signing this much writes at most (short paragraphs get none)."""
    per_article = config.bands + config.slot_bands + (config.lead_bands if config.lead_words else 0)
    return articles * per_article + paragraphs * config.para_bands + captions * config.caption_bands


def run(
    store: Store, batch: Batch, config: DedupConfig, shard: int = 0, shards: int = 1
) -> Summary:
    """MinHash signatures and LSH band keys for one shard of the batch. An article whose
    signing raises is quarantined at this stage; the others are signed as usual. A batch
    small beside history writes its band rows into the recent table, and folds that table
    into history once it has grown enough (``Lsh.band_writes``, ``Lsh.fold``)."""
    with recorded(store, "sign", batch.key) as s:
        if _sign(store, batch, config, shard, shards, s) == "recent":
            with store.transaction():
                store.bulk_settings()
                moved = store.lsh.fold()
            s.counts["folded"] = moved or 0
            if moved is None:
                s.counts["fold_deferred"] = 1  # the table was busy: a later batch folds
        return s


def _sign(
    store: Store, batch: Batch, config: DedupConfig, shard: int, shards: int, s: Summary
) -> str:
    """The signing transaction of ``run``; returns where its band rows went."""
    with store.transaction():
        store.bulk_settings()
        rows = store.lsh.batch_texts(batch.id, shard, shards)
        paras = store.lsh.batch_paragraphs(batch.id, shard, shards)
        caps = store.lsh.batch_captions(batch.id, shard, shards)

        def writes(ids: list[int]) -> tuple[Writes, int]:
            keep = set(ids)
            w, n = article_writes(
                batch.config_id,
                config,
                [r for r in rows if r["id"] in keep],
                [p for p in paras if p["article_id"] in keep],
            )
            return w + caption_writes(
                batch.config_id, config, [c for c in caps if c["article_id"] in keep]
            ), n

        every = sorted(
            {r["id"] for r in rows}
            | {p["article_id"] for p in paras}
            | {c["article_id"] for c in caps}
        )
        (done, n_paras), failed = poison.isolate(writes, every, "sign")
        store.batches.quarantine_articles(batch.id, "sign", failed)
        with store.lsh.band_writes(band_rows(config, len(rows), len(paras), len(caps))) as where:
            apply(store, done)
        store.analyze_written()
        held = {i for i, _ in failed}
        s.counts.update(
            articles=sum(r["id"] not in held for r in rows),
            paragraphs=n_paras,
            captions=sum(c["article_id"] not in held for c in caps),
            quarantined=len(failed),
            shard=shard,
            shards=shards,
        )
        return where
