-- The API's check for a batch run by another process (serving/api
-- scoreWatch) reads the latest scoring time of the current scores every
-- second; this index makes that one index lookup instead of a scan of
-- current_scores.

CREATE INDEX current_scores_scored_at ON current_scores (scored_at);
