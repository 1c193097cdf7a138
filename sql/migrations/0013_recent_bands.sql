-- lsh_band_recent: the band rows of batches small beside history, until they are folded
-- into lsh_band in one sorted pass (pipeline.store.lsh, ``Lsh.fold``).
--
-- A batch of a thousand articles writes about 92,000 band rows with random keys. Inserted
-- into the key index of a million articles' history (58M rows, about 160,000 leaf pages)
-- they dirty some 70,000 leaves, each logged whole on its first write after a checkpoint.
-- Into this table, kept at most a sixteenth of lsh_band, they dirty a few thousand; and one
-- fold of many batches' rows visits each leaf of the large index about once instead of once
-- per batch. The candidate join reads both tables, so where a row is never changes a result.
CREATE TABLE lsh_band_recent (
    key           bigint      NOT NULL,
    object_id     bigint      NOT NULL,
    published_at  timestamptz NOT NULL
);

CREATE INDEX lsh_band_recent_key_idx ON lsh_band_recent (key);
