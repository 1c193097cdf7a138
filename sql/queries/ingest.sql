-- Ingest: payloads, raw item versions, articles, quarantine.

-- name: create_payload_stage
CREATE TEMP TABLE IF NOT EXISTS payload_stage (
    sha256 bytea, source text, origin text, size integer, body bytea
) ON COMMIT DELETE ROWS

-- name: copy_payload_stage
COPY payload_stage (sha256, source, origin, size, body) FROM STDIN

-- name: insert_staged_payloads
-- New payloads only; identical bytes seen before (any source, any path) are stored once.
-- Ids follow file order, so versions in one drop are applied in the order they were filed.
INSERT INTO payload (sha256, source, origin, size, body)
SELECT sha256, source, origin, size, body FROM (
    SELECT DISTINCT ON (sha256) sha256, source, origin, size, body FROM payload_stage
    ORDER BY sha256, origin
) d
ORDER BY origin
ON CONFLICT (sha256) DO NOTHING

-- name: payload_states
SELECT id, sha256, status FROM payload WHERE sha256 = ANY(%(shas)s)

-- name: payloads_to_parse
-- Payloads stored but never parsed (a crash between storing and parsing) or re-queued.
SELECT id, source, origin, size, body FROM payload WHERE id = ANY(%(ids)s) AND status = 'new'
ORDER BY id

-- name: new_payload_ids
SELECT id FROM payload WHERE status = 'new' AND (%(source)s::text IS NULL OR source = %(source)s)
ORDER BY id

-- name: mark_payload
UPDATE payload SET status = %(status)s, format = %(format)s, item_count = %(item_count)s,
       parsed_at = now()
WHERE id = %(id)s

-- name: quarantine
INSERT INTO quarantine (payload_id, item_key, reason) VALUES (%(payload_id)s, %(item_key)s, %(reason)s)
ON CONFLICT (payload_id, coalesce(item_key, '')) WHERE resolved_at IS NULL DO NOTHING

-- name: current_articles
SELECT a.item_key, a.id, a.version, a.version_created, a.killed, a.word_count,
       r.id AS raw_item_id
FROM article a JOIN raw_item r ON r.id = a.raw_item_id
WHERE a.item_key = ANY(%(keys)s)

-- name: known_versions
SELECT item_key, version, content_sha256 FROM raw_item WHERE item_key = ANY(%(keys)s)

-- name: insert_raw_item
INSERT INTO raw_item (payload_id, source, item_key, version, version_created, pub_status,
                      ed_stat, content_sha256)
VALUES (%(payload_id)s, %(source)s, %(item_key)s, %(version)s, %(version_created)s,
        %(pub_status)s, %(ed_stat)s, %(content_sha256)s)
ON CONFLICT (item_key, content_sha256) DO NOTHING
RETURNING id

-- name: upsert_article
INSERT INTO article (item_key, source, raw_item_id, format, version, version_created,
                     first_created, published_at, pub_status, ed_stat, killed, headline,
                     headline_tag, story_text, word_count, attributions, read_more, lineage,
                     content_sha256, pending, origin_ed_stat, origin_tag,
                     origin_version_created)
VALUES (%(item_key)s, %(source)s, %(raw_item_id)s, %(format)s, %(version)s,
        %(version_created)s, %(first_created)s, %(published_at)s, %(pub_status)s,
        %(ed_stat)s, %(killed)s, %(headline)s, %(headline_tag)s, %(story_text)s,
        %(word_count)s, %(attributions)s, %(read_more)s, %(lineage)s, %(content_sha256)s, true,
        %(ed_stat)s, %(headline_tag)s, %(version_created)s)
ON CONFLICT (item_key) DO UPDATE SET
    raw_item_id = EXCLUDED.raw_item_id, format = EXCLUDED.format, version = EXCLUDED.version,
    version_created = EXCLUDED.version_created,
    -- the first publication time of an item never moves forward with a new version
    first_created = LEAST(article.first_created, EXCLUDED.first_created),
    published_at = LEAST(article.published_at, EXCLUDED.published_at),
    pub_status = EXCLUDED.pub_status, ed_stat = EXCLUDED.ed_stat, killed = EXCLUDED.killed,
    headline = EXCLUDED.headline, headline_tag = EXCLUDED.headline_tag,
    story_text = EXCLUDED.story_text, word_count = EXCLUDED.word_count,
    attributions = EXCLUDED.attributions, read_more = EXCLUDED.read_more,
    lineage = EXCLUDED.lineage, content_sha256 = EXCLUDED.content_sha256,
    version_count = article.version_count + 1, updated_at = now(), pending = true
RETURNING id

-- name: older_version_seen
-- An older version than the current one: it changes no text, but it may be the item's
-- earliest version, which tells how the item began.
UPDATE article SET version_count = version_count + 1,
    origin_ed_stat = CASE WHEN %(version_created)s::timestamptz < origin_version_created
                          THEN %(ed_stat)s ELSE origin_ed_stat END,
    origin_tag = CASE WHEN %(version_created)s::timestamptz < origin_version_created
                      THEN %(headline_tag)s ELSE origin_tag END,
    origin_version_created = LEAST(origin_version_created, %(version_created)s::timestamptz)
WHERE item_key = %(item_key)s

-- name: kill_article
-- A kill keeps the last usable text (the story still needs it to place the item) but the
-- item can no longer be canonical.
UPDATE article SET killed = true, pub_status = %(pub_status)s, ed_stat = %(ed_stat)s,
       raw_item_id = %(raw_item_id)s, version = %(version)s,
       version_created = %(version_created)s, version_count = version_count + 1,
       updated_at = now(), pending = true
WHERE item_key = %(item_key)s
RETURNING id

-- name: fill_killed_text
-- A kill that arrived before the text it kills: an older usable version supplies the text
-- (the item still has to be placed in its story) while the kill's status stays.
UPDATE article SET headline = %(headline)s, headline_tag = %(headline_tag)s,
       story_text = %(story_text)s, word_count = %(word_count)s,
       attributions = %(attributions)s, read_more = %(read_more)s,
       first_created = LEAST(first_created, %(first_created)s),
       published_at = LEAST(published_at, %(published_at)s),
       version_count = version_count + 1, updated_at = now(), pending = true
WHERE item_key = %(item_key)s
RETURNING id

-- name: delete_article_text
DELETE FROM paragraph WHERE article_id = ANY(%(ids)s)

-- name: delete_article_captions
DELETE FROM caption WHERE article_id = ANY(%(ids)s)

-- name: copy_paragraphs
COPY paragraph (article_id, ord, kind, text, norm) FROM STDIN

-- name: copy_captions
COPY caption (article_id, ord, text, body, credit, norm) FROM STDIN

-- name: requeue_payloads
-- Quarantined payloads back to 'new' so the next ingest parses them again.
WITH q AS (
    UPDATE quarantine SET resolved_at = now(), resolution = 'requeued'
    WHERE resolved_at IS NULL AND (%(payload_id)s::bigint IS NULL OR payload_id = %(payload_id)s)
    RETURNING payload_id
)
UPDATE payload SET status = 'new' WHERE id IN (SELECT payload_id FROM q)
RETURNING id

-- name: open_quarantine
SELECT q.id, q.payload_id, q.item_key, q.reason, q.created_at, p.source, p.origin, p.format
FROM quarantine q JOIN payload p ON p.id = q.payload_id
WHERE q.resolved_at IS NULL
ORDER BY q.id DESC
LIMIT %(limit)s OFFSET %(offset)s

-- name: count_open_quarantine
SELECT count(*) AS n FROM quarantine WHERE resolved_at IS NULL
