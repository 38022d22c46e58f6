-- Usage events are keyed by (account_id, at, event_id): one index both
-- makes loads idempotent and serves the sweep's (account_id, time) order,
-- where two did before. A usage event is a fact that does not change, so
-- its time is part of its identity; the new key holds the old one, so no
-- stored rows conflict. SQLite cannot change the key of a WITHOUT ROWID
-- table in place: it is rebuilt.
{{if eq .Dialect "postgres"}}
ALTER TABLE usage_events DROP CONSTRAINT usage_events_pkey;
ALTER TABLE usage_events ADD CONSTRAINT usage_events_pkey PRIMARY KEY (account_id, at, event_id);
DROP INDEX usage_events_account_time;
{{else}}
CREATE TABLE usage_events_rekeyed (
	event_id   {{.ID}} NOT NULL,
	account_id {{.ID}} NOT NULL,
	user_id    {{.ID}} NOT NULL DEFAULT '',
	feature    {{.Text}} NOT NULL,
	at         {{.Time}} NOT NULL,
	count      {{.Int}} NOT NULL DEFAULT 1,
	duration_s {{.Float}} NOT NULL DEFAULT 0,
	errors     {{.Int}} NOT NULL DEFAULT 0,
	PRIMARY KEY (account_id, at, event_id)
){{.WithoutRowID}};
INSERT INTO usage_events_rekeyed (event_id, account_id, user_id, feature, at, count, duration_s, errors)
	SELECT event_id, account_id, user_id, feature, at, count, duration_s, errors FROM usage_events;
DROP TABLE usage_events;
ALTER TABLE usage_events_rekeyed RENAME TO usage_events;
{{end}}
