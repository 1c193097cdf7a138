-- Advisory locks that keep two runs of a stage from working on the same rows at once, and
-- what a run that must wait shows about the holder. Keys are (LOCK_CLASS, stage number).

-- name: try_xact_lock
SELECT pg_try_advisory_xact_lock(%(cls)s, %(key)s) AS got

-- name: try_session_lock
SELECT pg_try_advisory_lock(%(cls)s, %(key)s) AS got

-- name: session_unlock
SELECT pg_advisory_unlock(%(cls)s, %(key)s) AS released

-- name: try_shared_session_lock
-- Held by each task of a scheduled dedup run (they run side by side, one run at a time),
-- excluding a whole dedup run of the command, which takes it exclusively.
SELECT pg_try_advisory_lock_shared(%(cls)s, %(key)s) AS got

-- name: shared_session_unlock
SELECT pg_advisory_unlock_shared(%(cls)s, %(key)s) AS released

-- name: label
-- Who holds a lock, for a waiter to read: application_name says host, pid and since when.
SELECT set_config('application_name', %(label)s, false) AS label

-- name: holder
SELECT a.pid AS backend_pid, a.application_name, a.backend_start
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %(cls)s AND l.objid = %(key)s
  AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database
                                       WHERE datname = current_database())
LIMIT 1

-- name: terminate
SELECT pg_terminate_backend(%(backend_pid)s) AS done
