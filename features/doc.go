// Package features defines the canonical input records of the service
// (Account, UsageEvent, Ticket, Escalation, SurveyResponse, BillingChange),
// their validation, and the tables they are stored in.
//
// All times are UTC. A zero time.Time means "not set" for optional times
// (an account that never trialled has a zero TrialStartedAt), and the store
// keeps it as NULL.
//
// The package knows nothing of storage or HTTP: parsing of exports lives in
// features/recordio and persistence in store.
package features
