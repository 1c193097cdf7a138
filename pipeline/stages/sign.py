"""The sign stage: MinHash signatures and LSH band hashes of a batch's articles and captions."""

from __future__ import annotations

import logging

from pipeline.config import DedupConfig
from pipeline.dedup.bands import band_hashes
from pipeline.dedup.minhash import Permutations, signatures
from pipeline.stages.batch import load as _batch
from pipeline.stages.record import Summary, recorded
from pipeline.store.repository import Repository

log = logging.getLogger("newsdedup")


def sign_articles(
    repo: Repository, config_id: int, config: DedupConfig, rows: list[dict], paras: list[dict]
) -> int:
    """Signatures and LSH bands of articles (``rows``: id, story_text, published_at) and of
    their body paragraphs (``paras``: article_id, norm, published_at); returns how many
    paragraphs were long enough to index. Used by ``sign`` and by re-signing."""
    perms = Permutations(config.num_perm, config.seed)
    k = config.shingle_size
    if rows:
        ids = [r["id"] for r in rows]
        texts = [r["story_text"] for r in rows]
        published = [r["published_at"] for r in rows]
        counts = [len(t.split()) for t in texts]
        sig = signatures(texts, k, k, perms)
        repo.write_signatures(
            config_id,
            "story",
            ids,
            sig,
            counts,
            band_hashes(sig, config.bands, config.rows),
            published,
        )
        if config.lead_words:
            leads = [" ".join(t.split()[: config.lead_words]) for t in texts]
            lsig = signatures(leads, k, k, perms)
            repo.write_signatures(
                config_id,
                "lead",
                ids,
                lsig,
                [min(c, config.lead_words) for c in counts],
                band_hashes(lsig, config.lead_bands, config.lead_rows),
                published,
            )
    paras = [r for r in paras if len(r["norm"].split()) >= config.para_min_tokens]
    if paras:
        psig = signatures([r["norm"] for r in paras], k, k, perms)
        repo.write_bands(
            config_id,
            "para",
            [r["article_id"] for r in paras],
            band_hashes(psig, config.para_bands, config.para_rows),
            [r["published_at"] for r in paras],
        )
    return len(paras)


def sign_captions(repo: Repository, config_id: int, config: DedupConfig, caps: list[dict]) -> None:
    """Signatures and LSH bands of captions (``caps``: id, norm, published_at): word 1- and
    2-grams, because captions are short and one edited word should cost little."""
    if not caps:
        return
    norms = [r["norm"] for r in caps]
    sig = signatures(norms, 1, 2, Permutations(config.num_perm, config.seed))
    repo.write_signatures(
        config_id,
        "caption",
        [r["id"] for r in caps],
        sig,
        [len(t.split()) for t in norms],
        band_hashes(sig, config.caption_bands, config.caption_rows),
        [r["published_at"] for r in caps],
    )


def run(
    repo: Repository, batch_key: str, config: DedupConfig, shard: int = 0, shards: int = 1
) -> Summary:
    """MinHash signatures and LSH band hashes for the batch's articles and captions."""
    b = _batch(repo, batch_key)
    with recorded(repo, "sign", batch_key) as s, repo.transaction():
        repo.bulk_settings()
        rows = repo.rows("batch_texts", batch_id=b["id"], shard=shard, shards=shards)
        paras = repo.rows("batch_paragraph_norms", batch_id=b["id"], shard=shard, shards=shards)
        n_paras = sign_articles(repo, b["config_id"], config, rows, paras)
        caps = repo.rows("batch_captions", batch_id=b["id"], shard=shard, shards=shards)
        sign_captions(repo, b["config_id"], config, caps)
        repo.analyze_written()
        s.counts.update(
            articles=len(rows),
            paragraphs=n_paras,
            captions=len(caps),
            shard=shard,
            shards=shards,
        )
        return s
