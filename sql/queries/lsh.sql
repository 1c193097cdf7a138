-- MinHash signatures, LSH band keys and the candidate pairs they propose.

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

-- name: batch_captions
SELECT c.id, c.norm, a.published_at, c.article_id
FROM batch_article ba JOIN article a ON a.id = ba.article_id JOIN caption c ON c.article_id = a.id
WHERE ba.batch_id = %(batch_id)s AND c.norm <> '' AND ba.article_id %% %(shards)s = %(shard)s
ORDER BY c.id

-- name: unsigned_articles
-- One shard's articles that have text but no story signature under this configuration,
-- optionally inside a publication time range; keyset-paged by id so a retry resumes.
SELECT a.id, a.story_text, a.headline, a.published_at
FROM article a
WHERE a.story_text <> '' AND a.id > %(after)s AND a.id %% %(shards)s = %(shard)s
  AND (%(since)s::timestamptz IS NULL OR a.published_at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR a.published_at < %(until)s::timestamptz)
  AND NOT EXISTS (SELECT 1 FROM signature s
                  WHERE s.config_id = %(config_id)s AND s.kind = 'story' AND s.object_id = a.id)
ORDER BY a.id
LIMIT %(limit)s

-- name: paragraph_norms_of
-- Body paragraphs of these articles with their publication time (re-signing history).
SELECT p.article_id, p.norm, a.published_at
FROM paragraph p JOIN article a ON a.id = p.article_id
WHERE p.article_id = ANY(%(ids)s) AND p.kind = 'body'
ORDER BY p.article_id, p.ord

-- name: unsigned_captions
-- The same for captions (sharded by their article, like the batch stages).
SELECT c.id, c.norm, a.published_at
FROM caption c JOIN article a ON a.id = c.article_id
WHERE c.norm <> '' AND c.id > %(after)s AND c.article_id %% %(shards)s = %(shard)s
  AND (%(since)s::timestamptz IS NULL OR a.published_at >= %(since)s::timestamptz)
  AND (%(until)s::timestamptz IS NULL OR a.published_at < %(until)s::timestamptz)
  AND NOT EXISTS (SELECT 1 FROM signature s
                  WHERE s.config_id = %(config_id)s AND s.kind = 'caption' AND s.object_id = c.id)
ORDER BY c.id
LIMIT %(limit)s

-- name: delete_signatures_of
-- A join on the id list (not "= ANY"): one index probe per id whatever the statistics say.
DELETE FROM signature s USING unnest(%(ids)s::bigint[]) AS u(id)
WHERE s.config_id = %(config_id)s AND s.kind = %(kind)s AND s.object_id = u.id
RETURNING s.object_id

-- name: copy_signatures_binary
COPY signature (config_id, kind, object_id, minhash, shingles) FROM STDIN (FORMAT binary)

-- name: delete_band_keys_of
-- The objects' band_key rows, and their previous LSH rows, wherever they are (recent or
-- folded), found by their exact keys through the key indexes: lsh_band is never searched
-- by object. lsh_band_recent comes first, as in every statement that names both, so that
-- all take their locks in one order.
WITH old AS (
    DELETE FROM band_key k USING unnest(%(ids)s::bigint[]) AS u(id)
    WHERE k.config_id = %(config_id)s AND k.kind = %(kind)s AND k.object_id = u.id
    RETURNING k.object_id, k.keys
), d AS (
    SELECT o.object_id, x.key FROM old o, unnest(o.keys) AS x(key)
), recent AS (
    DELETE FROM lsh_band_recent r USING d WHERE r.key = d.key AND r.object_id = d.object_id
)
DELETE FROM lsh_band b
USING d
WHERE b.key = d.key AND b.object_id = d.object_id

-- name: copy_band_keys_binary
COPY band_key (config_id, kind, object_id, keys, published_at) FROM STDIN (FORMAT binary)

-- name: copy_lsh_band
COPY lsh_band (key, object_id, published_at) FROM STDIN (FORMAT binary)

-- name: copy_lsh_band_recent
COPY lsh_band_recent (key, object_id, published_at) FROM STDIN (FORMAT binary)

-- name: lsh_band_rows
-- Rows in lsh_band now, estimated from its size (about 52 bytes a row with its header and
-- line pointer): unlike reltuples it counts rows written since the last ANALYZE.
SELECT pg_relation_size('lsh_band') / 52 AS n

-- name: lsh_band_recent_rows
-- The same estimate for lsh_band_recent, which a fold empties by TRUNCATE (its file too).
SELECT pg_relation_size('lsh_band_recent') / 52 AS n

-- name: lock_lsh_band
-- Before any other statement on lsh_band in the transaction, so that sign shards running
-- at once queue here instead of deadlocking on the index they would both drop; with
-- lsh_band_recent first, the order every statement takes the two in.
LOCK TABLE lsh_band_recent, lsh_band IN ACCESS EXCLUSIVE MODE

-- name: lock_lsh_band_recent
-- A fold's first statement; NOWAIT: while another transaction uses the table, the fold
-- gives way to it (``Lsh.fold``).
LOCK TABLE lsh_band_recent IN ACCESS EXCLUSIVE MODE NOWAIT

-- name: fold_lsh_band_recent
-- In key order, so that each leaf of lsh_band_key_idx is visited once for all the rows.
INSERT INTO lsh_band (key, object_id, published_at)
SELECT key, object_id, published_at FROM lsh_band_recent ORDER BY key

-- name: truncate_lsh_band_recent
TRUNCATE lsh_band_recent

-- name: drop_lsh_band_index
DROP INDEX IF EXISTS lsh_band_key_idx

-- name: create_lsh_band_index
-- The definition of migration 0005, built in one sort over the whole table.
CREATE INDEX IF NOT EXISTS lsh_band_key_idx ON lsh_band (key)

-- name: create_band_probe
CREATE TEMP TABLE IF NOT EXISTS band_probe (
    kind text, key bigint, object_id bigint, published_at timestamptz
) ON COMMIT DELETE ROWS

-- name: truncate_band_probe
TRUNCATE band_probe

-- name: fill_band_probe
-- The batch's own band keys, unnested from band_key into a table the planner has real
-- statistics for (after ANALYZE): it then chooses index probes for a batch of a thousand
-- against millions, and a hash join for a batch as large as history. unnest() inside the
-- join is always estimated at 10 rows per object, which can choose hundreds of thousands
-- of index probes where a hash join takes a fraction of the time.
INSERT INTO band_probe (kind, key, object_id, published_at)
SELECT k.kind, x.key, k.object_id, k.published_at
FROM batch_article ba
JOIN band_key k ON k.config_id = %(config_id)s AND k.kind IN ('story', 'lead', 'para', 'slots')
               AND k.object_id = ba.article_id
CROSS JOIN LATERAL unnest(k.keys) AS x(key)
WHERE ba.batch_id = %(batch_id)s
UNION ALL
SELECT k.kind, x.key, k.object_id, k.published_at
FROM batch_article ba
JOIN caption c ON c.article_id = ba.article_id
JOIN band_key k ON k.config_id = %(config_id)s AND k.kind = 'caption' AND k.object_id = c.id
CROSS JOIN LATERAL unnest(k.keys) AS x(key)
WHERE ba.batch_id = %(batch_id)s

-- name: analyze_band_probe
ANALYZE band_probe

-- name: create_band_hits
CREATE TEMP TABLE IF NOT EXISTS band_hits (
    kind text, a bigint, b bigint, key bigint
) ON COMMIT DELETE ROWS

-- name: truncate_band_hits
TRUNCATE band_hits

-- name: fill_band_hits
-- Every (batch object, history object) pair sharing an LSH key inside the time window, all
-- kinds in one pass over the band rows, recent and folded: a hash join against all of
-- them, for a batch whose keys are many beside history. Slot keys look only as far as a
-- re-send can be: beyond it, only a full repeat is the same item, and story keys find those.
INSERT INTO band_hits (kind, a, b, key)
SELECT n.kind, n.object_id, h.object_id, n.key
FROM band_probe n
JOIN (SELECT key, object_id, published_at FROM lsh_band_recent
      UNION ALL
      SELECT key, object_id, published_at FROM lsh_band) h ON h.key = n.key
CROSS JOIN LATERAL (SELECT CASE WHEN n.kind = 'slots'
                                THEN make_interval(secs => %(slot_window_hours)s * 3600)
                                ELSE make_interval(days => %(window_days)s) END AS w) win
WHERE h.object_id <> n.object_id
  AND h.published_at BETWEEN n.published_at - win.w AND n.published_at + win.w

-- name: fill_band_hits_by_keys
-- The same pairs for a batch whose keys are few beside history: one index scan of each
-- band table for the batch's keys as one array, which the index walks in key order, each
-- leaf page once, then a hash join of the rows found with the batch's keys. Against a
-- million articles this took half the time of one index probe per key in a nested loop.
INSERT INTO band_hits (kind, a, b, key)
SELECT n.kind, n.object_id, h.object_id, n.key
FROM band_probe n
JOIN (SELECT key, object_id, published_at FROM lsh_band_recent
      WHERE key = ANY(ARRAY(SELECT key FROM band_probe))
      UNION ALL
      SELECT key, object_id, published_at FROM lsh_band
      WHERE key = ANY(ARRAY(SELECT key FROM band_probe))) h ON h.key = n.key
CROSS JOIN LATERAL (SELECT CASE WHEN n.kind = 'slots'
                                THEN make_interval(secs => %(slot_window_hours)s * 3600)
                                ELSE make_interval(days => %(window_days)s) END AS w) win
WHERE h.object_id <> n.object_id
  AND h.published_at BETWEEN n.published_at - win.w AND n.published_at + win.w

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
