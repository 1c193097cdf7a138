-- The run report, the story export and ``newsdedup explain``.

-- name: articles_per_source
SELECT source, count(*) AS articles, count(*) FILTER (WHERE killed) AS killed
FROM article GROUP BY source ORDER BY source

-- name: story_totals
SELECT count(*) AS stories,
       count(*) FILTER (WHERE member_count > 1) AS multi,
       coalesce(sum(member_count - 1) FILTER (WHERE member_count > 1), 0) AS duplicates
FROM story WHERE merged_into IS NULL AND member_count > 0

-- name: repeated_caption_groups
SELECT count(*) AS groups FROM (
    SELECT c.group_id FROM caption c WHERE c.group_id IS NOT NULL
    GROUP BY c.group_id HAVING count(*) > 1
) g

-- name: export_stories
SELECT s.id AS story_id, ca.item_key AS canonical, s.headline,
       array_agg(a.item_key ORDER BY (m.role = 'canonical') DESC, a.published_at, a.id)
           FILTER (WHERE m.role <> 'contributor') AS members,
       coalesce(array_agg(a.item_key ORDER BY a.id) FILTER (WHERE m.role = 'contributor'),
                '{}') AS contributors,
       coalesce(array_agg(a.item_key ORDER BY a.published_at, a.id)
                    FILTER (WHERE m.role <> 'contributor'
                            AND (a.killed OR a.pub_status = 'withheld')), '{}') AS killed_members
FROM story s
JOIN story_member m ON m.story_id = s.id
JOIN article a ON a.id = m.article_id
LEFT JOIN article ca ON ca.id = s.canonical_article_id
WHERE s.merged_into IS NULL AND s.member_count > 0
GROUP BY s.id, ca.item_key
ORDER BY s.id

-- name: export_record
-- The merged record (paragraphs, then captions) and the contributions of every live story,
-- each text with the item it is credited to.
SELECT p.story_id, p.kind, p.in_canonical, p.text, a.item_key AS credit
FROM provenance p
JOIN story s ON s.id = p.story_id
JOIN article a ON a.id = p.article_id
WHERE s.merged_into IS NULL AND s.member_count > 0
ORDER BY p.story_id, p.kind DESC, p.ord

-- name: record_members
-- What the merged-record check needs of every member of a live story: how it is marked
-- (correction, killed), when, and its body paragraphs.
SELECT a.item_key, a.source, a.headline, a.headline_tag, a.ed_stat,
       (a.killed OR a.pub_status = 'withheld') AS killed, a.first_created, a.version_created,
       a.word_count,
       coalesce((SELECT array_agg(p.text ORDER BY p.ord) FROM paragraph p
                 WHERE p.article_id = a.id AND p.kind = 'body'), '{}') AS paragraphs
FROM story_member m
JOIN story s ON s.id = m.story_id
JOIN article a ON a.id = m.article_id
WHERE s.merged_into IS NULL AND m.role <> 'contributor'

-- name: export_captions
SELECT m.story_id, c.text, c.group_id
FROM story_member m JOIN caption c ON c.article_id = m.article_id
JOIN story s ON s.id = m.story_id
WHERE m.role <> 'contributor' AND s.merged_into IS NULL
ORDER BY m.story_id, c.article_id, c.ord

-- name: article_by_key
SELECT * FROM article WHERE item_key = %(key)s

-- name: article_versions
SELECT r.version, r.version_created, r.pub_status, r.ed_stat, r.received_at, p.origin
FROM raw_item r JOIN payload p ON p.id = r.payload_id
WHERE r.item_key = %(key)s ORDER BY r.version_created NULLS FIRST, r.id

-- name: membership_of
SELECT m.story_id, m.role, m.similarity, m.reason, s.canonical_article_id, s.member_count,
       ca.item_key AS canonical_key, ca.headline AS canonical_headline
FROM story_member m JOIN story s ON s.id = m.story_id
LEFT JOIN article ca ON ca.id = s.canonical_article_id
WHERE m.article_id = %(id)s AND m.role <> 'contributor'

-- name: edges_of
SELECT e.kind, e.verdict, e.jaccard, e.containment, e.fuzz, e.para_overlap, e.reason,
       o.item_key AS other, o.headline AS other_headline
FROM edge e JOIN article o ON o.id = CASE WHEN e.a = %(id)s THEN e.b ELSE e.a END
WHERE e.kind = 'story' AND (e.a = %(id)s OR e.b = %(id)s)
ORDER BY (e.verdict = 'duplicate') DESC, e.jaccard DESC

-- name: story_members_brief
SELECT a.item_key, a.source, m.role, m.similarity, m.reason, a.killed, a.headline
FROM story_member m JOIN article a ON a.id = m.article_id
WHERE m.story_id = %(story_id)s
ORDER BY (m.role = 'canonical') DESC, a.published_at, a.id

-- name: story_provenance
SELECT p.kind, p.ord, p.text, p.in_canonical, a.item_key
FROM provenance p JOIN article a ON a.id = p.article_id
WHERE p.story_id = %(story_id)s ORDER BY p.kind DESC, p.ord

-- name: story_canonical_key
-- ``explain s6``: a story is told through its canonical item.
SELECT a.item_key FROM story s JOIN article a ON a.id = s.canonical_article_id
WHERE s.id = %(story_id)s

-- name: keys_ending_with
-- ``explain L1N3CU0QQ``: a bare id is the tail of an item key (a sequential scan, fine
-- for one command-line lookup). The caller checks the character before the tail.
SELECT item_key FROM article
WHERE right(item_key, length(%(tail)s)) = %(tail)s
ORDER BY item_key LIMIT 20

-- name: largest_story
-- The run report's suggestion of an item worth explaining.
SELECT a.item_key, s.id AS story_id, s.member_count
FROM story s JOIN article a ON a.id = s.canonical_article_id
WHERE s.merged_into IS NULL AND s.member_count > 1
ORDER BY s.member_count DESC, s.id LIMIT 1
