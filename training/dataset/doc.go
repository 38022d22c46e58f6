// Package dataset turns account histories into rows of point-in-time
// feature vectors: labelled training sets for the churn and conversion
// tasks, and unlabelled current vectors for scoring.
//
// # Sweep
//
// Sweep reads histories from a Source in account order, builds each
// account's vectors on a pool of workers (one features.Builder each), and
// hands the rows back in account order, whatever the number of workers.
// It runs on Stream, which does the same for any per-account work (the
// serving batch scores accounts with it) on an ordered, bounded
// internal/pipeline: histories travel in a fixed set of 2×workers
// reusable items, so memory is bounded by that many of the largest
// histories, not by the store.
//
// # Tasks and labels
//
// A Task picks the as-of times of an account and labels each vector built
// at them; labels may look past the as-of time, features never do.
//
// Churn observes every account on a schedule (monthly by default) and
// keeps the rows of accounts paying at the as-of time T. The label is 1
// when the account churns in the label window [T+lead, T+lead+horizon):
// closed at its start, so that a churn at exactly T+lead (the renewal a
// lead ahead) counts, and open at its end, so that the windows of
// observations one horizon apart tile time and no churn is the positive
// of two rows. A churn is a
// billing change of kind churn (or, for accounts without billing churn
// records, the accounts table's churned_at) not followed by a new
// subscription or reactivation within the grace period; a customer who
// comes back within grace never churned. A row is dropped, not labelled 0,
// when the data ends before T+lead+horizon+grace, since a churn near the
// window's end could still be undone; dropping by that date alone, rather
// than by outcome, keeps late positives and negatives alike. A row whose
// account churns within the lead time [T, T+lead) is dropped too: it is
// too late to act on, and labelling it 0 would teach a model that the
// accounts about to leave are safe.
//
// Conversion observes every trial once, on trial day k (as of trial start
// + k days), if it is still running then. The label is 1 when the account
// converts (converted_at or its first billing change) by the trial's end
// plus grace. Trials whose end plus grace is after the data's end are
// dropped.
//
// Current observes every account once, at one time, and keeps those paying
// or in a running trial, without a label: the vectors to score.
//
// # Files
//
// Writer writes rows as CSV: account_id, as_of, one column per feature in
// catalog order and, for labelled tasks, label. Missing values are blank
// cells and categorical values are written as their category, so the
// file reads back through training/table with the same kinds.
package dataset
