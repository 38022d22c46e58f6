// Package store keeps the canonical records in SQLite (embedded, the
// default) or PostgreSQL (production), behind one DSN:
//
//	sqlite:PATH                    pure-Go SQLite file, e.g. sqlite:churn.db
//	postgres://user@host/db?...    PostgreSQL via pgx (postgresql:// too)
//
// # Schema
//
// Migrations are embedded SQL files, numbered and applied in order by
// Migrate, which records them in schema_migrations. One portable set
// serves both dialects: each file is a text/template whose {{.Time}},
// {{.ID}} and similar fields expand to the dialect's column types.
//
// Each event table is keyed by (account_id, its own id) and indexed by
// (account_id, time), so that it can be distributed by account_id (Citus)
// and read in the order the feature sweep wants. Usage events, by far the
// largest table, are keyed by (account_id, at, event_id) instead: an
// event never changes once it happened, and the one index then serves
// both purposes, so that loads maintain one index rather than two. There
// are no foreign keys from the event tables to accounts: exports arrive in
// any order, and an event for an account not yet loaded is kept rather
// than refused.
// Optional times are NULL when not set; other optional fields keep their
// zero value.
//
// Times are TIMESTAMPTZ on PostgreSQL and INTEGER microseconds since the
// Unix epoch (UTC) on SQLite: compact, sortable and cheap to compare, which
// matters when a sweep reads every event ordered by (account_id, time).
// Both keep microseconds; finer digits are dropped. Identifier columns use
// the "C" collation on PostgreSQL, so that the store orders account ids by
// their bytes, as Go and SQLite do.
//
// # Loading
//
// Load stores the records of one source (one file, or one HTTP request
// body) in one transaction: either every record is stored or none is. A
// record whose key is already stored replaces the stored one when any
// field differs, so re-sending a corrected row updates it and re-sending an
// unchanged file changes nothing. Decoding runs on its own goroutine,
// concurrently with the database's work.
//
// Within one load a key may appear once: LoadWith refuses a repeat, naming
// both places, unless LoadOptions.LastWins keeps the last; identical usage
// events without an id become one row counting them all. Either way the
// source is read a second time, storing each key once, so the counts are
// those of the stored rows; a load without repeats reads it once, keeping
// 24 bytes per row to find them. Rows for accounts no accounts row knows
// are counted (refused under Strict). An account without created_at starts
// at its earliest record of any table (see inferStarts). DryRun runs loads
// exactly so but rolls them back, and Quality reports what looks wrong in
// the data as a whole.
//
// On PostgreSQL the records are streamed with COPY in its binary format,
// encoded here, which spares the server the parsing of text. Into a table
// that has no pages (new or truncated), a load is a bulk load: it drops
// the table's indexes, copies into the table and builds the indexes
// again, one sort each, as pg_restore does; readers of that table wait
// until it commits. Into any other table the records are copied into a
// temporary table, then inserted in key order, or merged with INSERT … ON
// CONFLICT, which counts inserted and updated rows, when a key is already
// stored. On SQLite they go straight to multi-row INSERT … ON CONFLICT
// statements through the single writer connection.
//
// # Reading
//
// Histories streams every account's history, one account at a time in
// account_id order, with each table's records in time order, optionally
// restricted to one shard of the accounts. It reads each table with one
// ordered query, so memory stays bounded by the largest single history.
//
// # Serving's types
//
// Scores, alerts, webhook deliveries and API keys are serving's types
// (packages serving/score, serving/alerts and serving/access); the store
// persists them and does not define them, so a column can be renamed
// without changing what the API or the dashboard show. A score's model
// version is kept as text and its detail (components and reasons) as JSON
// in the score's row.
package store
