-- How each item began: the editorial status and headline tag of its earliest version.
-- An agency that marks versions (NewsML-G2 edStat N/U/C, UPDATE/CORRECTED/REFILE tags)
-- starts a new story with an unmarked first take; verification uses this to keep two
-- different first takes apart even after one of them was corrected under the same guid.
ALTER TABLE article ADD COLUMN origin_ed_stat text NOT NULL DEFAULT '';
ALTER TABLE article ADD COLUMN origin_tag text NOT NULL DEFAULT '';
ALTER TABLE article ADD COLUMN origin_version_created timestamptz;
UPDATE article SET origin_ed_stat = ed_stat, origin_tag = headline_tag,
                   origin_version_created = version_created;
