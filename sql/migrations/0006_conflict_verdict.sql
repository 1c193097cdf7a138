-- Verification learns a fourth verdict, 'conflict': two articles that look alike but must
-- never share a story (templated reports with other figures; two unmarked first takes of
-- one agency). Clustering treats it as a cannot-link.
ALTER TABLE edge DROP CONSTRAINT edge_verdict_check;
ALTER TABLE edge ADD CONSTRAINT edge_verdict_check
    CHECK (verdict IN ('duplicate', 'contributor', 'distinct', 'conflict'));
