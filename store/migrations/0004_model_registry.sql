-- The model registry (registry.go). A model's artifact is the checksummed
-- JSON that models.EncodeArtifact writes; checksum is the SHA-256 of those
-- bytes, checked again whenever the artifact is read back. metrics and
-- details are JSON documents the trainer writes and the store does not
-- read; test_auc is kept in a column of its own because activation
-- compares it.

CREATE TABLE models (
	version      {{.Int}} NOT NULL PRIMARY KEY,
	task         {{.Text}} NOT NULL,
	algorithm    {{.Text}} NOT NULL,
	state        {{.Text}} NOT NULL DEFAULT 'candidate'
	             CHECK (state IN ('candidate', 'active', 'retired')),
	created_at   {{.Time}} NOT NULL,
	state_at     {{.Time}} NOT NULL,
	window_start {{.Time}},
	window_end   {{.Time}},
	test_auc     {{.Float}},
	metrics      {{.Text}} NOT NULL DEFAULT '{}',
	details      {{.Text}} NOT NULL DEFAULT '{}',
	backtest     {{.Text}} NOT NULL DEFAULT '',
	artifact     {{.Text}} NOT NULL,
	checksum     {{.Text}} NOT NULL
);

-- At most one active model per task, whatever the code does: a second
-- activation that forgot to retire the first fails here.
CREATE UNIQUE INDEX models_one_active ON models (task) WHERE state = 'active';
CREATE INDEX models_task_version ON models (task, version);
