-- The run table: one row per stage execution, recorded outside the stage's transaction.

-- name: start_run
INSERT INTO run (stage, batch_key, host, dag_id, dag_run_id, task_id, map_index)
VALUES (%(stage)s, %(batch_key)s, %(host)s, %(dag_id)s, %(dag_run_id)s, %(task_id)s,
        %(map_index)s)
RETURNING id

-- name: finish_run
UPDATE run SET finished_at = now(), status = %(status)s, counts = %(counts)s,
       seconds = %(seconds)s, error = %(error)s
WHERE id = %(id)s
