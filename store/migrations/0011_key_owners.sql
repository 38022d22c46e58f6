-- A rep's own book (issue 17): an API key may name the account owner whose
-- accounts, trials and alerts it sees by default. Keys stored before have
-- no owner and keep seeing every owner's book.
ALTER TABLE api_keys ADD COLUMN owner {{.Text}} NOT NULL DEFAULT '';

-- The Today view (serving/today) lists and counts the health drops since
-- each account's previous score, for everyone or one owner: the rises of
-- probability of at least a threshold, the largest rises of expected ARR
-- lost, (probability - previous) × arr, first. This index holds both
-- figures, the rise first, so that the count and the listing read only the
-- entries past the threshold (the drops, a small part of a book), not
-- every account whose risk rose at all, and the owner after them, so that
-- one index serves every owner and each: current_scores already has nine,
-- and each one slows the batch's writes. Rows without a previous score
-- index the figures as NULL, which no threshold keeps.
CREATE INDEX current_scores_task_rise ON current_scores (task, (probability - previous), ((probability - previous) * arr), owner, account_id);
