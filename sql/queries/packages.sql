-- Package links: the captions a NewsML-G2 package gives the text item it packages.

-- name: package_versions
SELECT package_key, version_created FROM package_version WHERE package_key = ANY(%(keys)s)

-- name: upsert_package_version
INSERT INTO package_version (package_key, version_created, payload_id)
VALUES (%(package_key)s, %(version_created)s, %(payload_id)s)
ON CONFLICT (package_key) DO UPDATE SET
    version_created = EXCLUDED.version_created, payload_id = EXCLUDED.payload_id

-- name: delete_package_links
DELETE FROM package_link WHERE package_key = %(package_key)s
RETURNING text_key

-- name: insert_package_link
INSERT INTO package_link (package_key, text_key, picture_key, ord, caption)
VALUES (%(package_key)s, %(text_key)s, %(picture_key)s, %(ord)s, %(caption)s)
ON CONFLICT (package_key, text_key, picture_key) DO UPDATE SET
    ord = EXCLUDED.ord, caption = EXCLUDED.caption

-- name: texts_linked_to
-- Text items whose package captions depend on these items (as text or as picture).
SELECT DISTINCT text_key FROM package_link
WHERE text_key = ANY(%(keys)s) OR picture_key = ANY(%(keys)s)

-- name: package_captions_for
-- For each text article: the captions its packages give it, in package order; the
-- picture item's own first caption when it has arrived, else what the package says.
SELECT t.id AS article_id, l.picture_key,
       coalesce(
           (SELECT c.text FROM article p JOIN caption c ON c.article_id = p.id
            WHERE p.item_key = l.picture_key AND c.via_item IS NULL
            ORDER BY c.ord LIMIT 1),
           nullif(l.caption, '')) AS caption
FROM package_link l JOIN article t ON t.item_key = l.text_key
WHERE l.text_key = ANY(%(keys)s)
ORDER BY t.id, l.package_key, l.ord

-- name: captions_of_articles
SELECT article_id, ord, text, body, via_item FROM caption
WHERE article_id = ANY(%(ids)s)
ORDER BY article_id, ord

-- name: delete_package_captions
DELETE FROM caption WHERE article_id = ANY(%(ids)s) AND via_item IS NOT NULL

-- name: insert_package_caption
INSERT INTO caption (article_id, ord, text, body, credit, norm, via_item)
VALUES (%(article_id)s, %(ord)s, %(text)s, %(body)s, %(credit)s, %(norm)s, %(via_item)s)

-- name: mark_articles_pending
UPDATE article SET pending = true, updated_at = now() WHERE id = ANY(%(ids)s)
