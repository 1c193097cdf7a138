-- The session every part of the store shares: bulk settings, table sizes, id allocation.

-- name: bulk_transaction_settings
-- For stages whose output is derived and rewritten on re-run (ingest chunks, sign,
-- candidates, verify): a commit need not wait for its WAL flush. A crash can lose at most
-- the last few commits of such a stage, and the stage's own state (payload status, batch
-- state, delete-then-insert of its rows) makes the next run redo exactly that work; nothing
-- is ever half-applied, because a lost commit is lost whole. Not used by publish, whose
-- result others read. work_mem lets the batch-sized joins and sorts run in memory.
SELECT set_config('synchronous_commit', 'off', true), set_config('work_mem', '64MB', true)

-- name: table_sizes
-- Row counts as of the last ANALYZE (or VACUUM); -1 for a table never analysed.
SELECT relname, reltuples FROM pg_class
WHERE relname = ANY(%(tables)s) AND relkind = 'r' AND relnamespace = 'public'::regnamespace

-- name: allocate_ids
-- Identity values taken in bulk so rows can reference each other before they are written
-- (raw_item -> article -> paragraph). Sequences are not transactional: a rolled-back
-- chunk leaves a gap in the ids, nothing else.
SELECT nextval(pg_get_serial_sequence(%(table)s, 'id')) AS id FROM generate_series(1, %(n)s)
