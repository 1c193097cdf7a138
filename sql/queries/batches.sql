-- Dedup batches: configurations, claiming pending articles, batch state, the backlog.

-- name: config_id
-- One row per fingerprint (the settings that change a signature or band key).
INSERT INTO dedup_config (fingerprint, config) VALUES (%(fingerprint)s, %(config)s)
ON CONFLICT (fingerprint) DO UPDATE SET fingerprint = EXCLUDED.fingerprint
RETURNING id

-- name: upsert_config
-- The same, and the other settings become those of the batch being opened: its later
-- stages read them (batch_config), whichever worker runs them.
INSERT INTO dedup_config (fingerprint, config) VALUES (%(fingerprint)s, %(config)s)
ON CONFLICT (fingerprint) DO UPDATE SET config = EXCLUDED.config
RETURNING id

-- name: open_batch_existing
SELECT id, key FROM batch WHERE state = 'open' ORDER BY id LIMIT 1 FOR UPDATE

-- name: create_batch
INSERT INTO batch (key, config_id, dag_id, dag_run_id)
VALUES (%(key)s, %(config_id)s, %(dag_id)s, %(dag_run_id)s) RETURNING id, key

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

-- name: batch_config
-- The configuration a batch was opened with: every later stage of the batch uses it, so a
-- worker with a different newsdedup.toml cannot mix two schemes inside one batch.
SELECT c.fingerprint, c.config
FROM batch b JOIN dedup_config c ON c.id = b.config_id
WHERE b.key = %(key)s

-- name: set_batch_state
UPDATE batch SET state = %(state)s,
       published_at = CASE WHEN %(state)s = 'published' THEN now() ELSE published_at END
WHERE id = %(id)s

-- name: batch_article_ids
SELECT article_id AS id FROM batch_article WHERE batch_id = %(batch_id)s ORDER BY article_id

-- name: add_batch_articles
INSERT INTO batch_article (batch_id, article_id)
SELECT %(batch_id)s, unnest(%(ids)s::bigint[])
ON CONFLICT DO NOTHING

-- name: open_batch_keys
SELECT key FROM batch WHERE state = 'open' ORDER BY id

-- name: count_other_open_batches
-- Pipeline batches between open_batch and publish; their staged layouts predate the action.
SELECT count(*) AS n FROM batch WHERE state = 'open' AND id <> %(own)s

-- name: count_pending
SELECT count(*) AS n FROM article WHERE pending

-- name: mark_pending
-- Make the next pipeline batch re-cluster these articles (and so apply the action again,
-- should a batch that was already running publish a layout computed before it).
UPDATE article SET pending = true WHERE id = ANY(%(ids)s)

-- name: count_range_articles
SELECT count(*) AS n FROM article
WHERE published_at >= %(since)s::timestamptz AND published_at < %(until)s::timestamptz

-- name: mark_range_pending
UPDATE article SET pending = true
WHERE published_at >= %(since)s::timestamptz AND published_at < %(until)s::timestamptz
  AND NOT pending
