-- The worked example of README "Bring your own data": the export in
-- export/ (written by generate.py) as canonical tables. Each file is a
-- staged table named after it (crm_accounts, subscriptions, feature_usage,
-- helpdesk_tickets, churn_events); every value is TEXT, empty is NULL, and
-- _line is the file's line.

-- Trials are subscriptions of their own; paid ones may overlap (add-ons).
CREATE VIEW trials AS
	SELECT account_uuid, min(start_date) AS started, max(end_date) AS ended
	FROM subscriptions WHERE status = 'trialing' GROUP BY account_uuid;
CREATE VIEW paid AS
	SELECT * FROM subscriptions WHERE status <> 'trialing';

CREATE VIEW accounts AS
	SELECT a.account_uuid AS account_id,
		a.company_name AS name,
		lower(replace(a.tier, ' ', '-')) AS segment,            -- "Mid Market" -> mid-market
		a.csm_email AS owner,
		a.signup_date AS created_at,                            -- may be empty: then the first record
		t.started AS trial_started_at,
		t.ended AS trial_ends_at,
		CASE WHEN t.started IS NOT NULL
			THEN (SELECT min(p.start_date) FROM paid p WHERE p.account_uuid = a.account_uuid) END AS converted_at,
		(SELECT min(c.churned_on) FROM churn_events c WHERE c.account_uuid = a.account_uuid) AS churned_at,
		(SELECT p.plan_name FROM paid p WHERE p.account_uuid = a.account_uuid ORDER BY p.start_date LIMIT 1) AS plan,
		(SELECT max(CAST(p.seat_count AS INTEGER)) FROM paid p WHERE p.account_uuid = a.account_uuid) AS seats,
		a.country AS attr_country,                              -- free attributes
		a.referral_source AS attr_channel,
		a._line
	FROM crm_accounts a LEFT JOIN trials t ON t.account_uuid = a.account_uuid;

-- Usage is keyed by subscription: a lookup join finds the account; rows
-- with no uses are dropped.
CREATE VIEW usage_events AS
	SELECT s.account_uuid AS account_id, u.user_email AS user_id, u.feature_key AS feature,
		u.used_at AS at, u.uses AS count, u._line
	FROM feature_usage u JOIN subscriptions s ON s.subscription_id = u.subscription_id
	WHERE CAST(u.uses AS INTEGER) > 0;

-- The first response is given in minutes after submission; "medium" is
-- our "normal".
CREATE VIEW tickets AS
	SELECT ticket_number AS ticket_id, account_uuid AS account_id, submitted_at AS opened_at,
		datetime(submitted_at, '+' || first_response_minutes || ' minutes') AS first_response_at,
		closed_at AS resolved_at,
		CASE priority WHEN 'medium' THEN 'normal' ELSE priority END AS priority,
		topic AS category, satisfaction AS csat, _line
	FROM helpdesk_tickets;

-- MRR is the running sum of an account's active paid subscriptions: +price
-- when one starts, -price when one ends. The end that takes MRR to zero is
-- the churn, which churn_events states (with a constant kind) below.
CREATE VIEW subscription_moves AS
	SELECT account_uuid, subscription_id || ':start' AS change_id, start_date AS at,
		CAST(monthly_price AS REAL) AS delta, plan_name AS plan, CAST(seat_count AS INTEGER) AS seats
	FROM paid
	UNION ALL
	SELECT account_uuid, subscription_id || ':end', end_date, -CAST(monthly_price AS REAL), plan_name, 0
	FROM paid WHERE end_date IS NOT NULL;
CREATE VIEW running_mrr AS
	SELECT *, sum(delta) OVER (PARTITION BY account_uuid ORDER BY at, delta DESC, change_id) AS mrr,
		row_number() OVER (PARTITION BY account_uuid ORDER BY at, delta DESC, change_id) AS n
	FROM subscription_moves;
CREATE VIEW billing_changes AS
	SELECT change_id, account_uuid AS account_id, at, mrr, seats, plan,
		CASE WHEN n = 1 THEN 'new' WHEN delta > 0 THEN 'expansion' ELSE 'contraction' END AS kind
	FROM running_mrr WHERE mrr > 0
	UNION ALL
	SELECT 'churn:' || account_uuid, account_uuid, churned_on, 0, 0, NULL, 'churn'
	FROM churn_events;
