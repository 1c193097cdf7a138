-- A file name is bytes. One that is not UTF-8 is stored under an escaped key (payload.origin,
-- seen_file.path: its odd bytes written as \xff) and its exact bytes are kept here, so the
-- file can always be found again; NULL for every name that is UTF-8.
ALTER TABLE payload ADD COLUMN origin_bytes bytea;
