-- The merged record lists apart the text a member borrowed from an article of another
-- story: a provenance row of kind 'contribution', credited to that article and never part
-- of the record's own paragraphs.
ALTER TABLE provenance DROP CONSTRAINT provenance_kind_check;
ALTER TABLE provenance ADD CONSTRAINT provenance_kind_check
    CHECK (kind IN ('paragraph', 'caption', 'contribution'));
