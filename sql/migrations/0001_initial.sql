-- newsdedup schema, version 1.
-- Forward-only: a later change is a new numbered file, never an edit of this one (the
-- ledger stores each file's checksum and refuses to run against an edited history).

-- Every payload that arrived, byte for byte. Never updated except for its parse status,
-- never deleted.
CREATE TABLE payload (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256       bytea       NOT NULL UNIQUE,
    source       text        NOT NULL,
    origin       text        NOT NULL,            -- file path or URL where it was first seen
    size         integer     NOT NULL,
    body         bytea       NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    format       text,                            -- the parser that read it
    status       text        NOT NULL DEFAULT 'new'
                 CHECK (status IN ('new', 'parsed', 'quarantined')),
    item_count   integer     NOT NULL DEFAULT 0,
    parsed_at    timestamptz
);
CREATE INDEX payload_status_idx ON payload (status) WHERE status <> 'parsed';
CREATE INDEX payload_source_received_idx ON payload (source, received_at);

-- One version of one item as found in a payload. (item_key, content_sha256) is unique:
-- the same item repeated in a later feed file is stored once.
CREATE TABLE raw_item (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload_id       bigint      NOT NULL REFERENCES payload (id),
    source           text        NOT NULL,
    item_key         text        NOT NULL,
    version          text        NOT NULL DEFAULT '',
    version_created  timestamptz,
    pub_status       text        NOT NULL,
    ed_stat          text        NOT NULL DEFAULT '',
    content_sha256   bytea       NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (item_key, content_sha256)
);
CREATE INDEX raw_item_key_idx ON raw_item (item_key, version_created);

-- Items (or whole payloads) that could not be used, with a one-line reason.
CREATE TABLE quarantine (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload_id   bigint      NOT NULL REFERENCES payload (id),
    item_key     text,
    reason       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    resolution   text
);
CREATE INDEX quarantine_open_idx ON quarantine (created_at) WHERE resolved_at IS NULL;
CREATE UNIQUE INDEX quarantine_open_uniq ON quarantine (payload_id, coalesce(item_key, ''))
    WHERE resolved_at IS NULL;

-- The latest usable version of each item, analysed. A kill sets killed and keeps the text.
CREATE TABLE article (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item_key         text        NOT NULL UNIQUE,
    source           text        NOT NULL,
    raw_item_id      bigint      NOT NULL REFERENCES raw_item (id),
    format           text        NOT NULL,
    version          text        NOT NULL DEFAULT '',
    version_created  timestamptz,
    first_created    timestamptz,
    published_at     timestamptz NOT NULL,        -- first_created, else first received
    pub_status       text        NOT NULL,
    ed_stat          text        NOT NULL DEFAULT '',
    killed           boolean     NOT NULL DEFAULT false,
    headline         text        NOT NULL,
    headline_tag     text        NOT NULL DEFAULT '',
    story_text       text        NOT NULL,
    word_count       integer     NOT NULL,
    attributions     text[]      NOT NULL DEFAULT '{}',
    read_more        text[]      NOT NULL DEFAULT '{}',
    lineage          jsonb       NOT NULL DEFAULT '[]',
    content_sha256   bytea       NOT NULL,
    version_count    integer     NOT NULL DEFAULT 1,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    pending          boolean     NOT NULL DEFAULT true  -- waiting for the next dedup batch
);
CREATE INDEX article_pending_idx ON article (id) WHERE pending;
CREATE INDEX article_published_idx ON article (published_at);
CREATE INDEX article_source_idx ON article (source, published_at);

CREATE TABLE paragraph (
    article_id  bigint  NOT NULL REFERENCES article (id) ON DELETE CASCADE,
    ord         integer NOT NULL,
    kind        text    NOT NULL,
    text        text    NOT NULL,
    norm        text    NOT NULL DEFAULT '',      -- similarity form ('' for non-body)
    PRIMARY KEY (article_id, ord)
);

CREATE TABLE caption_group (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label       text        NOT NULL,             -- the first caption body seen
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE caption (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id  bigint  NOT NULL REFERENCES article (id) ON DELETE CASCADE,
    ord         integer NOT NULL,
    text        text    NOT NULL,
    body        text    NOT NULL,
    credit      text    NOT NULL DEFAULT '',
    norm        text    NOT NULL,
    group_id    bigint  REFERENCES caption_group (id),
    UNIQUE (article_id, ord)
);
CREATE INDEX caption_group_idx ON caption (group_id);

-- Dedup configurations ever used; signatures and bands point at one.
CREATE TABLE dedup_config (
    id           smallint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fingerprint  text        NOT NULL UNIQUE,
    config       jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- MinHash signature per article (kind 'story' or 'lead') or caption (kind 'caption').
CREATE TABLE signature (
    config_id   smallint NOT NULL REFERENCES dedup_config (id),
    kind        text     NOT NULL,
    object_id   bigint   NOT NULL,                -- article id or caption id
    minhash     bytea    NOT NULL,                -- num_perm little-endian uint32
    shingles    integer  NOT NULL,
    PRIMARY KEY (config_id, kind, object_id)
);

-- LSH band hashes; the candidate join runs on (config_id, kind, band, hash).
CREATE TABLE band (
    config_id     smallint    NOT NULL,
    kind          text        NOT NULL,
    band          smallint    NOT NULL,
    hash          bigint      NOT NULL,
    object_id     bigint      NOT NULL,
    published_at  timestamptz NOT NULL
);
CREATE INDEX band_lookup_idx ON band (config_id, kind, band, hash);
CREATE INDEX band_object_idx ON band (object_id, kind);

-- A dedup batch: the articles that changed since the previous batch.
CREATE TABLE batch (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key           text        NOT NULL UNIQUE,
    config_id     smallint    NOT NULL REFERENCES dedup_config (id),
    state         text        NOT NULL DEFAULT 'open'
                  CHECK (state IN ('open', 'published', 'empty')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);

CREATE TABLE batch_article (
    batch_id    bigint NOT NULL REFERENCES batch (id),
    article_id  bigint NOT NULL REFERENCES article (id),
    PRIMARY KEY (batch_id, article_id)
);

-- LSH candidate pairs of a batch (a < b), kept so verify can re-run alone.
CREATE TABLE candidate (
    batch_id  bigint NOT NULL REFERENCES batch (id),
    kind      text   NOT NULL,                    -- 'story' or 'caption'
    a         bigint NOT NULL,
    b         bigint NOT NULL,
    PRIMARY KEY (batch_id, kind, a, b)
);

-- Every verification decision, with its scores and a human-readable reason.
CREATE TABLE edge (
    kind          text        NOT NULL,
    a             bigint      NOT NULL,
    b             bigint      NOT NULL,
    verdict       text        NOT NULL CHECK (verdict IN ('duplicate', 'contributor', 'distinct')),
    jaccard       real        NOT NULL,
    containment   real        NOT NULL,
    fuzz          real        NOT NULL,
    para_overlap  real        NOT NULL DEFAULT 0,
    reason        text        NOT NULL,
    batch_id      bigint      NOT NULL REFERENCES batch (id),
    decided_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, a, b),
    CHECK (a < b)
);
CREATE INDEX edge_b_idx ON edge (kind, b);

CREATE TABLE story (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    canonical_article_id  bigint REFERENCES article (id),
    headline              text        NOT NULL DEFAULT '',
    member_count          integer     NOT NULL DEFAULT 0,
    sources               text[]      NOT NULL DEFAULT '{}',
    has_kill              boolean     NOT NULL DEFAULT false,
    first_published       timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    merged_into           bigint REFERENCES story (id),
    batch_id              bigint REFERENCES batch (id)
);
CREATE INDEX story_live_idx ON story (updated_at DESC) WHERE merged_into IS NULL;

-- Members of a story. role 'contributor' rows credit an article of another story.
CREATE TABLE story_member (
    story_id    bigint NOT NULL REFERENCES story (id),
    article_id  bigint NOT NULL REFERENCES article (id),
    role        text   NOT NULL CHECK (role IN ('canonical', 'duplicate', 'version', 'contributor')),
    similarity  real   NOT NULL DEFAULT 0,
    reason      text   NOT NULL DEFAULT '',
    PRIMARY KEY (story_id, article_id)
);
CREATE UNIQUE INDEX story_member_one_story ON story_member (article_id) WHERE role <> 'contributor';

-- Which member each paragraph and caption of the merged record comes from.
CREATE TABLE provenance (
    story_id     bigint  NOT NULL REFERENCES story (id),
    kind         text    NOT NULL CHECK (kind IN ('paragraph', 'caption')),
    ord          integer NOT NULL,
    text         text    NOT NULL,
    article_id   bigint  NOT NULL REFERENCES article (id),
    source_ord   integer NOT NULL,
    in_canonical boolean NOT NULL DEFAULT true,
    PRIMARY KEY (story_id, kind, ord)
);

-- Merge results of a batch waiting to be published in one transaction.
CREATE TABLE staged_story (
    batch_id      bigint NOT NULL REFERENCES batch (id),
    story_id      bigint NOT NULL,
    payload       jsonb  NOT NULL,
    PRIMARY KEY (batch_id, story_id)
);

-- One row per stage execution: what ran, how long, what it counted.
CREATE TABLE run (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stage        text        NOT NULL,
    batch_key    text,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    status       text        NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'ok', 'failed')),
    counts       jsonb       NOT NULL DEFAULT '{}',
    seconds      real,
    error        text,
    host         text
);
CREATE INDEX run_stage_idx ON run (stage, started_at DESC);

-- Operator corrections, honoured by every later run.
CREATE TABLE override (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('split', 'merge', 'never_merge')),
    article_a   bigint      NOT NULL REFERENCES article (id),
    article_b   bigint      REFERENCES article (id),
    who         text        NOT NULL,
    why         text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX override_a_idx ON override (article_a);
CREATE INDEX override_b_idx ON override (article_b);

-- Per-source fetch state for feed URLs: conditional requests and what was seen.
CREATE TABLE source_cursor (
    source         text        NOT NULL,
    url            text        NOT NULL,
    etag           text,
    last_modified  text,
    last_sha256    bytea,
    fetched_at     timestamptz,
    PRIMARY KEY (source, url)
);
