-- Ingest, version 2: package links, captions a package gives a text item, the folder
-- cursor, and fetch outcomes on the feed cursor. Forward-only, like every migration.

-- A NewsML-G2 package says which pictures go with which text item. The latest version of
-- a package replaces its links (package_version remembers which version that was, even
-- when it now links nothing), and the text item's article gets the pictures' captions.
CREATE TABLE package_version (
    package_key      text        PRIMARY KEY,
    version_created  timestamptz,
    payload_id       bigint      NOT NULL REFERENCES payload (id)
);

CREATE TABLE package_link (
    package_key  text    NOT NULL REFERENCES package_version (package_key),
    text_key     text    NOT NULL,
    picture_key  text    NOT NULL,
    ord          integer NOT NULL,
    caption      text    NOT NULL DEFAULT '',  -- what the package says of the picture
    PRIMARY KEY (package_key, text_key, picture_key)
);
CREATE INDEX package_link_text_idx ON package_link (text_key);
CREATE INDEX package_link_picture_idx ON package_link (picture_key);

-- A caption the article has because a package put a picture next to it (NULL: its own).
ALTER TABLE caption ADD COLUMN via_item text;

-- Files already taken from a watched folder: a file whose size and mtime are unchanged is
-- not read again, so a re-run over a large inbox reads nothing twice.
CREATE TABLE seen_file (
    source    text        NOT NULL,
    path      text        NOT NULL,
    size      bigint      NOT NULL,
    mtime_ns  bigint      NOT NULL,
    sha256    bytea       NOT NULL,
    seen_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, path)
);

-- What the last poll of a feed URL did, for operators (the conditional-request state,
-- etag and last_modified, is in the table since version 1).
ALTER TABLE source_cursor
    ADD COLUMN last_status  text,
    ADD COLUMN last_error   text,
    ADD COLUMN failures     integer NOT NULL DEFAULT 0;
