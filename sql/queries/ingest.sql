-- Ingest: payloads stored verbatim, received versions (raw_item), articles and their text,
-- quarantine. Set-based: ids allocated up front, rows COPYed into temporary staging tables
-- (no WAL, private to the session), then one statement per target table.

-- name: create_payload_stage
CREATE TEMP TABLE IF NOT EXISTS payload_stage (
    sha256 bytea, source text, origin text, size integer, body bytea, origin_bytes bytea
) ON COMMIT DELETE ROWS

-- name: copy_payload_stage
COPY payload_stage (sha256, source, origin, size, body, origin_bytes) FROM STDIN

-- name: insert_staged_payloads
-- New payloads only; identical bytes seen before (any source, any path) are stored once.
-- Ids follow file order, so versions in one drop are applied in the order they were filed.
INSERT INTO payload (sha256, source, origin, size, body, origin_bytes)
SELECT sha256, source, origin, size, body, origin_bytes FROM (
    SELECT DISTINCT ON (sha256) sha256, source, origin, size, body, origin_bytes
    FROM payload_stage
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

-- name: articles_by_keys
SELECT id, item_key, source, raw_item_id, format, version, version_created, first_created,
       published_at, pub_status, ed_stat, killed, headline, headline_tag, story_text,
       word_count, attributions, read_more, lineage, content_sha256, version_count, pending,
       origin_ed_stat, origin_tag, origin_version_created
FROM article WHERE item_key = ANY(%(keys)s)

-- name: article_ids_for_keys
SELECT item_key, id FROM article WHERE item_key = ANY(%(keys)s)

-- name: known_versions
SELECT item_key, version, content_sha256 FROM raw_item WHERE item_key = ANY(%(keys)s)

-- name: create_raw_item_stage
CREATE TEMP TABLE IF NOT EXISTS raw_item_stage (
    id bigint, payload_id bigint, source text, item_key text, version text,
    version_created timestamptz, pub_status text, ed_stat text, content_sha256 bytea
) ON COMMIT DELETE ROWS

-- name: copy_raw_item_stage
COPY raw_item_stage (id, payload_id, source, item_key, version, version_created, pub_status,
                     ed_stat, content_sha256) FROM STDIN

-- name: insert_staged_raw_items
INSERT INTO raw_item (id, payload_id, source, item_key, version, version_created, pub_status,
                      ed_stat, content_sha256)
OVERRIDING SYSTEM VALUE
SELECT id, payload_id, source, item_key, version, version_created, pub_status, ed_stat,
       content_sha256
FROM raw_item_stage ORDER BY id

-- name: create_article_stage
CREATE TEMP TABLE IF NOT EXISTS article_stage (
    id bigint, item_key text, source text, raw_item_id bigint, format text, version text,
    version_created timestamptz, first_created timestamptz, published_at timestamptz,
    pub_status text, ed_stat text, killed boolean, headline text, headline_tag text,
    story_text text, word_count integer, attributions text[], read_more text[], lineage jsonb,
    content_sha256 bytea, version_count integer, pending boolean, origin_ed_stat text,
    origin_tag text, origin_version_created timestamptz, touch boolean
) ON COMMIT DELETE ROWS

-- name: copy_article_stage
COPY article_stage (id, item_key, source, raw_item_id, format, version, version_created,
                    first_created, published_at, pub_status, ed_stat, killed, headline,
                    headline_tag, story_text, word_count, attributions, read_more, lineage,
                    content_sha256, version_count, pending, origin_ed_stat, origin_tag,
                    origin_version_created, touch) FROM STDIN

-- name: insert_staged_articles
INSERT INTO article (id, item_key, source, raw_item_id, format, version, version_created,
                     first_created, published_at, pub_status, ed_stat, killed, headline,
                     headline_tag, story_text, word_count, attributions, read_more, lineage,
                     content_sha256, version_count, pending, origin_ed_stat, origin_tag,
                     origin_version_created)
OVERRIDING SYSTEM VALUE
SELECT id, item_key, source, raw_item_id, format, version, version_created, first_created,
       published_at, pub_status, ed_stat, killed, headline, headline_tag, story_text,
       word_count, attributions, read_more, lineage, content_sha256, version_count, pending,
       origin_ed_stat, origin_tag, origin_version_created
FROM article_stage WHERE touch IS NULL ORDER BY id

-- name: update_staged_articles
-- Existing articles, with the state the chunk's versions left them in (decided item by
-- item in order of arrival by pipeline.merge.versions).
UPDATE article a SET raw_item_id = s.raw_item_id, format = s.format, version = s.version,
       version_created = s.version_created, first_created = s.first_created,
       published_at = s.published_at, pub_status = s.pub_status, ed_stat = s.ed_stat,
       killed = s.killed, headline = s.headline, headline_tag = s.headline_tag,
       story_text = s.story_text, word_count = s.word_count, attributions = s.attributions,
       read_more = s.read_more, lineage = s.lineage, content_sha256 = s.content_sha256,
       version_count = s.version_count, pending = s.pending,
       origin_ed_stat = s.origin_ed_stat, origin_tag = s.origin_tag,
       origin_version_created = s.origin_version_created,
       updated_at = CASE WHEN s.touch THEN now() ELSE a.updated_at END
FROM article_stage s
WHERE s.touch IS NOT NULL AND a.id = s.id

-- name: delete_text_of
-- Joins on the id list: one index probe per id whatever the statistics say.
DELETE FROM paragraph p USING unnest(%(ids)s::bigint[]) AS u(id) WHERE p.article_id = u.id

-- name: delete_captions_of
DELETE FROM caption c USING unnest(%(ids)s::bigint[]) AS u(id) WHERE c.article_id = u.id

-- name: copy_paragraphs
COPY paragraph (article_id, ord, kind, text, norm) FROM STDIN

-- name: copy_captions
COPY caption (article_id, ord, text, body, credit, norm) FROM STDIN

-- name: quarantine_many
INSERT INTO quarantine (payload_id, item_key, reason)
SELECT * FROM unnest(%(payload_ids)s::bigint[], %(item_keys)s::text[], %(reasons)s::text[])
ON CONFLICT (payload_id, coalesce(item_key, '')) WHERE resolved_at IS NULL DO NOTHING

-- name: mark_payloads
UPDATE payload p SET status = u.status, format = u.format, item_count = u.item_count,
       parsed_at = now()
FROM unnest(%(ids)s::bigint[], %(statuses)s::text[], %(formats)s::text[],
            %(counts)s::integer[]) AS u(id, status, format, item_count)
WHERE p.id = u.id

-- name: requeue_payloads
-- Open quarantine entries (all, or one payload's) resolved, by whom; the payloads of parse
-- entries back to 'new' so they are parsed again, but those of format 'path' (a file or
-- folder that could not be read: no bytes to parse), which the caller reads again from
-- disk; the articles a dedup stage quarantined back in the queue of the next batch.
WITH q AS (
    UPDATE quarantine SET resolved_at = now(), resolution = %(resolution)s
    WHERE resolved_at IS NULL AND (%(payload_id)s::bigint IS NULL OR payload_id = %(payload_id)s)
    RETURNING payload_id, item_key, stage
), held AS (
    UPDATE article SET pending = true
    WHERE item_key IN (SELECT item_key FROM q WHERE stage <> 'parse')
    RETURNING id
), reparse AS (
    UPDATE payload SET status = CASE WHEN format = 'path' THEN 'parsed' ELSE 'new' END
    WHERE id IN (SELECT payload_id FROM q WHERE stage = 'parse')
    RETURNING id, format
)
SELECT id, CASE WHEN format = 'path' THEN 'path' ELSE 'payload' END AS what FROM reparse
UNION ALL SELECT id, 'article' FROM held

-- name: path_payloads
-- Where the files and folders of these 'path' payloads are: origin, or its exact bytes
-- when the name is not UTF-8.
SELECT id, source, origin, origin_bytes FROM payload WHERE id = ANY(%(ids)s) ORDER BY id

-- name: open_quarantine
SELECT q.id, q.payload_id, q.item_key, q.reason, q.stage, q.created_at, p.source, p.origin,
       p.format
FROM quarantine q JOIN payload p ON p.id = q.payload_id
WHERE q.resolved_at IS NULL
ORDER BY q.id DESC
LIMIT %(limit)s OFFSET %(offset)s

-- name: count_open_quarantine
SELECT count(*) AS n FROM quarantine WHERE resolved_at IS NULL
