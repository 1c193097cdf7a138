-- What the operator dashboard's pages read. Every page query is bounded: by a time
-- window, by a keyset page, or by one story's ids; see 0003_dashboard.sql for the
-- indexes they run on.

-- name: session
-- Page queries have optional filters ("param IS NULL OR ..."): plan them with the actual
-- values every time, never with a generic plan that has to serve every combination.
SELECT set_config('plan_cache_mode', 'force_custom_plan', false)

-- name: last_runs
-- The latest run of every stage (a skip scan over run_stage_idx: one index probe per
-- distinct stage, however long the run log is) and the status of its ten previous runs.
WITH RECURSIVE stages(stage) AS (
    (SELECT stage FROM run ORDER BY stage LIMIT 1)
    UNION ALL
    SELECT (SELECT r.stage FROM run r WHERE r.stage > s.stage ORDER BY r.stage LIMIT 1)
    FROM stages s WHERE s.stage IS NOT NULL
)
SELECT last.*, recent.statuses, recent.durations
FROM stages s
CROSS JOIN LATERAL (
    SELECT r.id, r.stage, r.batch_key, r.started_at, r.finished_at, r.status, r.counts,
           r.seconds, r.error, r.host, extract(epoch FROM now() - r.started_at) AS age_s,
           r.dag_id, r.dag_run_id, r.task_id, r.map_index
    FROM run r WHERE r.stage = s.stage ORDER BY r.started_at DESC LIMIT 1
) last
CROSS JOIN LATERAL (
    SELECT array_agg(x.status ORDER BY x.started_at) AS statuses,
           array_agg(coalesce(x.seconds, 0) ORDER BY x.started_at) AS durations
    FROM (SELECT r.status, r.seconds, r.started_at FROM run r WHERE r.stage = s.stage
          ORDER BY r.started_at DESC LIMIT 12) x
) recent
WHERE s.stage IS NOT NULL

-- name: window_ends
-- The overview's windows end at the newest publication, not at now(): an idle or archived
-- database still shows its last days. Each max() is one index probe.
SELECT (SELECT max(published_at) FROM article) AS last_published,
       (SELECT max(created_at) FROM quarantine) AS last_quarantined

-- name: published_per_day
-- Counted by the day the copy was published, not the day it arrived: a backfill of a
-- month spreads over its month instead of piling onto the day it was loaded.
SELECT date_trunc('day', published_at, 'UTC') AS day, source, count(*) AS n
FROM article
WHERE published_at >= %(since)s AND published_at < %(until)s
GROUP BY 1, 2 ORDER BY 1, 2

-- name: stories_per_day
-- Live stories by the day they were first published, how many articles they hold, and
-- how many of those are copies of another (every member but one): the day's duplicate rate.
SELECT date_trunc('day', first_published, 'UTC') AS day,
       count(*) AS stories,
       coalesce(sum(member_count), 0) AS articles,
       coalesce(sum(member_count - 1), 0) AS duplicates
FROM story
WHERE merged_into IS NULL AND member_count > 0
  AND first_published >= %(since)s AND first_published < %(until)s
GROUP BY 1 ORDER BY 1

-- name: quarantine_per_day
SELECT date_trunc('day', created_at, 'UTC') AS day, count(*) AS n,
       count(*) FILTER (WHERE resolved_at IS NULL) AS still_open
FROM quarantine
WHERE created_at >= %(since)s AND created_at < %(until)s
GROUP BY 1 ORDER BY 1

-- name: caption_reuse_window
-- Photos (caption groups) first seen in the window that were printed more than once, and
-- how many of them by more than one story. One index probe per caption of those photos.
SELECT count(*) FILTER (WHERE g.captions > 1) AS groups,
       count(*) FILTER (WHERE g.stories > 1) AS across_stories
FROM (
    SELECT cg.id, count(*) AS captions, count(DISTINCT m.story_id) AS stories
    FROM caption_group cg
    JOIN caption c ON c.group_id = cg.id
    LEFT JOIN LATERAL (
        SELECT sm.story_id FROM story_member sm
        WHERE sm.article_id = c.article_id AND sm.role <> 'contributor' LIMIT 1
    ) m ON true
    WHERE cg.created_at >= %(since)s AND cg.created_at < %(until)s
    GROUP BY cg.id
) g

-- name: table_estimates
-- Planner estimates (instant at any size) for the footer of the overview.
SELECT c.relname AS t, greatest(c.reltuples, 0)::bigint AS n
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind = 'r'
  AND c.relname IN ('article', 'story', 'raw_item', 'caption', 'edge', 'payload')

-- name: story_page
-- One page of live stories in keyset order, after (or before) the cursor. Optional
-- filters: NULL means "any". {key} is updated_at (latest activity first) or first_published
-- (used with a date filter: walking the update order would scan far for an old date; a
-- story without a live member has no publication time and is left out of this order);
-- {direction} and {after} read the page downwards (DESC, <) or, for the page before the
-- cursor, upwards (ASC, >), which the caller reverses. The store composes the three from a
-- fixed list with psycopg.sql, so every variant stays on story_page_idx or
-- story_first_published_idx.
SELECT s.id, s.headline, s.member_count, s.sources, s.has_kill, s.first_published,
       s.created_at, s.updated_at, ca.item_key AS canonical_key, ca.source AS canonical_source,
       ca.killed AS canonical_killed
FROM story s
LEFT JOIN article ca ON ca.id = s.canonical_article_id
WHERE s.merged_into IS NULL AND s.member_count > 0 AND s.{key} IS NOT NULL
  AND (%(q)s::text IS NULL
       OR s.headline_search @@ websearch_to_tsquery('simple', %(q)s))
  AND (%(source)s::text IS NULL OR %(source)s = ANY (s.sources))
  AND (%(min_members)s::int IS NULL OR s.member_count >= %(min_members)s)
  AND (%(max_members)s::int IS NULL OR s.member_count <= %(max_members)s)
  AND (%(has_kill)s::boolean IS NULL OR s.has_kill = %(has_kill)s)
  AND (%(date_from)s::timestamptz IS NULL OR s.first_published >= %(date_from)s)
  AND (%(date_to)s::timestamptz IS NULL OR s.first_published < %(date_to)s)
  AND (%(cursor_ts)s::timestamptz IS NULL
       OR (s.{key}, s.id) {after} (%(cursor_ts)s, %(cursor_id)s::bigint))
ORDER BY s.{key} {direction}, s.id {direction}
LIMIT %(limit)s

-- name: members_per_source
SELECT m.story_id, a.source, count(*) AS n, count(*) FILTER (WHERE a.killed) AS killed
FROM story_member m JOIN article a ON a.id = m.article_id
WHERE m.story_id = ANY(%(story_ids)s) AND m.role <> 'contributor'
GROUP BY m.story_id, a.source
ORDER BY m.story_id, a.source

-- name: sources
-- The sources seen so far, for the filter menus (a skip scan over article_source_idx).
WITH RECURSIVE s(source) AS (
    (SELECT source FROM article ORDER BY source LIMIT 1)
    UNION ALL
    SELECT (SELECT a.source FROM article a WHERE a.source > s.source ORDER BY a.source LIMIT 1)
    FROM s WHERE s.source IS NOT NULL
)
SELECT source FROM s WHERE source IS NOT NULL

-- name: story_of_article_key
SELECT m.story_id FROM article a JOIN story_member m ON m.article_id = a.id
WHERE a.item_key = %(key)s AND m.role <> 'contributor'

-- name: story
SELECT s.id, s.canonical_article_id, s.headline, s.member_count, s.sources, s.has_kill,
       s.first_published, s.created_at, s.updated_at, s.merged_into, b.key AS batch_key,
       b.dag_id AS batch_dag_id, b.dag_run_id AS batch_dag_run_id
FROM story s LEFT JOIN batch b ON b.id = s.batch_id
WHERE s.id = %(id)s

-- name: story_members
SELECT m.article_id, m.role, m.similarity, m.reason,
       a.item_key, a.source, a.format, a.headline, a.headline_tag, a.killed, a.pub_status,
       a.ed_stat, a.version, a.version_count, a.version_created, a.first_created,
       a.published_at, a.word_count, a.attributions, a.updated_at
FROM story_member m JOIN article a ON a.id = m.article_id
WHERE m.story_id = %(story_id)s
ORDER BY CASE m.role WHEN 'canonical' THEN 0 WHEN 'version' THEN 1 WHEN 'duplicate' THEN 2
                     ELSE 3 END,
         a.published_at, a.id

-- name: versions
-- Every version received of the given items, oldest first.
SELECT r.item_key, r.version, r.version_created, r.pub_status, r.ed_stat, r.received_at,
       p.origin, p.id AS payload_id
FROM raw_item r JOIN payload p ON p.id = r.payload_id
WHERE r.item_key = ANY(%(keys)s)
ORDER BY r.item_key, r.version_created NULLS FIRST, r.id

-- name: edges_touching
-- Verified story pairs with at least one end among the given articles.
SELECT e.a, e.b, e.verdict, e.jaccard, e.containment, e.fuzz, e.para_overlap, e.reason,
       e.decided_at
FROM edge e
WHERE e.kind = 'story' AND (e.a = ANY(%(ids)s) OR e.b = ANY(%(ids)s))
ORDER BY (e.verdict = 'duplicate') DESC, greatest(e.jaccard, e.containment) DESC, e.a, e.b
LIMIT %(limit)s

-- name: articles_brief
-- Articles outside the story (edge partners, contributors) and the story each is in.
SELECT a.id, a.item_key, a.source, a.headline, a.killed, a.published_at, m.story_id
FROM article a
LEFT JOIN story_member m ON m.article_id = a.id AND m.role <> 'contributor'
WHERE a.id = ANY(%(ids)s)

-- name: provenance
SELECT p.kind, p.ord, p.text, p.article_id, p.source_ord, p.in_canonical, c.group_id
FROM provenance p
LEFT JOIN caption c ON p.kind = 'caption' AND c.article_id = p.article_id
                   AND c.ord = p.source_ord
WHERE p.story_id = %(story_id)s
ORDER BY p.kind DESC, p.ord

-- name: caption_group_reach
-- For a few caption groups: how many captions and stories use each photo.
SELECT c.group_id, count(*) AS captions, count(DISTINCT m.story_id) AS stories
FROM caption c
LEFT JOIN story_member m ON m.article_id = c.article_id AND m.role <> 'contributor'
WHERE c.group_id = ANY(%(group_ids)s)
GROUP BY c.group_id

-- name: story_history
-- Operator actions on this story, on the story it was merged with, and on stories that were
-- merged into it.
SELECT e.id, e.kind, e.story_id, e.other_story_id, e.article_id, e.who, e.why, e.outcome,
       e.created_at, a.item_key AS article_key, a.headline AS article_headline
FROM story_event e
LEFT JOIN article a ON a.id = e.article_id
WHERE e.story_id = %(story_id)s OR e.other_story_id = %(story_id)s
   OR e.story_id IN (SELECT id FROM story WHERE merged_into = %(story_id)s)
   OR e.other_story_id IN (SELECT id FROM story WHERE merged_into = %(story_id)s)
ORDER BY e.id DESC
LIMIT 100

-- name: article_text
-- One article's paragraphs (every kind) for the side-by-side diff.
SELECT article_id, ord, kind, text FROM paragraph
WHERE article_id = ANY(%(ids)s)
ORDER BY article_id, ord

-- name: article_captions
SELECT article_id, ord, text, group_id FROM caption
WHERE article_id = ANY(%(ids)s)
ORDER BY article_id, ord

-- name: caption_groups
-- Photos printed in the copy published in the window, with their reach over all time:
-- captions, stories and sources using the same photo. Bounded by the window: one index
-- probe per article of the window, then per caption of its photos. (The LIMITs inside the
-- LATERAL subqueries never cut anything; they keep the planner on those index probes
-- instead of hashing whole tables.)
WITH g AS (
    SELECT DISTINCT c.group_id
    FROM article a
    CROSS JOIN LATERAL (
        SELECT c.group_id FROM caption c
        WHERE c.article_id = a.id AND c.group_id IS NOT NULL LIMIT 1000
    ) c
    WHERE a.published_at >= %(since)s AND a.published_at < %(until)s
), agg AS (
    SELECT g.group_id, count(*) AS captions, count(DISTINCT m.story_id) AS stories,
           array_agg(DISTINCT a.source ORDER BY a.source) AS sources,
           min(a.published_at) AS first_seen, max(a.published_at) AS last_seen
    FROM g
    CROSS JOIN LATERAL (
        SELECT c.article_id FROM caption c WHERE c.group_id = g.group_id LIMIT 100000
    ) c
    JOIN article a ON a.id = c.article_id
    LEFT JOIN LATERAL (
        SELECT sm.story_id FROM story_member sm
        WHERE sm.article_id = c.article_id AND sm.role <> 'contributor' LIMIT 1
    ) m ON true
    GROUP BY g.group_id
    HAVING count(*) > 1 AND count(DISTINCT m.story_id) >= %(min_stories)s
)
SELECT agg.*, (SELECT cg.label FROM caption_group cg WHERE cg.id = agg.group_id) AS label
FROM agg
ORDER BY agg.stories DESC, agg.captions DESC, agg.group_id DESC
LIMIT %(limit)s OFFSET %(offset)s

-- name: caption_group_stories
-- The stories that use each of the given photos, with the caption text each one printed.
SELECT c.group_id, m.story_id, s.headline, count(*) AS captions,
       min(c.text) AS sample_text, array_agg(DISTINCT a.source ORDER BY a.source) AS sources
FROM caption c
JOIN article a ON a.id = c.article_id
JOIN story_member m ON m.article_id = c.article_id AND m.role <> 'contributor'
JOIN story s ON s.id = m.story_id
WHERE c.group_id = ANY(%(group_ids)s)
GROUP BY c.group_id, m.story_id, s.headline
ORDER BY c.group_id, m.story_id

-- name: caption_group
SELECT id, label, created_at FROM caption_group WHERE id = %(id)s

-- name: caption_group_captions
SELECT c.id, c.article_id, c.ord, c.text, c.credit, a.item_key, a.source, a.published_at,
       m.story_id
FROM caption c
JOIN article a ON a.id = c.article_id
LEFT JOIN story_member m ON m.article_id = c.article_id AND m.role <> 'contributor'
WHERE c.group_id = %(group_id)s
ORDER BY a.published_at, c.id
LIMIT 500

-- name: quarantine_page
-- Open quarantine entries, newest first, keyset on id (quarantine_open_id_idx).
SELECT q.id, q.payload_id, q.item_key, q.reason, q.stage, q.created_at, p.source, p.origin,
       p.format, p.size, p.received_at
FROM quarantine q JOIN payload p ON p.id = q.payload_id
WHERE q.resolved_at IS NULL
  AND (%(source)s::text IS NULL OR p.source = %(source)s)
  AND (%(before_id)s::bigint IS NULL OR q.id < %(before_id)s)
ORDER BY q.id DESC
LIMIT %(limit)s

-- name: quarantine_resolved
-- The latest entries that were dealt with (re-queued), for the record.
SELECT q.id, q.payload_id, q.item_key, q.reason, q.created_at, q.resolved_at, q.resolution,
       p.source, p.origin
FROM (SELECT * FROM quarantine WHERE resolved_at IS NOT NULL
      ORDER BY resolved_at DESC, id DESC LIMIT %(limit)s) q
JOIN payload p ON p.id = q.payload_id
ORDER BY q.resolved_at DESC, q.id DESC
