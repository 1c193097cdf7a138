-- Scheduler support and maintenance: a batch's own configuration, the backlog, re-signing
-- history under a new configuration, rebuilding the stories of a time range.

-- name: batch_config
-- The configuration a batch was opened with: every later stage of the batch uses it, so a
-- worker with a different newsdedup.toml cannot mix two schemes inside one batch.
SELECT c.fingerprint, c.config
FROM batch b JOIN dedup_config c ON c.id = b.config_id
WHERE b.key = %(key)s

-- name: count_pending
SELECT count(*) AS n FROM article WHERE pending

-- name: open_batch_keys
SELECT key FROM batch WHERE state = 'open' ORDER BY id

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

-- name: delete_range_story_edges
-- Story edges touching an article of the range: the rebuild batch re-verifies every LSH
-- candidate of those articles, so only decisions that still have a candidate come back.
WITH r AS (
    SELECT id FROM article
    WHERE published_at >= %(since)s::timestamptz AND published_at < %(until)s::timestamptz
)
DELETE FROM edge
WHERE kind = 'story' AND (a IN (SELECT id FROM r) OR b IN (SELECT id FROM r))

-- name: mark_range_pending
UPDATE article SET pending = true
WHERE published_at >= %(since)s::timestamptz AND published_at < %(until)s::timestamptz
  AND NOT pending

-- name: count_range_articles
SELECT count(*) AS n FROM article
WHERE published_at >= %(since)s::timestamptz AND published_at < %(until)s::timestamptz
