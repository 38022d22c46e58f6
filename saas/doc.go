// Package saas computes the metrics a subscription business reports on,
// month by month, from the canonical records: MRR movements by Stripe's
// rules, retention, cohort curves, unit economics, the acquisition funnel
// and customer-success figures. docs/METRICS.md defines every figure once.
//
// The package is pure: records in, figures out. A Book takes the records
// through its Add methods, one pass over each table, keeping only what the
// reports need (an account's MRR steps, per-month tallies); a report is
// then a function of the Book and a range of months. Reading the records
// is the caller's business (package store, or files).
//
// A figure whose inputs are missing (no spend loaded, no gross margin
// configured, a ratio with nothing to divide by) is a Value that is
// absent, with the reason, and marshals to JSON null: never a zero that
// could pass for a measurement.
package saas
