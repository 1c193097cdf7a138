-- Performance at scale (issue 7).
--
-- band_object_idx, a btree on (object_id, kind), cost about as much to maintain as the
-- candidate-join index itself: every band row (about 130 per article: 42 story, 42 lead,
-- 4 per paragraph, 32 per caption) added an entry. It served only "the band rows of these
-- objects": the batch side of the candidate join, and deleting the rows of an object that
-- is signed again. band_key keeps instead one row per (object, kind) with its band numbers
-- and hashes: the batch side of the join unnests it (a primary-key lookup per object),
-- and a re-signed object's old band rows are deleted through band_lookup_idx by their
-- exact keys. Band rows are then written once and never looked up by object.
CREATE TABLE band_key (
    config_id     smallint    NOT NULL,
    kind          text        NOT NULL,
    object_id     bigint      NOT NULL,
    bands         smallint[]  NOT NULL,
    hashes        bigint[]    NOT NULL,
    published_at  timestamptz NOT NULL,
    PRIMARY KEY (config_id, kind, object_id)
);
INSERT INTO band_key (config_id, kind, object_id, bands, hashes, published_at)
SELECT config_id, kind, object_id, array_agg(band ORDER BY band, hash),
       array_agg(hash ORDER BY band, hash), min(published_at)
FROM band GROUP BY config_id, kind, object_id;
DROP INDEX IF EXISTS band_object_idx;
