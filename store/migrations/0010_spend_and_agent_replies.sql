-- The optional inputs of the SaaS metrics (docs/METRICS.md): sales and
-- marketing spend by month and channel, for CAC, and the agents' replies
-- of a ticket, for first-contact resolution (0 when not recorded). Spend
-- refers to no account, so it is keyed by (month, channel, kind).
CREATE TABLE spend (
	month   {{.Time}} NOT NULL,
	channel {{.Text}} NOT NULL DEFAULT '',
	kind    {{.Text}} NOT NULL,
	amount  {{.Float}} NOT NULL DEFAULT 0,
	PRIMARY KEY (month, channel, kind)
){{.WithoutRowID}};

ALTER TABLE tickets ADD COLUMN agent_replies {{.Int}} NOT NULL DEFAULT 0;
