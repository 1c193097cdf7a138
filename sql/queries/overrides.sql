-- Operator corrections: story events, the overrides they add or lift, and the story
-- reads the actions check against.

-- name: overrides_touching
-- Operator constraints still in force (a later action may have lifted one: revoked_by).
SELECT id, kind, article_a, article_b FROM override
WHERE (article_a = ANY(%(ids)s) OR article_b = ANY(%(ids)s)) AND revoked_by IS NULL
ORDER BY id

-- name: lock_stories
-- Serialise actions on the same stories.
SELECT id, canonical_article_id, merged_into, member_count FROM story
WHERE id = ANY(%(ids)s) ORDER BY id FOR UPDATE

-- name: own_members
SELECT m.article_id, m.role FROM story_member m
WHERE m.story_id = %(story_id)s AND m.role <> 'contributor'
ORDER BY m.article_id

-- name: live_story
-- Follow merged_into to the story that absorbed this one (at most 50 hops).
WITH RECURSIVE chain(id, merged_into, depth) AS (
    SELECT id, merged_into, 0 FROM story WHERE id = %(id)s
    UNION ALL
    SELECT s.id, s.merged_into, c.depth + 1 FROM chain c JOIN story s ON s.id = c.merged_into
    WHERE c.depth < 50
)
SELECT id FROM chain WHERE merged_into IS NULL ORDER BY depth LIMIT 1

-- name: story_of_article
SELECT m.story_id, s.member_count FROM story_member m JOIN story s ON s.id = m.story_id
WHERE m.article_id = %(id)s AND m.role <> 'contributor'

-- name: insert_event
INSERT INTO story_event (kind, story_id, other_story_id, article_id, who, why)
VALUES (%(kind)s, %(story_id)s, %(other_story_id)s, %(article_id)s, %(who)s, %(why)s)
RETURNING id, created_at

-- name: finish_event
UPDATE story_event SET outcome = %(outcome)s,
       other_story_id = coalesce(%(other_story_id)s, other_story_id)
WHERE id = %(id)s

-- name: insert_override
INSERT INTO override (kind, article_a, article_b, who, why, event_id, created_at)
SELECT %(kind)s, %(article_a)s, %(article_b)s, %(who)s, %(why)s, %(event_id)s, e.created_at
FROM story_event e WHERE e.id = %(event_id)s

-- name: revoke_between
-- Lift the in-force overrides of the given kinds that join an article of one set to an
-- article of the other.
UPDATE override SET revoked_by = %(event_id)s
WHERE revoked_by IS NULL AND kind = ANY(%(kinds)s)
  AND ((article_a = ANY(%(left)s) AND article_b = ANY(%(right)s))
       OR (article_a = ANY(%(right)s) AND article_b = ANY(%(left)s)))
RETURNING id, kind, article_a, article_b
