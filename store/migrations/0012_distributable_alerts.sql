-- Alerts and their deliveries become distributable by account_id (see
-- docs/SCALE.md): Citus requires every unique index of a distributed
-- table to contain its distribution column, and a delivery is stored with
-- its alert, so it carries the alert's account to be placed beside it.
-- On PostgreSQL the keys become (account_id, alert_id) and (account_id,
-- delivery_id), and plain indexes keep the lookups by id alone; ids are
-- random, so they stay unique without an index that says so. SQLite,
-- never distributed, keeps its keys.
ALTER TABLE alert_outbox ADD COLUMN account_id {{.ID}} NOT NULL DEFAULT '';
UPDATE alert_outbox SET account_id = (SELECT a.account_id FROM alerts a WHERE a.alert_id = alert_outbox.alert_id)
	WHERE EXISTS (SELECT 1 FROM alerts a WHERE a.alert_id = alert_outbox.alert_id);
{{if eq .Dialect "postgres"}}
ALTER TABLE alerts DROP CONSTRAINT alerts_pkey, ADD CONSTRAINT alerts_pkey PRIMARY KEY (account_id, alert_id);
CREATE INDEX alerts_alert_id ON alerts (alert_id);
ALTER TABLE alert_outbox DROP CONSTRAINT alert_outbox_pkey, ADD CONSTRAINT alert_outbox_pkey PRIMARY KEY (account_id, delivery_id);
CREATE INDEX alert_outbox_delivery_id ON alert_outbox (delivery_id);
{{end}}
