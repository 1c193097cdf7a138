-- Verified pairs (edges): what verification reads, its decisions, and the pairs that
-- clustering and crediting read back.

-- name: body_paragraphs
-- What verification needs per article: body paragraphs in similarity form and as printed
-- (names show by case), plus the wire metadata that changes how similarity is judged.
-- Driven by the id list, one index probe per article into article and into paragraph
-- (whose key starts with article_id), and the correction note read from the same
-- paragraphs: the cost follows the batch, never the size of history. A join on
-- "article_id = ANY(ids)" let the planner merge-join all of article (0.4 s at a million
-- articles for a thousand ids) and look for correction notes in every paragraph.
SELECT a.id AS article_id,
       array_agg(p.norm ORDER BY p.ord) FILTER (WHERE p.kind = 'body') AS norms,
       array_agg(p.text ORDER BY p.ord) FILTER (WHERE p.kind = 'body') AS texts,
       a.source, a.item_key, a.origin_ed_stat, a.origin_tag, a.lineage, a.headline,
       a.headline_tag, a.published_at,
       bool_or(p.kind = 'correction') AS correction_note
FROM unnest(%(ids)s::bigint[]) AS u(id)
JOIN article a ON a.id = u.id
JOIN paragraph p ON p.article_id = u.id
GROUP BY a.id
HAVING bool_or(p.kind = 'body')

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
