-- Operator dashboard: the history of operator actions, and the indexes its pages run on.

-- One row per operator action (split, merge, never-merge): who, when, why, and what the
-- immediate re-clustering did. The constraints the action adds are rows of `override`
-- pointing back here; the story's history page reads this table.
CREATE TABLE story_event (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('split', 'merge', 'never_merge')),
    story_id        bigint      NOT NULL REFERENCES story (id),  -- the story acted on
    other_story_id  bigint      REFERENCES story (id),  -- merge/never-merge partner; split: new home
    article_id      bigint      REFERENCES article (id),  -- split: the member split out
    who             text        NOT NULL,
    why             text        NOT NULL,
    outcome         text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX story_event_story_idx ON story_event (story_id, id DESC);
CREATE INDEX story_event_other_idx ON story_event (other_story_id, id DESC)
    WHERE other_story_id IS NOT NULL;

-- Which action an override came from, and the later action that lifted it (a merge lifts
-- the splits and never-merges between the two stories it joins; a split lifts the merges
-- that tied the member to its story). Lifted overrides stay for the record and are no
-- longer honoured by clustering.
ALTER TABLE override ADD COLUMN event_id bigint REFERENCES story_event (id);
ALTER TABLE override ADD COLUMN revoked_by bigint REFERENCES story_event (id);

-- Story list: newest activity first, keyset-paginated on (updated_at, id); or, with a
-- date filter, by first publication, keyset on (first_published, id). Kills are rare: their
-- own small index, so "has a kill" never walks the whole list.
CREATE INDEX story_page_idx ON story (updated_at, id) WHERE merged_into IS NULL;
CREATE INDEX story_first_published_idx ON story (first_published, id) WHERE merged_into IS NULL;
CREATE INDEX story_kill_idx ON story (updated_at, id) WHERE has_kill AND merged_into IS NULL;
-- Headline search: the words of the canonical headline, stored, so that the planner has
-- statistics of how common each word is (to choose between this index for rare words and
-- walking story_page_idx for common ones) and walking never re-parses a headline.
ALTER TABLE story ADD COLUMN headline_search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', headline)) STORED;
CREATE INDEX story_headline_search_idx ON story USING gin (headline_search);
CREATE INDEX story_created_idx ON story (created_at);
CREATE INDEX story_merged_into_idx ON story (merged_into) WHERE merged_into IS NOT NULL;

-- Overview: items received per source per day, photos first seen per day, quarantine.
CREATE INDEX raw_item_received_idx ON raw_item (received_at) INCLUDE (source);
CREATE INDEX caption_group_created_idx ON caption_group (created_at);
CREATE INDEX quarantine_created_idx ON quarantine (created_at);
CREATE INDEX quarantine_open_id_idx ON quarantine (id) WHERE resolved_at IS NULL;
CREATE INDEX quarantine_resolved_idx ON quarantine (resolved_at, id) WHERE resolved_at IS NOT NULL;
