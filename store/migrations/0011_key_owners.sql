-- A rep's own book (issue 17): an API key may name the account owner whose
-- accounts, trials and alerts it sees by default. Keys stored before have
-- no owner and keep seeing every owner's book.
ALTER TABLE api_keys ADD COLUMN owner {{.Text}} NOT NULL DEFAULT '';

-- The Today view (serving/today) lists the biggest rises of expected ARR
-- lost since each account's previous score, (probability - previous) × arr,
-- for everyone or one owner: these indexes hold that figure in order, as
-- current_scores_task_revenue and current_scores_task_owner_revenue hold
-- revenue_at_risk. Rows without a previous score index it as NULL, which
-- the listing's "> 0" leaves out.
CREATE INDEX current_scores_task_rise ON current_scores (task, ((probability - previous) * arr), account_id);
CREATE INDEX current_scores_task_owner_rise ON current_scores (task, owner, ((probability - previous) * arr), account_id);

-- Today's renewals in the next 60 days: the accounts renewing in a window,
-- found by range rather than by reading every account.
CREATE INDEX accounts_renewal ON accounts (renewal_at);
