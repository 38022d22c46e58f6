// Package alerts turns what the scorer and the ingestion paths observe
// into alerts for the account's owner, and delivers them by webhook.
//
// # Rules
//
// Rules are data: each names a kind (the condition it tests), its
// parameters, a severity and a cooldown. The defaults live in rules.yaml,
// embedded in the binary; a configuration file may change the parameters
// of a rule, disable it, or add more rules of an existing kind under other
// names. The kinds are:
//
//	band_drop            the churn band worsened since the previous score (green → yellow → red)
//	risk_jump            the churn probability rose by at least min_increase since the previous score
//	usage_drop           usage in the last 7 days fell below (1 − drop) × the weekly average
//	                     of the 4 weeks before, when that average is at least min_weekly_baseline
//	ticket_spike         at least min_tickets tickets opened in the last 7 days, and at least
//	                     factor × the weekly average of the 4 weeks before
//	negative_escalation  a negative escalation of at least min_severity (0 low … 3 critical) within max_age_hours;
//	                     evaluated when escalations are ingested, not only in batches
//	nps_detractor        the latest NPS answer, within max_age_days, scored max_score or less
//	renewal_at_risk      renewal within within_days and churn probability of min_probability or more
//	trial_became_pql     a trial is a product-qualified lead now and was not at the previous score
//	trial_going_cold     a running trial, at least min_trial_day days in, without usage for inactive_days
//
// Every rule reads only records from before the time it looks from, so a
// backfill evaluated as of a past date sees what was known then.
//
// # Alerts
//
// At most one alert per (account, rule) is open or acknowledged at a time;
// the store enforces it with a partial unique index, so concurrent batch
// shards and ingestion requests cannot open two. After an alert is
// resolved, the rule stays quiet for that account for its cooldown.
// Alerts carry the account's owner, to whom they are routed.
//
// Alert, its statuses, Delivery and Query are this package's types: the
// store persists them through the interfaces declared here (AlertStore,
// Outbox), and this package does not import the store.
//
// # The inbox
//
// A listing (Query) yields Rows: alerts with their account's name,
// current health and band, and ARR, ordered by SortSeverityARR (severity
// weight × ARR, the weights doubling from info 1 to critical 16) or
// SortNewest, and paged by a Cursor naming the last row of a page. An
// alert may be snoozed until a time (ParseUntil), which keeps it out of
// the open, acknowledged and active listings until then without changing
// its status. Every Action a person takes (acknowledge, snooze, resolve
// with a note) is logged with its Actor, the API key that took it.
//
// Because negative_escalation's max_age_hours (72 by default) is shorter
// than its cooldown (168 hours), re-ingesting an escalation after its
// alert was resolved never raises it again.
//
// # Delivery
//
// An alert and its webhook delivery are written in one transaction to an
// outbox table. A Dispatcher claims due deliveries, posts a
// Slack-compatible JSON body (a "text" field, plus the alert under "alert"
// and its id under "idempotency_key") signed with
//
//	X-Churn-Signature: sha256=HEX(HMAC-SHA256(secret, body))
//
// and retries failures with exponential backoff until MaxAttempts, after
// which the delivery is dead (the dead-letter state). A receiver that is
// down gets every alert once it is back; it may see one twice only if a
// dispatcher dies between the receiver's answer and recording it, and
// then the idempotency key lets it drop the copy.
package alerts
