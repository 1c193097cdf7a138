-- Stories: what cluster_merge reads of the stories a batch touches, the staged layout,
-- and publishing it (stories, members, provenance, caption groups) set-based.

-- name: stories_of
SELECT article_id, story_id FROM story_member
WHERE article_id = ANY(%(ids)s) AND role <> 'contributor'

-- name: members_of_stories
SELECT article_id FROM story_member WHERE story_id = ANY(%(story_ids)s) AND role <> 'contributor'

-- name: canonicals_of
SELECT id, canonical_article_id FROM story WHERE id = ANY(%(story_ids)s)

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

-- name: batch_caption_ids
SELECT c.id, c.article_id, c.group_id, c.body
FROM batch_article ba JOIN caption c ON c.article_id = ba.article_id
WHERE ba.batch_id = %(batch_id)s

-- name: caption_groups_of
SELECT id, group_id, body FROM caption WHERE id = ANY(%(ids)s)

-- name: captions_in_groups
SELECT id, group_id, body FROM caption WHERE group_id = ANY(%(group_ids)s)

-- name: delete_staged
DELETE FROM staged_story WHERE batch_id = %(batch_id)s

-- name: copy_staged
COPY staged_story (batch_id, story_id, payload) FROM STDIN

-- name: staged
SELECT story_id, payload FROM staged_story WHERE batch_id = %(batch_id)s ORDER BY story_id

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

-- name: delete_members_of_articles
DELETE FROM story_member WHERE article_id = ANY(%(ids)s) AND role <> 'contributor'

-- name: delete_members_of_stories
DELETE FROM story_member WHERE story_id = ANY(%(story_ids)s)

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

-- name: delete_provenance
DELETE FROM provenance WHERE story_id = ANY(%(story_ids)s)

-- name: copy_provenance
COPY provenance (story_id, kind, ord, text, article_id, source_ord, in_canonical) FROM STDIN

-- name: absorb_story
UPDATE story SET merged_into = %(into)s, member_count = 0, canonical_article_id = NULL,
       updated_at = now()
WHERE id = %(id)s

-- name: insert_caption_groups
INSERT INTO caption_group (id, label) OVERRIDING SYSTEM VALUE
SELECT * FROM unnest(%(ids)s::bigint[], %(labels)s::text[])

-- name: set_caption_group
-- Every caption of the batch's groups at once: parallel arrays of caption id and group id.
UPDATE caption c SET group_id = u.group_id
FROM unnest(%(ids)s::bigint[], %(group_ids)s::bigint[]) AS u(id, group_id)
WHERE c.id = u.id AND c.group_id IS DISTINCT FROM u.group_id

-- name: lock_story_ids
-- Story and caption-group ids are what operators, links and exports name, so a publish
-- takes them dense and inside its transaction, not from a sequence (whose values a killed
-- or refused publish would leave unused): a re-run then gives the ids an undisturbed run
-- gives. The lock queues publishers one behind another for the rest of the transaction.
LOCK TABLE story, caption_group IN SHARE ROW EXCLUSIVE MODE

-- name: next_story_ids
-- Stories are never deleted (an absorbed one keeps its row), so an id is never reused.
SELECT coalesce((SELECT max(id) FROM story), 0) + g AS id FROM generate_series(1, %(n)s) AS g

-- name: next_caption_group_ids
SELECT coalesce((SELECT max(id) FROM caption_group), 0) + g AS id
FROM generate_series(1, %(n)s) AS g
