-- The six canonical tables (features/tables.go). Each key starts with
-- account_id, the distribution column; event tables are indexed by
-- (account_id, time column), the order in which features are swept. The
-- key is left out of that index to keep it small: SQLite appends it to
-- every index of a WITHOUT ROWID table anyway, and PostgreSQL orders the
-- rare ties by key with an incremental sort.

CREATE TABLE accounts (
	account_id       {{.ID}} NOT NULL PRIMARY KEY,
	name             {{.Text}} NOT NULL DEFAULT '',
	segment          {{.Text}} NOT NULL DEFAULT '',
	plan             {{.Text}} NOT NULL DEFAULT '',
	seats            {{.Int}} NOT NULL DEFAULT 0,
	owner            {{.Text}} NOT NULL DEFAULT '',
	created_at       {{.Time}} NOT NULL,
	trial_started_at {{.Time}},
	trial_ends_at    {{.Time}},
	converted_at     {{.Time}},
	churned_at       {{.Time}},
	renewal_at       {{.Time}},
	mrr              {{.Float}} NOT NULL DEFAULT 0
);

CREATE TABLE usage_events (
	event_id   {{.ID}} NOT NULL,
	account_id {{.ID}} NOT NULL,
	user_id    {{.ID}} NOT NULL DEFAULT '',
	feature    {{.Text}} NOT NULL,
	at         {{.Time}} NOT NULL,
	count      {{.Int}} NOT NULL DEFAULT 1,
	duration_s {{.Float}} NOT NULL DEFAULT 0,
	errors     {{.Int}} NOT NULL DEFAULT 0,
	PRIMARY KEY (account_id, event_id)
){{.WithoutRowID}};
CREATE INDEX usage_events_account_time ON usage_events (account_id, at);

CREATE TABLE tickets (
	ticket_id         {{.ID}} NOT NULL,
	account_id        {{.ID}} NOT NULL,
	opened_at         {{.Time}} NOT NULL,
	first_response_at {{.Time}},
	resolved_at       {{.Time}},
	priority          {{.Text}} NOT NULL,
	category          {{.Text}} NOT NULL DEFAULT '',
	csat              {{.Int}} NOT NULL DEFAULT 0,
	escalated         {{.Bool}} NOT NULL DEFAULT {{.False}},
	PRIMARY KEY (account_id, ticket_id)
){{.WithoutRowID}};
CREATE INDEX tickets_account_time ON tickets (account_id, opened_at);

CREATE TABLE escalations (
	escalation_id {{.ID}} NOT NULL,
	account_id    {{.ID}} NOT NULL,
	at            {{.Time}} NOT NULL,
	direction     {{.Text}} NOT NULL,
	severity      {{.Text}} NOT NULL,
	note          {{.Text}} NOT NULL DEFAULT '',
	PRIMARY KEY (account_id, escalation_id)
){{.WithoutRowID}};
CREATE INDEX escalations_account_time ON escalations (account_id, at);

CREATE TABLE survey_responses (
	response_id {{.ID}} NOT NULL,
	account_id  {{.ID}} NOT NULL,
	user_id     {{.ID}} NOT NULL DEFAULT '',
	at          {{.Time}} NOT NULL,
	kind        {{.Text}} NOT NULL,
	score       {{.Int}} NOT NULL,
	PRIMARY KEY (account_id, response_id)
){{.WithoutRowID}};
CREATE INDEX survey_responses_account_time ON survey_responses (account_id, at);

CREATE TABLE billing_changes (
	change_id  {{.ID}} NOT NULL,
	account_id {{.ID}} NOT NULL,
	at         {{.Time}} NOT NULL,
	mrr        {{.Float}} NOT NULL DEFAULT 0,
	seats      {{.Int}} NOT NULL DEFAULT 0,
	plan       {{.Text}} NOT NULL DEFAULT '',
	kind       {{.Text}} NOT NULL,
	PRIMARY KEY (account_id, change_id)
){{.WithoutRowID}};
CREATE INDEX billing_changes_account_time ON billing_changes (account_id, at);
