-- Accounts carry free attributes (an export's attr_country column is the
-- attribute "country"), as a JSON object of strings with sorted keys, '{}'
-- when none: one column, so that a load writes an account in one row and
-- re-sending it compares equal.
--
-- An account loaded without created_at starts at its earliest record of any
-- table; created_at_inferred marks it, so that later loads of older records
-- move it earlier (see store.LoadWith).
ALTER TABLE accounts ADD COLUMN attributes {{.Text}} NOT NULL DEFAULT '{}';
ALTER TABLE accounts ADD COLUMN created_at_inferred {{.Bool}} NOT NULL DEFAULT {{.False}};
