-- Collecting (folder and feed cursors), package links and status-only versions.

-- name: seen_files
SELECT path, size, mtime_ns FROM seen_file
WHERE source = %(source)s AND path = ANY(%(paths)s)

-- name: upsert_seen_file
INSERT INTO seen_file (source, path, size, mtime_ns, sha256)
VALUES (%(source)s, %(path)s, %(size)s, %(mtime_ns)s, %(sha256)s)
ON CONFLICT (source, path) DO UPDATE SET
    size = EXCLUDED.size, mtime_ns = EXCLUDED.mtime_ns, sha256 = EXCLUDED.sha256,
    seen_at = now()

-- name: get_cursor
SELECT source, url, etag, last_modified, last_sha256, fetched_at, last_status, last_error,
       failures
FROM source_cursor WHERE source = %(source)s AND url = %(url)s

-- name: save_cursor
-- After a successful poll (200 or 304): the validators to send next time.
INSERT INTO source_cursor (source, url, etag, last_modified, last_sha256, fetched_at,
                           last_status, last_error, failures)
VALUES (%(source)s, %(url)s, %(etag)s, %(last_modified)s, %(last_sha256)s, now(),
        %(last_status)s, NULL, 0)
ON CONFLICT (source, url) DO UPDATE SET
    etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified,
    last_sha256 = EXCLUDED.last_sha256, fetched_at = now(),
    last_status = EXCLUDED.last_status, last_error = NULL, failures = 0

-- name: cursor_failed
-- A poll that failed after its retries; the validators stay as they were.
INSERT INTO source_cursor (source, url, fetched_at, last_status, last_error, failures)
VALUES (%(source)s, %(url)s, now(), %(last_status)s, %(last_error)s, 1)
ON CONFLICT (source, url) DO UPDATE SET
    fetched_at = now(), last_status = EXCLUDED.last_status,
    last_error = EXCLUDED.last_error, failures = source_cursor.failures + 1

-- name: source_cursors
SELECT source, url, etag, last_modified, fetched_at, last_status, last_error, failures
FROM source_cursor
WHERE %(source)s::text IS NULL OR source = %(source)s
ORDER BY source, url

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

-- name: set_article_status
-- A version that only changes the status (withheld, canceled) and carries no text: the
-- article keeps the text of its last usable version.
UPDATE article SET pub_status = %(pub_status)s, ed_stat = %(ed_stat)s, killed = %(killed)s,
       raw_item_id = %(raw_item_id)s, version = %(version)s,
       version_created = %(version_created)s, version_count = version_count + 1,
       updated_at = now(), pending = true
WHERE item_key = %(item_key)s
RETURNING id

-- name: payload_outcomes
-- The fuzz and re-run tests: how each payload ended up.
SELECT status, count(*) AS n FROM payload GROUP BY status ORDER BY status

-- name: article_ids_for_keys
SELECT item_key, id FROM article WHERE item_key = ANY(%(keys)s)
