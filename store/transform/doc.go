// Package transform loads exports that need more than renames: a team's
// own SQL reshapes them into the canonical tables, the way data teams
// already work with dbt or warehouse views.
//
// Stage puts every input file (CSV or NDJSON) into a temporary embedded
// SQLite database as a table named after the file's base name without its
// extension, lowercased, with every character other than [a-z0-9_] turned
// into "_" ("Billing Export (2).csv" is billing_export__2_). Its columns are
// the header's names (for NDJSON, the keys in order of first appearance),
// its values TEXT as read, NULL for empty fields, plus an INTEGER column
// _line holding the source line. Workspace.Apply then runs the transform,
// SQL statements in SQLite's dialect. Connect runs the same kind of file
// against a PostgreSQL database instead, in its dialect, inside a
// transaction in a schema of its own that is rolled back at Close, so
// nothing is left behind.
//
// The transform defines any of the six canonical tables (features.Tables)
// as views or tables named exactly like them; Source reads one of them
// through recordio's decoder, as a CSV file of that table would be read:
// the same column matching, conversions and validation, with columns that
// are neither canonical nor attributes (attr_NAME, accounts only) refused
// rather than ignored. A view that selects _line gets errors naming the
// view, the source file of that column and the line:
//
//	tickets (helpdesk_tickets.csv:44): column "priority": "medium" is not one of [low normal high urgent]
//
// A Source is a load.Source that can rewind and locate its rows, so
// store.LoadWith loads it with the same idempotency, per-table atomicity
// and checks as a file.
//
// The package lives under store/ because it runs SQL, which the design
// keeps out of features/; it only reads, and hands records to store.
package transform
