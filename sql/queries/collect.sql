-- Collecting: the folder files already taken and the feed cursors.

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
