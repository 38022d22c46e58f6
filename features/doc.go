// Package features turns an account's history into the vectors the models
// score, as of any time, without reading the future.
//
// It holds three things:
//
//   - The canonical input records (Account, UsageEvent, Ticket, Escalation,
//     SurveyResponse, BillingChange), their validation, and the tables they
//     are stored in. All times are UTC; a zero time.Time means "not set" for
//     optional times, and the store keeps it as NULL.
//   - The feature catalog: every feature's stable name, group, window, unit
//     and a one-line description a CS rep can read. The catalog is versioned
//     and every Vector carries the version it was built with.
//   - The point-in-time Builder: one sweep over an account's time-ordered
//     History yields its vector for every requested as-of time, in
//     O(events + observations). A value as of T reads only what was known
//     strictly before T; a ticket's resolution counts at resolved_at, not at
//     opened_at. Missing values are NaN, never a silent zero.
//
// The package knows nothing of storage or HTTP: parsing of exports lives in
// features/recordio and persistence in store.
package features
