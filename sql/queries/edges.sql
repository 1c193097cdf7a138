-- Verified pairs (edges): what verification reads, its decisions, and the pairs that
-- clustering and crediting read back.

-- name: body_paragraphs
-- What verification needs per article: body paragraphs in similarity form and as printed
-- (names show by case), plus the wire metadata that changes how similarity is judged.
-- One index lookup per id into article and one into paragraph (whose key starts with
-- article_id), the correction note read from the same paragraphs, so the cost follows the
-- batch and never the size of history. Written as plain joins, the planner merge-joined
-- the sorted ids with all of article, expecting to stop early; the batch's ids are the
-- newest, so it read a million rows for a thousand ids. Each LATERAL lookup runs once per
-- id: OFFSET 0 keeps the article lookup from being flattened back into a join, and the
-- paragraphs' aggregate cannot be.
SELECT a.id AS article_id, p.norms, p.texts, a.source, a.item_key, a.origin_ed_stat,
       a.origin_tag, a.lineage, a.headline, a.headline_tag, a.published_at,
       p.correction_note
FROM unnest(%(ids)s::bigint[]) AS u(id)
CROSS JOIN LATERAL (SELECT * FROM article WHERE id = u.id OFFSET 0) a
CROSS JOIN LATERAL (
    SELECT array_agg(norm ORDER BY ord) FILTER (WHERE kind = 'body') AS norms,
           array_agg(text ORDER BY ord) FILTER (WHERE kind = 'body') AS texts,
           coalesce(bool_or(kind = 'correction'), false) AS correction_note,
           bool_or(kind = 'body') AS has_body
    FROM paragraph WHERE article_id = u.id
) p
WHERE p.has_body

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

-- name: duplicate_neighbours
-- The id lists here run to tens of thousands: each side joins unnest(ids), one index probe
-- per id; "a = ANY(ids) OR b = ANY(ids)" would recheck every heap row against the whole
-- list (seconds for a 20,000-article batch).
SELECT e.b AS id FROM unnest(%(ids)s::bigint[]) AS u(id)
JOIN edge e ON e.kind = 'story' AND e.a = u.id WHERE e.verdict = 'duplicate'
UNION
SELECT e.a FROM unnest(%(ids)s::bigint[]) AS u(id)
JOIN edge e ON e.kind = 'story' AND e.b = u.id WHERE e.verdict = 'duplicate'

-- name: edges_among
WITH ids AS (SELECT DISTINCT unnest(%(ids)s::bigint[]) AS id)
SELECT e.a, e.b, e.verdict, e.jaccard, e.containment, e.para_overlap, e.reason
FROM ids JOIN edge e ON e.kind = 'story' AND e.a = ids.id
WHERE e.b IN (SELECT id FROM ids)
ORDER BY e.a, e.b

-- name: borrowing_edges
-- Verified pairs sharing at least one paragraph: partial borrowing ("contributor"), or a
-- "duplicate" that clustering may refuse, in which case it is borrowing too.
SELECT * FROM (
    SELECT e.a, e.b, e.verdict, e.para_overlap, e.reason
    FROM unnest(%(ids)s::bigint[]) AS u(id) JOIN edge e ON e.kind = 'story' AND e.a = u.id
    WHERE e.verdict IN ('contributor', 'duplicate') AND e.para_overlap > 0
    UNION
    SELECT e.a, e.b, e.verdict, e.para_overlap, e.reason
    FROM unnest(%(ids)s::bigint[]) AS u(id) JOIN edge e ON e.kind = 'story' AND e.b = u.id
    WHERE e.verdict IN ('contributor', 'duplicate') AND e.para_overlap > 0
) x ORDER BY a, b

-- name: caption_neighbours
SELECT e.a, e.b FROM unnest(%(ids)s::bigint[]) AS u(id)
JOIN edge e ON e.kind = 'caption' AND e.a = u.id WHERE e.verdict = 'duplicate'
UNION
SELECT e.a, e.b FROM unnest(%(ids)s::bigint[]) AS u(id)
JOIN edge e ON e.kind = 'caption' AND e.b = u.id WHERE e.verdict = 'duplicate'

-- name: delete_range_story_edges
-- Story edges touching an article of the range: the rebuild batch re-verifies every LSH
-- candidate of those articles, so only decisions that still have a candidate come back.
WITH r AS (
    SELECT id FROM article
    WHERE published_at >= %(since)s::timestamptz AND published_at < %(until)s::timestamptz
)
DELETE FROM edge
WHERE kind = 'story' AND (a IN (SELECT id FROM r) OR b IN (SELECT id FROM r))
