-- Set-based writes for large batches: ids allocated up front, rows COPYed into temporary
-- staging tables (no WAL, private to the session), then one statement per target table.

-- name: allocate_ids
-- Identity values taken in bulk so rows can reference each other before they are written
-- (raw_item -> article -> paragraph). Sequences are not transactional: a rolled-back
-- chunk leaves a gap in the ids, nothing else.
SELECT nextval(pg_get_serial_sequence(%(table)s, 'id')) AS id FROM generate_series(1, %(n)s)

-- name: articles_by_keys
SELECT * FROM article WHERE item_key = ANY(%(keys)s)

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
-- Existing articles, with the state the chunk's versions left them in (decided in order of
-- arrival by jobs.IngestPlan, exactly as the per-item statements in ingest.sql would).
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

-- name: mark_payloads
UPDATE payload p SET status = u.status, format = u.format, item_count = u.item_count,
       parsed_at = now()
FROM unnest(%(ids)s::bigint[], %(statuses)s::text[], %(formats)s::text[],
            %(counts)s::integer[]) AS u(id, status, format, item_count)
WHERE p.id = u.id

-- name: quarantine_many
INSERT INTO quarantine (payload_id, item_key, reason)
SELECT * FROM unnest(%(payload_ids)s::bigint[], %(item_keys)s::text[], %(reasons)s::text[])
ON CONFLICT (payload_id, coalesce(item_key, '')) WHERE resolved_at IS NULL DO NOTHING

-- name: copy_signatures_binary
COPY signature (config_id, kind, object_id, minhash, shingles) FROM STDIN (FORMAT binary)


-- name: copy_staged
COPY staged_story (batch_id, story_id, payload) FROM STDIN

-- name: create_story_stage
CREATE TEMP TABLE IF NOT EXISTS story_stage (
    id bigint, is_new boolean, canonical bigint, headline text, member_count integer,
    sources text[], has_kill boolean, first_published timestamptz, batch_id bigint
) ON COMMIT DELETE ROWS

-- name: copy_story_stage
COPY story_stage (id, is_new, canonical, headline, member_count, sources, has_kill,
                  first_published, batch_id) FROM STDIN

-- name: insert_staged_stories
INSERT INTO story (id, canonical_article_id, headline, member_count, sources, has_kill,
                   first_published, batch_id)
OVERRIDING SYSTEM VALUE
SELECT id, canonical, headline, member_count, sources, has_kill, first_published, batch_id
FROM story_stage WHERE is_new ORDER BY id

-- name: update_staged_stories
-- Only stories whose layout changed are touched (updated_at keeps meaning "changed").
UPDATE story s SET canonical_article_id = t.canonical, headline = t.headline,
       member_count = t.member_count, sources = t.sources, has_kill = t.has_kill,
       first_published = t.first_published, batch_id = t.batch_id, merged_into = NULL,
       updated_at = now()
FROM story_stage t
WHERE NOT t.is_new AND s.id = t.id
  AND (s.canonical_article_id IS DISTINCT FROM t.canonical
       OR s.headline IS DISTINCT FROM t.headline
       OR s.member_count IS DISTINCT FROM t.member_count
       OR s.sources IS DISTINCT FROM t.sources
       OR s.has_kill IS DISTINCT FROM t.has_kill
       OR s.first_published IS DISTINCT FROM t.first_published
       OR s.merged_into IS NOT NULL)

-- name: create_member_stage
CREATE TEMP TABLE IF NOT EXISTS member_stage (
    seq integer, story_id bigint, article_id bigint, role text, similarity real, reason text
) ON COMMIT DELETE ROWS

-- name: copy_member_stage
COPY member_stage (seq, story_id, article_id, role, similarity, reason) FROM STDIN

-- name: insert_staged_members
INSERT INTO story_member (story_id, article_id, role, similarity, reason)
SELECT DISTINCT ON (story_id, article_id) story_id, article_id, role, similarity, reason
FROM member_stage ORDER BY story_id, article_id, seq DESC
ON CONFLICT (story_id, article_id) DO UPDATE SET role = EXCLUDED.role,
    similarity = EXCLUDED.similarity, reason = EXCLUDED.reason

-- name: copy_provenance
COPY provenance (story_id, kind, ord, text, article_id, source_ord, in_canonical) FROM STDIN

-- name: insert_caption_groups
INSERT INTO caption_group (id, label) OVERRIDING SYSTEM VALUE
SELECT * FROM unnest(%(ids)s::bigint[], %(labels)s::text[])

-- name: delete_signatures_of
-- A join on the id list (not "= ANY"): one index probe per id whatever the statistics say.
DELETE FROM signature s USING unnest(%(ids)s::bigint[]) AS u(id)
WHERE s.config_id = %(config_id)s AND s.kind = %(kind)s AND s.object_id = u.id
RETURNING s.object_id

-- name: delete_band_keys_of
-- The objects' previous LSH rows, found by their exact keys through lsh_band_key_idx
-- (lsh_band is never searched by object), then their band_key rows.
WITH old AS (
    DELETE FROM band_key k USING unnest(%(ids)s::bigint[]) AS u(id)
    WHERE k.config_id = %(config_id)s AND k.kind = %(kind)s AND k.object_id = u.id
    RETURNING k.object_id, k.keys
)
DELETE FROM lsh_band b
USING (SELECT o.object_id, x.key FROM old o, unnest(o.keys) AS x(key)) d
WHERE b.key = d.key AND b.object_id = d.object_id

-- name: copy_band_keys
COPY band_key (config_id, kind, object_id, keys, published_at) FROM STDIN

-- name: copy_lsh_band
COPY lsh_band (key, object_id, published_at) FROM STDIN (FORMAT binary)

-- name: table_sizes
-- Row counts as of the last ANALYZE (or VACUUM); -1 for a table never analysed.
SELECT relname, reltuples FROM pg_class
WHERE relname = ANY(%(tables)s) AND relkind = 'r' AND relnamespace = 'public'::regnamespace

-- name: bulk_transaction_settings
-- For stages whose output is derived and rewritten on re-run (ingest chunks, sign,
-- candidates, verify): a commit need not wait for its WAL flush. A crash can lose at most
-- the last few commits of such a stage, and the stage's own state (payload status, batch
-- state, delete-then-insert of its rows) makes the next run redo exactly that work; nothing
-- is ever half-applied, because a lost commit is lost whole. Not used by publish, whose
-- result others read. work_mem lets the batch-sized joins and sorts run in memory.
SELECT set_config('synchronous_commit', 'off', true), set_config('work_mem', '64MB', true)

-- name: create_band_probe
CREATE TEMP TABLE IF NOT EXISTS band_probe (
    kind text, key bigint, object_id bigint, published_at timestamptz
) ON COMMIT DELETE ROWS

-- name: truncate_band_probe
TRUNCATE band_probe

-- name: analyze_band_probe
ANALYZE band_probe

-- name: fill_band_probe
-- The batch's own band keys, unnested from band_key into a table the planner has real
-- statistics for (after ANALYZE): it then chooses index probes for a batch of a thousand
-- against millions, and a hash join for a batch as large as history. unnest() inside the
-- join is always estimated at 10 rows per object, which led it to 770,000 index probes
-- (12 s) where a hash join takes under 2 s.
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

-- name: create_band_hits
CREATE TEMP TABLE IF NOT EXISTS band_hits (
    kind text, a bigint, b bigint, key bigint
) ON COMMIT DELETE ROWS

-- name: truncate_band_hits
TRUNCATE band_hits

-- name: fill_band_hits
-- Every (batch object, history object) pair sharing an LSH key inside the time window, all
-- kinds in one pass over lsh_band (a hash join for a big batch, index probes for a small
-- one); the candidate queries then read this small table. Slot keys look only as far as
-- a re-send can be: beyond it, only a full repeat is the same item, and story keys find
-- those.
INSERT INTO band_hits (kind, a, b, key)
SELECT n.kind, n.object_id, h.object_id, n.key
FROM band_probe n
JOIN lsh_band h ON h.key = n.key
CROSS JOIN LATERAL (SELECT CASE WHEN n.kind = 'slots'
                                THEN make_interval(secs => %(slot_window_hours)s * 3600)
                                ELSE make_interval(days => %(window_days)s) END AS w) win
WHERE h.object_id <> n.object_id
  AND h.published_at BETWEEN n.published_at - win.w AND n.published_at + win.w

-- name: delete_text_of
-- Joins on the id list: one index probe per id whatever the statistics say.
DELETE FROM paragraph p USING unnest(%(ids)s::bigint[]) AS u(id) WHERE p.article_id = u.id

-- name: delete_captions_of
DELETE FROM caption c USING unnest(%(ids)s::bigint[]) AS u(id) WHERE c.article_id = u.id

-- name: prefer_index_probes
-- For the next statement only (allow_hash_joins undoes it): a small batch against a large
-- history, where index probes beat scanning history (see Repository.fill_band_hits).
SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)

-- name: allow_hash_joins
SELECT set_config('enable_hashjoin', 'on', true), set_config('enable_mergejoin', 'on', true)
