-- The alert inbox as a worklist: an alert may be snoozed until a time,
-- which keeps it out of the open listings until then, and every action a
-- person takes on an alert (acknowledge, snooze, resolve) is logged with
-- the API key that took it, its note and its time.
--
-- alert_actions is keyed by (account_id, action_id), like the alerts it
-- logs, so that it can be distributed by account_id beside them (see
-- docs/SCALE.md); its lookups, an account's timeline and an alert's
-- actions, both start with the account.
ALTER TABLE alerts ADD COLUMN snoozed_until {{.Time}};
CREATE TABLE alert_actions (
	account_id    {{.ID}} NOT NULL,
	action_id     {{.ID}} NOT NULL,
	alert_id      {{.ID}} NOT NULL,
	action        {{.Text}} NOT NULL,
	key_id        {{.ID}} NOT NULL DEFAULT '',
	key_name      {{.Text}} NOT NULL DEFAULT '',
	note          {{.Text}} NOT NULL DEFAULT '',
	snoozed_until {{.Time}},
	at            {{.Time}} NOT NULL,
	PRIMARY KEY (account_id, action_id)
){{.WithoutRowID}};
CREATE INDEX alert_actions_account_at ON alert_actions (account_id, at);
CREATE INDEX alert_actions_alert ON alert_actions (account_id, alert_id, at);
-- The newest-first inbox walks alerts in its order and stops at a page.
CREATE INDEX alerts_opened ON alerts (opened_at DESC, alert_id);
