-- The usage rollup of the SaaS metrics (docs/METRICS.md, "Customer
-- success"): per account and calendar month (UTC), the distinct users,
-- the user-days (the distinct users of each day, summed over the month's
-- days), the distinct features and the latest event's time, as
-- saas.UsageRollup defines them. Every load of usage events marks, in its
-- transaction, the months it touched as stale (usage_months_stale), and
-- the next read of the rollup rebuilds them (store/usage_rollup.go), so
-- the customer-success report reads this table, not the events, and a
-- load does not pay for the rollup. Keyed by
-- month first, so that the report's sums by month read it in key order.
--
-- A store that upgrades gets the rollup of its stored events here, by the
-- same definitions in SQL: one pass over usage_events, which takes a
-- while on a large store.
CREATE TABLE usage_months (
	month      {{.Time}} NOT NULL,
	account_id {{.ID}} NOT NULL,
	users      {{.Int}} NOT NULL,
	user_days  {{.Int}} NOT NULL,
	features   {{.Int}} NOT NULL,
	last_at    {{.Time}} NOT NULL,
	PRIMARY KEY (month, account_id)
){{.WithoutRowID}};
-- The accounts whose rollup is stale, from the month of lo to that of hi;
-- marks counts the loads that marked it since it was last rebuilt, so
-- that a rebuild clears only the marks it saw.
CREATE TABLE usage_months_stale (
	account_id {{.ID}} NOT NULL PRIMARY KEY,
	lo         {{.Time}} NOT NULL,
	hi         {{.Time}} NOT NULL,
	marks      {{.Int}} NOT NULL
){{.WithoutRowID}};
{{if eq .Dialect "postgres"}}
INSERT INTO usage_months (month, account_id, users, user_days, features, last_at)
SELECT month, account_id, count(DISTINCT NULLIF(user_id, '')),
	count(DISTINCT CASE WHEN user_id <> '' THEN day || ' ' || user_id END), count(DISTINCT feature), max(at)
FROM (SELECT account_id, user_id, feature, at,
		date_trunc('month', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS month,
		CAST(date_trunc('day', at AT TIME ZONE 'UTC') AS TEXT) AS day
	FROM usage_events) e
GROUP BY month, account_id;
{{else}}
INSERT INTO usage_months (month, account_id, users, user_days, features, last_at)
SELECT month, account_id, count(DISTINCT NULLIF(user_id, '')),
	count(DISTINCT CASE WHEN user_id <> '' THEN day || ' ' || user_id END), count(DISTINCT feature), max(at)
FROM (SELECT account_id, user_id, feature, at,
		CAST(strftime('%s', at / 1000000, 'unixepoch', 'start of month') AS INTEGER) * 1000000 AS month,
		at / 86400000000 AS day
	FROM usage_events) e
GROUP BY month, account_id;
{{end}}
