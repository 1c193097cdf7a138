-- The review queue: doubtful article pairs and the operators' decisions on them.

-- name: queue
-- Undecided doubtful pairs (kept apart although their text reaches the floors), newest
-- verification first, each with both articles and the
-- stories they are in now (none while an article waits for its next batch).
SELECT e.a, e.b, e.verdict, e.jaccard, e.containment, e.para_overlap, e.reason,
       e.decided_at,
       aa.item_key AS a_key, aa.headline AS a_headline, aa.source AS a_source,
       aa.published_at AS a_published,
       ab.item_key AS b_key, ab.headline AS b_headline, ab.source AS b_source,
       ab.published_at AS b_published,
       ma.story_id AS a_story, mb.story_id AS b_story
FROM edge e
JOIN article aa ON aa.id = e.a
JOIN article ab ON ab.id = e.b
LEFT JOIN story_member ma ON ma.article_id = e.a AND ma.role <> 'contributor'
LEFT JOIN story_member mb ON mb.article_id = e.b AND mb.role <> 'contributor'
WHERE e.kind = 'story' AND e.verdict IN ('conflict', 'distinct')
  AND (e.jaccard >= %(jaccard)s OR e.containment >= %(containment)s)
  AND NOT aa.killed AND NOT ab.killed
  AND NOT EXISTS (SELECT 1 FROM review_decision d WHERE d.a = e.a AND d.b = e.b)
ORDER BY e.decided_at DESC, e.a DESC, e.b DESC
LIMIT %(limit)s

-- name: count
SELECT count(*) AS n
FROM edge e
JOIN article aa ON aa.id = e.a
JOIN article ab ON ab.id = e.b
WHERE e.kind = 'story' AND e.verdict IN ('conflict', 'distinct')
  AND (e.jaccard >= %(jaccard)s OR e.containment >= %(containment)s)
  AND NOT aa.killed AND NOT ab.killed
  AND NOT EXISTS (SELECT 1 FROM review_decision d WHERE d.a = e.a AND d.b = e.b)

-- name: pair
-- One verified pair (a < b) with its decision, if any.
SELECT e.a, e.b, e.verdict, e.jaccard, e.containment, e.para_overlap, e.reason,
       e.decided_at,
       aa.item_key AS a_key, aa.headline AS a_headline, aa.source AS a_source,
       aa.published_at AS a_published, aa.killed AS a_killed,
       ab.item_key AS b_key, ab.headline AS b_headline, ab.source AS b_source,
       ab.published_at AS b_published, ab.killed AS b_killed,
       ma.story_id AS a_story, mb.story_id AS b_story,
       d.decision, d.who, d.why, d.outcome, d.decided_at AS reviewed_at
FROM edge e
JOIN article aa ON aa.id = e.a
JOIN article ab ON ab.id = e.b
LEFT JOIN story_member ma ON ma.article_id = e.a AND ma.role <> 'contributor'
LEFT JOIN story_member mb ON mb.article_id = e.b AND mb.role <> 'contributor'
LEFT JOIN review_decision d ON d.a = e.a AND d.b = e.b
WHERE e.kind = 'story' AND e.a = %(a)s AND e.b = %(b)s

-- name: record
INSERT INTO review_decision (a, b, decision, event_id, who, why, outcome)
VALUES (%(a)s, %(b)s, %(decision)s, %(event_id)s, %(who)s, %(why)s, %(outcome)s)

-- name: recent
-- The latest decisions, for the queue page's record of what was done.
SELECT d.a, d.b, d.decision, d.who, d.why, d.outcome, d.event_id, d.decided_at,
       aa.item_key AS a_key, ab.item_key AS b_key
FROM review_decision d
JOIN article aa ON aa.id = d.a
JOIN article ab ON ab.id = d.b
ORDER BY d.decided_at DESC, d.a DESC, d.b DESC
LIMIT %(limit)s
