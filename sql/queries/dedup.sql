-- Dedup: configs, batches, signatures, bands, candidates, edges.

-- name: upsert_config
INSERT INTO dedup_config (fingerprint, config) VALUES (%(fingerprint)s, %(config)s)
ON CONFLICT (fingerprint) DO UPDATE SET fingerprint = EXCLUDED.fingerprint
RETURNING id

-- name: open_batch_existing
SELECT id, key FROM batch WHERE state = 'open' ORDER BY id LIMIT 1 FOR UPDATE

-- name: create_batch
INSERT INTO batch (key, config_id) VALUES (%(key)s, %(config_id)s) RETURNING id, key

-- name: claim_pending
-- Move every pending article into the batch, oldest first, at most %(limit)s of them.
WITH claimed AS (
    UPDATE article SET pending = false
    WHERE id IN (SELECT id FROM article WHERE pending ORDER BY id LIMIT %(limit)s
                 FOR UPDATE SKIP LOCKED)
    RETURNING id
)
INSERT INTO batch_article (batch_id, article_id) SELECT %(batch_id)s, id FROM claimed

-- name: batch_by_key
SELECT b.id, b.key, b.state, b.config_id, (SELECT count(*) FROM batch_article ba
                                           WHERE ba.batch_id = b.id) AS articles
FROM batch b WHERE b.key = %(key)s

-- name: set_batch_state
UPDATE batch SET state = %(state)s,
       published_at = CASE WHEN %(state)s = 'published' THEN now() ELSE published_at END
WHERE id = %(id)s

-- name: batch_texts
-- Articles of one shard of a batch that have text to sign.
SELECT a.id, a.story_text, a.headline, a.published_at
FROM batch_article ba JOIN article a ON a.id = ba.article_id
WHERE ba.batch_id = %(batch_id)s AND a.story_text <> ''
  AND ba.article_id %% %(shards)s = %(shard)s
ORDER BY a.id

-- name: batch_paragraph_norms
-- Body paragraphs of one shard of a batch, for the paragraph-level LSH that finds text
-- borrowed from another story (a paragraph is short; a whole article would not notice).
SELECT p.article_id, p.norm, a.published_at
FROM batch_article ba JOIN article a ON a.id = ba.article_id
JOIN paragraph p ON p.article_id = a.id AND p.kind = 'body'
WHERE ba.batch_id = %(batch_id)s AND ba.article_id %% %(shards)s = %(shard)s
ORDER BY p.article_id, p.ord

-- name: paragraph_norms_of
-- Body paragraphs of these articles with their publication time (re-signing history).
SELECT p.article_id, p.norm, a.published_at
FROM paragraph p JOIN article a ON a.id = p.article_id
WHERE p.article_id = ANY(%(ids)s) AND p.kind = 'body'
ORDER BY p.article_id, p.ord

-- name: batch_captions
SELECT c.id, c.norm, a.published_at
FROM batch_article ba JOIN article a ON a.id = ba.article_id JOIN caption c ON c.article_id = a.id
WHERE ba.batch_id = %(batch_id)s AND c.norm <> '' AND ba.article_id %% %(shards)s = %(shard)s
ORDER BY c.id

-- name: delete_signatures
DELETE FROM signature WHERE config_id = %(config_id)s AND kind = %(kind)s AND object_id = ANY(%(ids)s)

-- name: copy_signatures
COPY signature (config_id, kind, object_id, minhash, shingles) FROM STDIN

-- name: delete_candidates
DELETE FROM candidate WHERE batch_id = %(batch_id)s AND kind = %(out_kind)s

-- name: insert_article_candidates
-- Pairs whose story, lead or slot band keys met in fill_band_hits: one join of the batch's keys
-- against all history inside the time window. LSH is tuned for recall, so these are
-- proposals for verify, not verdicts.
INSERT INTO candidate (batch_id, kind, a, b)
SELECT DISTINCT %(batch_id)s::bigint, 'story', LEAST(a, b), GREATEST(a, b)
FROM band_hits WHERE kind = %(kind)s
ON CONFLICT DO NOTHING

-- name: insert_paragraph_candidates
-- Article pairs sharing a paragraph-level band. A band key carried by more than
-- %(max_df)s articles is boilerplate (standard disclaimers, recurring report furniture)
-- and proposes nothing.
INSERT INTO candidate (batch_id, kind, a, b)
WITH hits AS (
    SELECT a, b, key FROM band_hits WHERE kind = 'para'
), common AS (
    -- a key is one (band, hash) of one kind and config
    SELECT key FROM hits GROUP BY key HAVING count(DISTINCT b) > %(max_df)s
)
SELECT DISTINCT %(batch_id)s::bigint, 'story', LEAST(a, b), GREATEST(a, b)
FROM hits WHERE key NOT IN (SELECT key FROM common)
ON CONFLICT DO NOTHING

-- name: insert_caption_candidates
INSERT INTO candidate (batch_id, kind, a, b)
SELECT DISTINCT %(batch_id)s::bigint, 'caption', LEAST(a, b), GREATEST(a, b)
FROM band_hits WHERE kind = 'caption'
ON CONFLICT DO NOTHING

-- name: count_candidates
SELECT kind, count(*) AS n FROM candidate WHERE batch_id = %(batch_id)s GROUP BY kind

-- name: shard_candidates
SELECT a, b FROM candidate
WHERE batch_id = %(batch_id)s AND kind = %(kind)s AND (a + b) %% %(shards)s = %(shard)s
ORDER BY a, b

-- name: body_paragraphs
-- What verification needs per article: body paragraphs in similarity form and as printed
-- (names show by case), plus the wire metadata that changes how similarity is judged.
SELECT p.article_id, array_agg(p.norm ORDER BY p.ord) AS norms,
       array_agg(p.text ORDER BY p.ord) AS texts, a.source, a.item_key,
       a.origin_ed_stat, a.origin_tag, a.lineage, a.headline, a.headline_tag, a.published_at,
       EXISTS (SELECT 1 FROM paragraph n
               WHERE n.article_id = a.id AND n.kind = 'correction') AS correction_note
FROM paragraph p JOIN article a ON a.id = p.article_id
WHERE p.article_id = ANY(%(ids)s) AND p.kind = 'body'
GROUP BY p.article_id, a.id

-- name: caption_norms
SELECT id, norm FROM caption WHERE id = ANY(%(ids)s)

-- name: create_edge_stage
CREATE TEMP TABLE IF NOT EXISTS edge_stage (LIKE edge INCLUDING DEFAULTS) ON COMMIT DROP

-- name: copy_edge_stage
COPY edge_stage (kind, a, b, verdict, jaccard, containment, fuzz, para_overlap, reason, batch_id)
FROM STDIN

-- name: upsert_edges
INSERT INTO edge (kind, a, b, verdict, jaccard, containment, fuzz, para_overlap, reason, batch_id)
SELECT kind, a, b, verdict, jaccard, containment, fuzz, para_overlap, reason, batch_id
FROM edge_stage
ON CONFLICT (kind, a, b) DO UPDATE SET
    verdict = EXCLUDED.verdict, jaccard = EXCLUDED.jaccard,
    containment = EXCLUDED.containment, fuzz = EXCLUDED.fuzz,
    para_overlap = EXCLUDED.para_overlap, reason = EXCLUDED.reason,
    batch_id = EXCLUDED.batch_id, decided_at = now()
