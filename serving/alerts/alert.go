package alerts

import (
	"encoding/json"
	"time"
)

// Alert statuses. An alert is open until someone resolves it; while it is
// open or acknowledged, no other alert of its rule opens for its account.
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusResolved     = "resolved"
	// StatusActive is not a status an alert has: a Query with it selects
	// open and acknowledged alerts together.
	StatusActive = "active"
)

// Alert is a fired alert rule on an account. Its JSON form is the one a
// webhook delivers (see Payload).
type Alert struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	Rule      string `json:"rule"`
	Owner     string `json:"owner"`
	Severity  string `json:"severity"`
	Status    string `json:"status"`
	Message   string `json:"message"`
	// Detail holds the rule's figures (thresholds, the values that
	// crossed them), a JSON object whose fields depend on the rule's kind.
	Detail json.RawMessage `json:"detail"`
	// ObservedAt is the time of the signal: the record that fired the rule
	// (an escalation, an NPS answer), else the as-of time of the scores and
	// usage whose condition held. OpenedAt is when the alert was stored.
	ObservedAt     time.Time `json:"observed_at"`
	OpenedAt       time.Time `json:"opened_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	// SnoozedUntil, while in the future, keeps the alert out of the
	// open, acknowledged and active listings; zero when never snoozed.
	SnoozedUntil time.Time `json:"snoozed_until,omitzero"`
}

// Snoozed reports whether the alert, not resolved, is snoozed past now.
func (a *Alert) Snoozed(now time.Time) bool {
	return a.Status != StatusResolved && a.SnoozedUntil.After(now)
}

// Query selects alerts for a listing; empty fields match everything.
type Query struct {
	AccountID string
	Owner     string
	// Status is one of the alert statuses, StatusActive for open and
	// acknowledged alerts together, or StatusSnoozed. Open, acknowledged
	// and active leave out the alerts snoozed past Now, which come back
	// when their snooze ends; empty selects every alert.
	Status string
	// Rules and Severities keep the alerts of any of the rules named and
	// of any of the severities; empty keeps all.
	Rules      []string
	Severities []string
	// Sort is SortSeverityARR or SortNewest; empty means SortNewest.
	Sort string
	// After continues the listing after the alert it names, in Sort's
	// order (its Sort must be Sort's).
	After *Cursor
	// Now is the time snoozes are measured against; zero means the
	// current time.
	Now time.Time
	// Limit bounds the alerts listed; zero or less means 100.
	Limit int
}

// Delivery statuses. A delivery is pending until the receiver accepts it
// (delivered) or its attempts run out (dead, the dead-letter state).
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryDead      = "dead"
)

// Delivery is one webhook message in the outbox.
type Delivery struct {
	ID      string
	AlertID string
	Owner   string // whose webhook URL receives it
	// Payload is the JSON body to post.
	Payload       []byte
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	DeliveredAt   time.Time // zero until delivered
}

// OutboxStats is the state of the delivery queue.
type OutboxStats struct {
	Pending int
	Dead    int
	// OldestPending is the creation time of the oldest pending delivery;
	// zero when none is pending.
	OldestPending time.Time
}
