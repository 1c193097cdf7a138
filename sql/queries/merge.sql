-- Cluster, merge and publish.

-- name: batch_article_ids
SELECT article_id AS id FROM batch_article WHERE batch_id = %(batch_id)s ORDER BY article_id

-- name: duplicate_neighbours
-- (The id lists here run to tens of thousands: each side joins unnest(ids), one index probe
-- per id, instead of "a = ANY(ids) OR b = ANY(ids)", which rechecked every heap row against
-- the whole list: 5 s for a 20,000-article batch.)
SELECT e.b AS id FROM unnest(%(ids)s::bigint[]) AS u(id)
JOIN edge e ON e.kind = 'story' AND e.a = u.id WHERE e.verdict = 'duplicate'
UNION
SELECT e.a FROM unnest(%(ids)s::bigint[]) AS u(id)
JOIN edge e ON e.kind = 'story' AND e.b = u.id WHERE e.verdict = 'duplicate'

-- name: stories_of
SELECT article_id, story_id FROM story_member
WHERE article_id = ANY(%(ids)s) AND role <> 'contributor'

-- name: members_of_stories
SELECT article_id FROM story_member WHERE story_id = ANY(%(story_ids)s) AND role <> 'contributor'

-- name: canonicals_of
SELECT id, canonical_article_id FROM story WHERE id = ANY(%(story_ids)s)

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

-- name: overrides_touching
-- Operator constraints still in force (a later action may have lifted one: revoked_by).
SELECT id, kind, article_a, article_b FROM override
WHERE (article_a = ANY(%(ids)s) OR article_b = ANY(%(ids)s)) AND revoked_by IS NULL
ORDER BY id

-- name: member_info
SELECT id, item_key, source, headline, headline_tag, ed_stat, killed, pub_status,
       first_created, version_created, published_at, word_count, attributions
FROM article WHERE id = ANY(%(ids)s)

-- name: paragraphs_of
SELECT article_id, ord, text, norm FROM paragraph
WHERE article_id = ANY(%(ids)s) AND kind = 'body' ORDER BY article_id, ord

-- name: captions_of
SELECT id, article_id, ord, text, norm, group_id FROM caption
WHERE article_id = ANY(%(ids)s) ORDER BY article_id, ord

-- name: delete_staged
DELETE FROM staged_story WHERE batch_id = %(batch_id)s

-- name: insert_staged
INSERT INTO staged_story (batch_id, story_id, payload) VALUES (%(batch_id)s, %(story_id)s, %(payload)s)

-- name: staged
SELECT story_id, payload FROM staged_story WHERE batch_id = %(batch_id)s ORDER BY story_id

-- name: caption_neighbours
SELECT e.a, e.b FROM unnest(%(ids)s::bigint[]) AS u(id)
JOIN edge e ON e.kind = 'caption' AND e.a = u.id WHERE e.verdict = 'duplicate'
UNION
SELECT e.a, e.b FROM unnest(%(ids)s::bigint[]) AS u(id)
JOIN edge e ON e.kind = 'caption' AND e.b = u.id WHERE e.verdict = 'duplicate'

-- name: batch_caption_ids
SELECT c.id, c.group_id, c.body FROM batch_article ba JOIN caption c ON c.article_id = ba.article_id
WHERE ba.batch_id = %(batch_id)s

-- name: caption_groups_of
SELECT id, group_id, body FROM caption WHERE id = ANY(%(ids)s)

-- name: captions_in_groups
SELECT id, group_id, body FROM caption WHERE group_id = ANY(%(group_ids)s)

-- name: insert_story
INSERT INTO story (canonical_article_id, headline, member_count, sources, has_kill,
                   first_published, batch_id)
VALUES (%(canonical)s, %(headline)s, %(member_count)s, %(sources)s, %(has_kill)s,
        %(first_published)s, %(batch_id)s)
RETURNING id

-- name: update_story
UPDATE story SET canonical_article_id = %(canonical)s, headline = %(headline)s,
       member_count = %(member_count)s, sources = %(sources)s, has_kill = %(has_kill)s,
       first_published = %(first_published)s, batch_id = %(batch_id)s, merged_into = NULL,
       updated_at = now()
WHERE id = %(id)s AND (canonical_article_id IS DISTINCT FROM %(canonical)s
                       OR headline IS DISTINCT FROM %(headline)s
                       OR member_count IS DISTINCT FROM %(member_count)s
                       OR sources IS DISTINCT FROM %(sources)s
                       OR has_kill IS DISTINCT FROM %(has_kill)s
                       OR first_published IS DISTINCT FROM %(first_published)s
                       OR merged_into IS NOT NULL)

-- name: absorb_story
UPDATE story SET merged_into = %(into)s, member_count = 0, canonical_article_id = NULL,
       updated_at = now()
WHERE id = %(id)s

-- name: delete_members_of_articles
DELETE FROM story_member WHERE article_id = ANY(%(ids)s) AND role <> 'contributor'

-- name: delete_members_of_stories
DELETE FROM story_member WHERE story_id = ANY(%(story_ids)s)

-- name: insert_member
INSERT INTO story_member (story_id, article_id, role, similarity, reason)
VALUES (%(story_id)s, %(article_id)s, %(role)s, %(similarity)s, %(reason)s)
ON CONFLICT (story_id, article_id) DO UPDATE SET role = EXCLUDED.role,
    similarity = EXCLUDED.similarity, reason = EXCLUDED.reason

-- name: delete_provenance
DELETE FROM provenance WHERE story_id = ANY(%(story_ids)s)

-- name: insert_provenance
INSERT INTO provenance (story_id, kind, ord, text, article_id, source_ord, in_canonical)
VALUES (%(story_id)s, %(kind)s, %(ord)s, %(text)s, %(article_id)s, %(source_ord)s, %(in_canonical)s)

-- name: insert_caption_group
INSERT INTO caption_group (label) VALUES (%(label)s) RETURNING id

-- name: set_caption_group
-- Every caption of the batch's groups at once: parallel arrays of caption id and group id.
UPDATE caption c SET group_id = u.group_id
FROM unnest(%(ids)s::bigint[], %(group_ids)s::bigint[]) AS u(id, group_id)
WHERE c.id = u.id AND c.group_id IS DISTINCT FROM u.group_id
