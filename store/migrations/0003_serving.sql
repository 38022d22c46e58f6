-- The serving tables: API keys, scores, alerts and the webhook outbox.
-- Every table that holds per-account rows is keyed by account_id first, so
-- that it can be distributed by account_id like the canonical tables.

-- api_keys holds only the SHA-256 of each key; the key itself is shown
-- once, when it is created.
CREATE TABLE api_keys (
	key_id     {{.ID}} NOT NULL PRIMARY KEY,
	role       {{.Text}} NOT NULL,
	hash       {{.Text}} NOT NULL UNIQUE,
	name       {{.Text}} NOT NULL DEFAULT '',
	created_at {{.Time}} NOT NULL,
	revoked_at {{.Time}}
);

-- scores holds every score ever written, keyed by what makes a batch run
-- idempotent: (account, task, as_of, model version). A re-run replaces its
-- rows rather than adding to them.
CREATE TABLE scores (
	account_id        {{.ID}} NOT NULL,
	task              {{.Text}} NOT NULL,
	as_of             {{.Time}} NOT NULL,
	model_version     {{.Text}} NOT NULL,
	owner             {{.Text}} NOT NULL DEFAULT '',
	probability       {{.Float}} NOT NULL,
	health            {{.Float}} NOT NULL,
	band              {{.Text}} NOT NULL DEFAULT '',
	pql               {{.Bool}} NOT NULL DEFAULT {{.False}},
	arr               {{.Float}} NOT NULL DEFAULT 0,
	revenue_at_risk   {{.Float}} NOT NULL DEFAULT 0,
	previous          {{.Float}},
	detail            {{.Text}} NOT NULL DEFAULT '{}',
	fingerprint       {{.Text}} NOT NULL,
	scored_at         {{.Time}} NOT NULL,
	PRIMARY KEY (account_id, task, as_of, model_version)
){{.WithoutRowID}};

-- current_scores holds each account's latest score per task, the row the
-- API lists and filters, so that a listing never has to find the latest
-- of many rows per account.
CREATE TABLE current_scores (
	account_id        {{.ID}} NOT NULL,
	task              {{.Text}} NOT NULL,
	as_of             {{.Time}} NOT NULL,
	model_version     {{.Text}} NOT NULL,
	owner             {{.Text}} NOT NULL DEFAULT '',
	probability       {{.Float}} NOT NULL,
	health            {{.Float}} NOT NULL,
	band              {{.Text}} NOT NULL DEFAULT '',
	pql               {{.Bool}} NOT NULL DEFAULT {{.False}},
	arr               {{.Float}} NOT NULL DEFAULT 0,
	revenue_at_risk   {{.Float}} NOT NULL DEFAULT 0,
	previous          {{.Float}},
	detail            {{.Text}} NOT NULL DEFAULT '{}',
	fingerprint       {{.Text}} NOT NULL,
	scored_at         {{.Time}} NOT NULL,
	PRIMARY KEY (account_id, task)
){{.WithoutRowID}};
CREATE INDEX current_scores_task_probability ON current_scores (task, probability, account_id);
CREATE INDEX current_scores_task_owner ON current_scores (task, owner, probability, account_id);

-- alerts: at most one open (not resolved) alert per (account, rule), which
-- the partial unique index enforces even against concurrent writers.
CREATE TABLE alerts (
	alert_id        {{.ID}} NOT NULL PRIMARY KEY,
	account_id      {{.ID}} NOT NULL,
	rule            {{.Text}} NOT NULL,
	owner           {{.Text}} NOT NULL DEFAULT '',
	severity        {{.Text}} NOT NULL DEFAULT '',
	status          {{.Text}} NOT NULL,
	message         {{.Text}} NOT NULL DEFAULT '',
	detail          {{.Text}} NOT NULL DEFAULT '{}',
	observed_at     {{.Time}} NOT NULL,
	opened_at       {{.Time}} NOT NULL,
	acknowledged_at {{.Time}},
	resolved_at     {{.Time}}
);
CREATE UNIQUE INDEX alerts_one_open ON alerts (account_id, rule) WHERE status <> 'resolved';
CREATE INDEX alerts_account_rule_resolved ON alerts (account_id, rule, resolved_at);
CREATE INDEX alerts_owner_status ON alerts (owner, status, opened_at);

-- alert_outbox holds one webhook delivery per alert, written in the same
-- transaction as the alert, so that an alert is never stored without its
-- delivery nor delivered without being stored.
CREATE TABLE alert_outbox (
	delivery_id     {{.ID}} NOT NULL PRIMARY KEY,
	alert_id        {{.ID}} NOT NULL,
	owner           {{.Text}} NOT NULL DEFAULT '',
	payload         {{.Text}} NOT NULL,
	status          {{.Text}} NOT NULL,
	attempts        {{.Int}} NOT NULL DEFAULT 0,
	next_attempt_at {{.Time}} NOT NULL,
	last_error      {{.Text}} NOT NULL DEFAULT '',
	created_at      {{.Time}} NOT NULL,
	delivered_at    {{.Time}}
);
CREATE INDEX alert_outbox_due ON alert_outbox (status, next_attempt_at);
