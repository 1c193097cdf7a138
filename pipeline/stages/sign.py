"""The sign stage: MinHash signatures and LSH band keys of a batch's articles, their body
paragraphs and their captions."""

from __future__ import annotations

from pipeline.config import DedupConfig
from pipeline.dedup.bands import band_hashes, band_keys
from pipeline.dedup.minhash import Permutations, signatures
from pipeline.dedup.slots import lsh_text
from pipeline.model import Batch
from pipeline.stages.record import Summary, recorded
from pipeline.store.store import Store


def sign_articles(
    store: Store, config_id: int, config: DedupConfig, rows: list[dict], paras: list[dict]
) -> int:
    """Signatures and LSH bands of articles (``rows``: id, story_text, headline,
    published_at), of their slots, and of their body paragraphs (``paras``: article_id,
    norm, published_at); returns how many paragraphs were long enough to index. Used by
    ``run`` and by re-signing."""
    perms = Permutations(config.num_perm, config.seed)
    k = config.shingle_size
    if rows:
        ids = [r["id"] for r in rows]
        texts = [r["story_text"] for r in rows]
        published = [r["published_at"] for r in rows]
        counts = [len(t.split()) for t in texts]
        sig = signatures(texts, k, k, perms)
        store.lsh.write_signatures(
            config_id,
            "story",
            ids,
            sig,
            counts,
            band_keys(band_hashes(sig, config.bands, config.rows), config_id, "story"),
            published,
        )
        slot_texts = [lsh_text(r["headline"], r["story_text"]) for r in rows]
        ssig = signatures(slot_texts, 1, 1, perms)
        store.lsh.write_bands(
            config_id,
            "slots",
            ids,
            band_keys(band_hashes(ssig, config.slot_bands, config.slot_rows), config_id, "slots"),
            published,
        )
        if config.lead_words:
            leads = [" ".join(t.split()[: config.lead_words]) for t in texts]
            lsig = signatures(leads, k, k, perms)
            store.lsh.write_signatures(
                config_id,
                "lead",
                ids,
                lsig,
                [min(c, config.lead_words) for c in counts],
                band_keys(
                    band_hashes(lsig, config.lead_bands, config.lead_rows), config_id, "lead"
                ),
                published,
            )
    paras = [r for r in paras if len(r["norm"].split()) >= config.para_min_tokens]
    if paras:
        psig = signatures([r["norm"] for r in paras], k, k, perms)
        store.lsh.write_bands(
            config_id,
            "para",
            [r["article_id"] for r in paras],
            band_keys(band_hashes(psig, config.para_bands, config.para_rows), config_id, "para"),
            [r["published_at"] for r in paras],
        )
    return len(paras)


def sign_captions(store: Store, config_id: int, config: DedupConfig, caps: list[dict]) -> None:
    """Signatures and LSH bands of captions (``caps``: id, norm, published_at): word 1- and
    2-grams, because captions are short and one edited word should cost little."""
    if not caps:
        return
    norms = [r["norm"] for r in caps]
    sig = signatures(norms, 1, 2, Permutations(config.num_perm, config.seed))
    store.lsh.write_signatures(
        config_id,
        "caption",
        [r["id"] for r in caps],
        sig,
        [len(t.split()) for t in norms],
        band_keys(
            band_hashes(sig, config.caption_bands, config.caption_rows), config_id, "caption"
        ),
        [r["published_at"] for r in caps],
    )


def run(
    store: Store, batch: Batch, config: DedupConfig, shard: int = 0, shards: int = 1
) -> Summary:
    """MinHash signatures and LSH band keys for one shard of the batch."""
    with recorded(store, "sign", batch.key) as s, store.transaction():
        store.bulk_settings()
        rows = store.lsh.batch_texts(batch.id, shard, shards)
        paras = store.lsh.batch_paragraphs(batch.id, shard, shards)
        n_paras = sign_articles(store, batch.config_id, config, rows, paras)
        caps = store.lsh.batch_captions(batch.id, shard, shards)
        sign_captions(store, batch.config_id, config, caps)
        store.analyze_written()
        s.counts.update(
            articles=len(rows),
            paragraphs=n_paras,
            captions=len(caps),
            shard=shard,
            shards=shards,
        )
        return s
