-- The review queue: article pairs verification doubted (a 'conflict', or 'distinct' near the
-- thresholds) are shown to operators newest first. A pair they judged is kept here so it
-- leaves the queue for good (re-verifying the pair in a rebuild does not bring it back); what
-- they decided is applied as the ordinary story action (merge, never-merge or split), whose
-- event and overrides later runs honour.
CREATE TABLE review_decision (
    a           bigint      NOT NULL REFERENCES article (id),
    b           bigint      NOT NULL REFERENCES article (id),
    decision    text        NOT NULL CHECK (decision IN ('same', 'apart')),
    event_id    bigint      REFERENCES story_event (id),  -- none when nothing had to change
    who         text        NOT NULL,
    why         text        NOT NULL,
    outcome     text        NOT NULL DEFAULT '',
    decided_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (a, b),
    CHECK (a < b)
);
CREATE INDEX review_decision_recent_idx ON review_decision (decided_at DESC);

-- Newest doubtful pairs first without reading the confident ones (most pairs are
-- duplicates or plainly distinct).
CREATE INDEX edge_doubt_idx ON edge (decided_at DESC, a, b)
    WHERE kind = 'story' AND verdict IN ('conflict', 'distinct');
