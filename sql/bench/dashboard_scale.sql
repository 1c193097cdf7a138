-- Synthetic history for measuring the dashboard at scale (bench/dashboard_pages.py).
-- A year of wire copy: %(articles)s articles in stories of 1-12 members, their versions,
-- payloads, paragraphs, captions (some photos reused across stories), verified pairs,
-- provenance, a run log with a stage execution every 35 minutes, quarantine entries and
-- operator actions. Run against an empty, migrated scratch database only.

-- name: scale_stories
-- Story sizes drawn from a skewed distribution (mean about 1.95 members); each story owns
-- a contiguous range of article ids.
CREATE TABLE bench_story AS
WITH sized AS (
    SELECT g AS sid,
           CASE WHEN r < 0.55 THEN 1 WHEN r < 0.80 THEN 2 WHEN r < 0.92 THEN 3
                WHEN r < 0.98 THEN 5 ELSE 12 END AS n
    FROM (SELECT g, random() AS r
          FROM generate_series(1, (%(articles)s / 1.95)::int) g) x
)
SELECT sid, n, sum(n) OVER (ORDER BY sid) - n + 1 AS first_article
FROM sized

-- name: scale_trim
DELETE FROM bench_story WHERE first_article > %(articles)s

-- name: scale_config
INSERT INTO dedup_config (fingerprint, config) VALUES ('bench', '{}') RETURNING id

-- name: scale_batches
INSERT INTO batch (key, config_id, state, created_at, published_at)
SELECT 'bench-' || g, %(config_id)s, 'published',
       timestamptz '2025-06-20' + (g * interval '30 minutes'),
       timestamptz '2025-06-20' + (g * interval '30 minutes') + interval '2 minutes'
FROM generate_series(1, 17520) g

-- name: scale_payloads
INSERT INTO payload (sha256, source, origin, size, body, received_at, format, status, item_count, parsed_at)
OVERRIDING SYSTEM VALUE
SELECT sha256(int8send(a)), src, '/data/inbox/' || src || '/bench-' || a || '.xml', 1,
       '\x00'::bytea, t, 'bench', 'parsed', 1, t
FROM (SELECT a,
             (ARRAY['reuters','reuters','reuters','reuters','reuters','reuters','reuters',
                    'reuters','reuters','xinhua','xinhua','xinhua','xinhua','xinhua','xinhua',
                    'xinhua','cgtn','cgtn','cgtn','cgtn'])[1 + a %% 20] AS src,
             timestamptz '2025-06-20' + (a::float8 / %(articles)s) * interval '365 days' AS t
      FROM generate_series(1, %(articles)s) a) x

-- name: scale_raw_items
INSERT INTO raw_item (payload_id, source, item_key, version, version_created, pub_status,
                      ed_stat, content_sha256, received_at)
SELECT p.id, p.source, p.source || ':bench-' || p.id, '1', p.received_at, 'usable', '',
       p.sha256, p.received_at + interval '3 minutes'
FROM payload p
UNION ALL
SELECT p.id, p.source, p.source || ':bench-' || p.id, '2', p.received_at + interval '2 hours',
       'usable', 'U', sha256(p.sha256), p.received_at + interval '2 hours 3 minutes'
FROM payload p WHERE p.id %% 10 = 0 AND p.source = 'reuters'

-- name: scale_articles
-- Headlines from a small newsroom vocabulary, so searches hit realistic numbers of rows.
INSERT INTO article (id, item_key, source, raw_item_id, format, version, version_created,
                     first_created, published_at, pub_status, ed_stat, killed, headline,
                     headline_tag, story_text, word_count, content_sha256, version_count,
                     updated_at, pending)
OVERRIDING SYSTEM VALUE
SELECT p.id, r.item_key, r.source, r.id, 'bench', r.version, r.version_created, p.received_at,
       p.received_at, CASE WHEN p.id %% 997 = 0 THEN 'canceled' ELSE 'usable' END, '',
       p.id %% 997 = 0,
       w1 || ' ' || w2 || ' ' || w3 || ' in ' || place || ' (' || (p.id %% 1000) || ')',
       CASE WHEN r.version = '2' THEN 'UPDATE 1' ELSE '' END,
       w1 || ' ' || w2 || ' ' || w3 || ' story text for bench article ' || p.id, 40,
       r.content_sha256, CASE WHEN r.version = '2' THEN 2 ELSE 1 END, r.received_at, false
FROM payload p
JOIN (SELECT DISTINCT ON (payload_id) * FROM raw_item ORDER BY payload_id, version DESC) r
  ON r.payload_id = p.id
CROSS JOIN LATERAL (
    SELECT (ARRAY['Copper','Oil','Power','Election','Typhoon','Markets','Satellite','Rugby',
                  'Tennis','Rates','Wheat','Shipping','Budget','Strike','Summit','Floods',
                  'Airline','Mining','Bank','Currency'])[1 + (p.id / 7) %% 20] AS w1,
           (ARRAY['output','prices','talks','vote','warning','rally','launch','final',
                  'deal','slump','exports','plan','protest','record','outlook'])[1 + (p.id / 3) %% 15] AS w2,
           (ARRAY['rises','falls','stalls','surges','slows','resumes','collapses','holds',
                  'widens','eases','doubles','halves'])[1 + (p.id / 11) %% 12] AS w3,
           (ARRAY['Chile','Japan','Brazil','Kenya','Peru','Norway','Vietnam','Canada',
                  'Egypt','India','Mexico','Poland','Ghana','Chile','Spain'])[1 + (p.id / 13) %% 15] AS place
) words

-- name: scale_paragraphs
INSERT INTO paragraph (article_id, ord, kind, text, norm)
SELECT a.id, o, 'body',
       'Paragraph ' || o || ' of bench article ' || a.id || ': ' || a.story_text ||
       ', officials said on the day, adding that more details would follow.',
       'paragraph ' || o || ' ' || a.story_text
FROM article a CROSS JOIN generate_series(0, 2) o

-- name: scale_caption_groups
INSERT INTO caption_group (id, label, created_at)
OVERRIDING SYSTEM VALUE
SELECT s.sid, 'Photo for bench story ' || s.sid || ': crowds gather in the rain. /VCG Photo',
       timestamptz '2025-06-20' + (s.first_article::float8 / %(articles)s) * interval '365 days'
FROM bench_story s WHERE s.sid %% 3 = 0

-- name: scale_captions
-- Members of every third story print that story's photo; one story in 20 reuses the photo
-- of a story from about a week earlier.
INSERT INTO caption (article_id, ord, text, body, credit, norm, group_id)
SELECT a, 0, cg.label, cg.label, 'VCG', 'crowds gather in the rain', cg.id
FROM bench_story s
CROSS JOIN LATERAL generate_series(s.first_article, least(s.first_article + s.n - 1, %(articles)s)) a
JOIN caption_group cg ON cg.id = CASE WHEN s.sid %% 60 = 0 AND s.sid > 6000
                                      THEN s.sid - 5403 ELSE s.sid END
WHERE s.sid %% 3 = 0

-- name: scale_story_rows
INSERT INTO story (id, canonical_article_id, headline, member_count, sources, has_kill,
                   first_published, created_at, updated_at, batch_id)
OVERRIDING SYSTEM VALUE
SELECT s.sid, ca.id, ca.headline, least(s.n, %(articles)s - s.first_article + 1),
       (SELECT array_agg(DISTINCT a.source ORDER BY a.source) FROM article a
        WHERE a.id BETWEEN s.first_article AND s.first_article + s.n - 1),
       EXISTS (SELECT 1 FROM article a WHERE a.id BETWEEN s.first_article
               AND s.first_article + s.n - 1 AND a.killed),
       ca.published_at, ca.published_at + interval '5 minutes',
       ca.published_at + interval '5 minutes' + (s.n - 1) * interval '40 minutes',
       1 + (s.first_article * 17519 / %(articles)s)
FROM bench_story s JOIN article ca ON ca.id = s.first_article

-- name: scale_members
INSERT INTO story_member (story_id, article_id, role, similarity, reason)
SELECT s.sid, a,
       CASE WHEN a = s.first_article THEN 'canonical'
            WHEN (a - s.first_article) %% 4 = 1 THEN 'version' ELSE 'duplicate' END,
       CASE WHEN a = s.first_article THEN 1 ELSE 0.6 + ((a %% 40) / 100.0) END,
       CASE WHEN a = s.first_article THEN 'canonical: chosen by rules'
            ELSE 'same story: 3-gram Jaccard 0.' || (50 + a %% 40) || ', containment 0.9' END
FROM bench_story s
CROSS JOIN LATERAL generate_series(s.first_article, least(s.first_article + s.n - 1, %(articles)s)) a

-- name: scale_edges
INSERT INTO edge (kind, a, b, verdict, jaccard, containment, fuzz, para_overlap, reason, batch_id)
SELECT 'story', s.first_article, a, 'duplicate', 0.5 + (a %% 40) / 100.0, 0.9, 90, 0.8,
       'same story: 3-gram Jaccard 0.' || (50 + a %% 40) || ', containment 0.90', 1
FROM bench_story s
CROSS JOIN LATERAL generate_series(s.first_article + 1, least(s.first_article + s.n - 1, %(articles)s)) a
UNION ALL
SELECT 'story', s.first_article, s.first_article + s.n, 'distinct', 0.2, 0.3, 40, 0.1,
       'different stories: 3-gram Jaccard 0.20', 1
FROM bench_story s WHERE s.sid %% 10 = 0 AND s.first_article + s.n <= %(articles)s

-- name: scale_provenance
INSERT INTO provenance (story_id, kind, ord, text, article_id, source_ord, in_canonical)
SELECT s.sid, 'paragraph', o, 'Paragraph ' || o || ' of the merged record of story ' || s.sid,
       s.first_article + (o %% s.n), o, o < 3
FROM bench_story s CROSS JOIN generate_series(0, 3) o
WHERE s.first_article + s.n - 1 <= %(articles)s

-- name: scale_runs
INSERT INTO run (stage, batch_key, started_at, finished_at, status, counts, seconds, host)
SELECT st, CASE WHEN st LIKE 'ingest:%%' THEN NULL ELSE 'bench-' || (t %% 17520 + 1) END,
       timestamptz '2025-06-20' + t * interval '35 minutes',
       timestamptz '2025-06-20' + t * interval '35 minutes' + interval '20 seconds',
       CASE WHEN (t + length(st)) %% 97 = 0 THEN 'failed' ELSE 'ok' END,
       jsonb_build_object('articles', 60 + t %% 50), 0.5 + (t %% 30) / 10.0, 'bench'
FROM generate_series(1, 15000) t
CROSS JOIN unnest(ARRAY['ingest:reuters','ingest:xinhua','ingest:cgtn','open_batch','sign',
                        'candidates','verify','cluster_merge','publish']) st

-- name: scale_quarantine
INSERT INTO quarantine (payload_id, item_key, reason, created_at, resolved_at, resolution)
SELECT p, NULL, 'not well-formed (invalid token): line 1, column ' || (p %% 80),
       timestamptz '2025-06-20' + (p::float8 / %(articles)s) * interval '365 days',
       CASE WHEN p %% 40 = 0 THEN NULL
            ELSE timestamptz '2025-06-20' + (p::float8 / %(articles)s) * interval '365 days'
                 + interval '1 day' END,
       CASE WHEN p %% 40 = 0 THEN NULL ELSE 'requeued' END
FROM generate_series(50, %(articles)s, 50) p

-- name: scale_events
INSERT INTO story_event (kind, story_id, other_story_id, article_id, who, why, outcome, created_at)
SELECT 'never_merge', s.sid, s.sid + 1, NULL, 'bench', 'different events', 'kept apart',
       timestamptz '2026-06-01'
FROM bench_story s WHERE s.sid %% 250 = 0 AND s.sid + 1 <= (SELECT max(sid) FROM bench_story)

-- name: scale_sequences
-- Rows were written with explicit ids: move the identity sequences past them.
SELECT setval(pg_get_serial_sequence('article', 'id'), (SELECT max(id) FROM article)),
       setval(pg_get_serial_sequence('payload', 'id'), (SELECT max(id) FROM payload)),
       setval(pg_get_serial_sequence('story', 'id'), (SELECT max(id) FROM story)),
       setval(pg_get_serial_sequence('caption_group', 'id'), (SELECT max(id) FROM caption_group))

-- name: scale_analyze
ANALYZE

-- name: scale_drop_helper
DROP TABLE bench_story

-- name: scale_counts
SELECT (SELECT count(*) FROM article) AS articles, (SELECT count(*) FROM story) AS stories,
       (SELECT count(*) FROM raw_item) AS versions, (SELECT count(*) FROM caption) AS captions,
       (SELECT count(*) FROM edge) AS edges, (SELECT count(*) FROM run) AS runs,
       (SELECT count(*) FROM provenance) AS provenance

-- name: scale_has_articles
SELECT EXISTS (SELECT 1 FROM article) AS yes

-- name: pick_pages
-- The rows the timed pages are about: the biggest and a single-member story, a member to
-- diff, a recent photo group.
SELECT (SELECT id FROM story WHERE merged_into IS NULL
        ORDER BY member_count DESC, id DESC LIMIT 1) AS big,
       (SELECT id FROM story WHERE member_count = 1 ORDER BY id DESC LIMIT 1) AS small,
       (SELECT group_id FROM caption WHERE group_id IS NOT NULL ORDER BY id DESC LIMIT 1) AS grp

-- name: pick_member
SELECT article_id FROM story_member WHERE story_id = %(story_id)s AND role <> 'canonical'
ORDER BY article_id LIMIT 1
