-- The stage that quarantined an entry: 'parse' (ingest: the payload or one of its items
-- could not be read) or a dedup stage that could not process one article ('sign',
-- 'verify', 'merge', 'publish'). Requeue parses a 'parse' entry's payload again, and puts
-- a dedup stage's article back in the queue of the next batch.
ALTER TABLE quarantine ADD COLUMN stage text NOT NULL DEFAULT 'parse'
    CHECK (stage IN ('parse', 'sign', 'verify', 'merge', 'publish'));
