-- A rep's own book (issue 17): an API key may name the account owner whose
-- accounts, trials and alerts it sees by default. Keys stored before have
-- no owner and keep seeing every owner's book.
ALTER TABLE api_keys ADD COLUMN owner {{.Text}} NOT NULL DEFAULT '';

-- The Today view (serving/today) lists and counts the health drops since
-- each account's previous score, for everyone or one owner: the rises of
-- probability of at least a threshold, the largest rises of expected ARR
-- lost, (probability - previous) × arr, first. These indexes hold both
-- figures, the rise first, so that the count and the listing read only the
-- entries past the threshold (the drops, a small part of a book), not
-- every account whose risk rose at all; the listing sorts those. Rows
-- without a previous score index them as NULL, which no threshold keeps.
CREATE INDEX current_scores_task_rise ON current_scores (task, (probability - previous), ((probability - previous) * arr), account_id);
CREATE INDEX current_scores_task_owner_rise ON current_scores (task, owner, (probability - previous), ((probability - previous) * arr), account_id);
