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

-- name: quarantine_articles
-- Articles a dedup stage could not process: an open quarantine entry each, with the stage
-- and the reason, under the payload of the version that failed; and out of the batch, so
-- its later stages go on without them (they are not pending either: requeue makes them so).
WITH q AS (
    INSERT INTO quarantine (payload_id, item_key, reason, stage)
    SELECT r.payload_id, a.item_key, u.reason, %(stage)s
    FROM unnest(%(ids)s::bigint[], %(reasons)s::text[]) AS u(id, reason)
    JOIN article a ON a.id = u.id JOIN raw_item r ON r.id = a.raw_item_id
    ON CONFLICT (payload_id, coalesce(item_key, '')) WHERE resolved_at IS NULL DO NOTHING
)
DELETE FROM batch_article WHERE batch_id = %(batch_id)s AND article_id = ANY(%(ids)s)

-- name: drop_batch_edges_of
-- What verify decided this batch about articles it then quarantined.
DELETE FROM edge WHERE batch_id = %(batch_id)s AND (a = ANY(%(ids)s) OR b = ANY(%(ids)s))

-- name: held_articles
-- Those of the articles with an open quarantine entry of a dedup stage: kept out of every
-- story until requeued.
SELECT a.id FROM article a
JOIN quarantine q ON q.item_key = a.item_key AND q.resolved_at IS NULL AND q.stage <> 'parse'
WHERE a.id = ANY(%(ids)s)
