-- Shard buckets (shard.go): every table is indexed by its rows' shard
-- bucket, the top 16 bits of hashtext(account_id), and account_id, so
-- that a batch shard, a range of buckets, finds its accounts in one range
-- of the index and reads only their rows, by key. The keys are unchanged.
--
-- The database computes the bucket from account_id, so no load needs to
-- know of it. PostgreSQL stores it in a column (hashtext is also the
-- hash by which Citus distributes a text column), not declared NOT NULL
-- so that a table made LIKE one of these (the load's staging table)
-- accepts rows without it. SQLite, which has no hash function of its
-- own, indexes the expression, computed by a function the store
-- registers: SQLite reads such an index without visiting the table, which
-- it does not for an index on a virtual column.
{{if eq .Dialect "postgres"}}
ALTER TABLE accounts ADD COLUMN shard_bucket INTEGER GENERATED ALWAYS AS ((hashtext(account_id) >> 16) + 32768) STORED;
CREATE INDEX accounts_shard ON accounts (shard_bucket, account_id);
ALTER TABLE usage_events ADD COLUMN shard_bucket INTEGER GENERATED ALWAYS AS ((hashtext(account_id) >> 16) + 32768) STORED;
CREATE INDEX usage_events_shard ON usage_events (shard_bucket, account_id);
ALTER TABLE tickets ADD COLUMN shard_bucket INTEGER GENERATED ALWAYS AS ((hashtext(account_id) >> 16) + 32768) STORED;
CREATE INDEX tickets_shard ON tickets (shard_bucket, account_id);
ALTER TABLE escalations ADD COLUMN shard_bucket INTEGER GENERATED ALWAYS AS ((hashtext(account_id) >> 16) + 32768) STORED;
CREATE INDEX escalations_shard ON escalations (shard_bucket, account_id);
ALTER TABLE survey_responses ADD COLUMN shard_bucket INTEGER GENERATED ALWAYS AS ((hashtext(account_id) >> 16) + 32768) STORED;
CREATE INDEX survey_responses_shard ON survey_responses (shard_bucket, account_id);
ALTER TABLE billing_changes ADD COLUMN shard_bucket INTEGER GENERATED ALWAYS AS ((hashtext(account_id) >> 16) + 32768) STORED;
CREATE INDEX billing_changes_shard ON billing_changes (shard_bucket, account_id);
{{else}}
CREATE INDEX accounts_shard ON accounts (churn_shard_bucket(account_id), account_id);
CREATE INDEX usage_events_shard ON usage_events (churn_shard_bucket(account_id), account_id);
CREATE INDEX tickets_shard ON tickets (churn_shard_bucket(account_id), account_id);
CREATE INDEX escalations_shard ON escalations (churn_shard_bucket(account_id), account_id);
CREATE INDEX survey_responses_shard ON survey_responses (churn_shard_bucket(account_id), account_id);
CREATE INDEX billing_changes_shard ON billing_changes (churn_shard_bucket(account_id), account_id);
{{end}}
