package features

import (
	"fmt"
	"time"
)

// Account is a customer or a trial: the unit that churns or converts.
type Account struct {
	AccountID string
	Name      string
	Segment   string // e.g. smb, mid-market, enterprise
	Plan      string
	Seats     int
	Owner     string // the rep the account's alerts are routed to
	// CreatedAt is when the account started. An export may leave it out:
	// the store then starts the account at its earliest record of any
	// table (see store.LoadWith).
	CreatedAt time.Time
	// Optional lifecycle times; zero when not (yet) set.
	TrialStartedAt time.Time
	TrialEndsAt    time.Time
	ConvertedAt    time.Time
	ChurnedAt      time.Time
	RenewalAt      time.Time
	MRR            float64
	// Attributes holds free firmographic attributes by name (an export's
	// attr_country column is Attributes["country"]); nil when none.
	Attributes map[string]string
}

// UsageEvent records that a user used a product feature.
type UsageEvent struct {
	// EventID is the idempotency key: an event is identified by its
	// AccountID, At and EventID, so re-sending it changes nothing, and one
	// sent again with another time is another event. When an export has
	// none, the loader derives one from the event's content, so
	// re-sending a file is safe.
	EventID   string
	AccountID string
	UserID    string
	Feature   string
	At        time.Time
	Count     int     // number of uses folded into this event; at least 1
	DurationS float64 // seconds spent; 0 when not recorded
	Errors    int     // errors the user hit
}

// Ticket is a support ticket. Its times say when each fact became known:
// features count a resolution at ResolvedAt, not at OpenedAt.
type Ticket struct {
	TicketID        string
	AccountID       string
	OpenedAt        time.Time
	FirstResponseAt time.Time // zero while unanswered
	ResolvedAt      time.Time // zero while open
	Priority        string    // one of Priorities
	Category        string
	CSAT            int // 1 to 5; 0 when the customer gave no rating
	Escalated       bool
	// AgentReplies counts the agents' replies before resolution; 0 when
	// the export does not record it.
	AgentReplies int
}

// Escalation is a flagged event on an account, negative (trouble) or
// positive (an opportunity such as an expansion lead).
type Escalation struct {
	EscalationID string
	AccountID    string
	At           time.Time
	Direction    string // DirectionNegative or DirectionPositive
	Severity     string // one of Severities
	Note         string
}

// SurveyResponse is one answer to an NPS or CSAT survey.
type SurveyResponse struct {
	ResponseID string
	AccountID  string
	UserID     string
	At         time.Time
	Kind       string // SurveyNPS (score 0 to 10) or SurveyCSAT (score 1 to 5)
	Score      int
}

// BillingChange is a change to an account's subscription.
type BillingChange struct {
	ChangeID  string
	AccountID string
	At        time.Time
	MRR       float64 // monthly recurring revenue after the change
	Seats     int     // seats after the change
	Plan      string  // plan after the change
	Kind      string  // one of BillingKinds
}

// Enumerated field values.
const (
	DirectionNegative = "negative"
	DirectionPositive = "positive"

	SurveyNPS  = "nps"
	SurveyCSAT = "csat"

	BillingNew          = "new"
	BillingExpansion    = "expansion"
	BillingContraction  = "contraction"
	BillingChurn        = "churn"
	BillingReactivation = "reactivation"
)

var (
	// Priorities lists the ticket priorities, lowest first.
	Priorities = []string{"low", "normal", "high", "urgent"}
	// Severities lists the escalation severities, lowest first.
	Severities = []string{"low", "medium", "high", "critical"}
	// Directions lists the escalation directions.
	Directions = []string{DirectionNegative, DirectionPositive}
	// SurveyKinds lists the survey kinds.
	SurveyKinds = []string{SurveyNPS, SurveyCSAT}
	// BillingKinds lists the billing change kinds.
	BillingKinds = []string{BillingNew, BillingExpansion, BillingContraction, BillingChurn, BillingReactivation}
)

// FieldError reports an invalid field of a record. Field is the canonical
// column name, as listed by Table.Columns.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("column %q: %s", e.Field, e.Reason) }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func oneOf(field, value string, allowed []string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return fieldErr(field, "%q is not one of %v", value, allowed)
}

// notBefore reports an error when the optional time t is set and earlier
// than the required time ref.
func notBefore(field string, t time.Time, refField string, ref time.Time) error {
	if !t.IsZero() && t.Before(ref) {
		return fieldErr(field, "%s is before %s %s", t.Format(time.RFC3339), refField, ref.Format(time.RFC3339))
	}
	return nil
}

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// ValidateOwner reports, as a *FieldError of the field "owner", why v
// cannot be an account's owner id: the rule Account.Validate applies to
// Owner, for the other places that name an owner (an API key's).
func ValidateOwner(v string) error { return optionalID("owner", v) }

// Validate reports the first invalid field of a, as a *FieldError. Every
// Validate holds the record to the limits of limits.go.
func (a *Account) Validate() error {
	err := firstError(
		id("account_id", a.AccountID),
		text("name", a.Name),
		text("segment", a.Segment),
		text("plan", a.Plan),
		bounded("seats", a.Seats, 0, MaxSeats),
		optionalID("owner", a.Owner),
		eventTime("created_at", a.CreatedAt, false), // absent: the account starts at its earliest record
		eventTime("trial_started_at", a.TrialStartedAt, false),
		planTime("trial_ends_at", a.TrialEndsAt),
		eventTime("converted_at", a.ConvertedAt, false),
		eventTime("churned_at", a.ChurnedAt, false),
		planTime("renewal_at", a.RenewalAt),
		money("mrr", a.MRR),
		notBefore("trial_ends_at", a.TrialEndsAt, "trial_started_at", a.TrialStartedAt),
		notBefore("churned_at", a.ChurnedAt, "created_at", a.CreatedAt),
		notBefore("converted_at", a.ConvertedAt, "created_at", a.CreatedAt),
		attributes(a.Attributes),
	)
	if err == nil && !a.TrialEndsAt.IsZero() && a.TrialStartedAt.IsZero() {
		err = fieldErr("trial_started_at", "is required when trial_ends_at is set")
	}
	return err
}

// Validate reports the first invalid field of e, as a *FieldError.
func (e *UsageEvent) Validate() error {
	return firstError(
		optionalID("event_id", e.EventID),
		id("account_id", e.AccountID),
		optionalID("user_id", e.UserID),
		id("feature", e.Feature),
		eventTime("at", e.At, true),
		bounded("count", e.Count, 1, MaxCount),
		seconds("duration_s", e.DurationS),
		bounded("errors", e.Errors, 0, MaxCount),
	)
}

// Validate reports the first invalid field of t, as a *FieldError.
func (t *Ticket) Validate() error {
	err := firstError(
		id("ticket_id", t.TicketID),
		id("account_id", t.AccountID),
		eventTime("opened_at", t.OpenedAt, true),
		eventTime("first_response_at", t.FirstResponseAt, false),
		eventTime("resolved_at", t.ResolvedAt, false),
		notBefore("first_response_at", t.FirstResponseAt, "opened_at", t.OpenedAt),
		notBefore("resolved_at", t.ResolvedAt, "opened_at", t.OpenedAt),
		oneOf("priority", t.Priority, Priorities),
		text("category", t.Category),
	)
	if err == nil && t.CSAT != 0 && (t.CSAT < 1 || t.CSAT > 5) {
		err = fieldErr("csat", "%d is not between 1 and 5", t.CSAT)
	}
	return err
}

// Validate reports the first invalid field of e, as a *FieldError.
func (e *Escalation) Validate() error {
	return firstError(
		id("escalation_id", e.EscalationID),
		id("account_id", e.AccountID),
		eventTime("at", e.At, true),
		oneOf("direction", e.Direction, Directions),
		oneOf("severity", e.Severity, Severities),
		text("note", e.Note),
	)
}

// Validate reports the first invalid field of r, as a *FieldError.
func (r *SurveyResponse) Validate() error {
	err := firstError(
		id("response_id", r.ResponseID),
		id("account_id", r.AccountID),
		optionalID("user_id", r.UserID),
		eventTime("at", r.At, true),
		oneOf("kind", r.Kind, SurveyKinds),
	)
	if err != nil {
		return err
	}
	lo, hi := 0, 10
	if r.Kind == SurveyCSAT {
		lo, hi = 1, 5
	}
	if r.Score < lo || r.Score > hi {
		return fieldErr("score", "%d is not between %d and %d for a %s survey", r.Score, lo, hi, r.Kind)
	}
	return nil
}

// Validate reports the first invalid field of c, as a *FieldError.
func (c *BillingChange) Validate() error {
	return firstError(
		id("change_id", c.ChangeID),
		id("account_id", c.AccountID),
		eventTime("at", c.At, true),
		money("mrr", c.MRR),
		bounded("seats", c.Seats, 0, MaxSeats),
		text("plan", c.Plan),
		oneOf("kind", c.Kind, BillingKinds),
	)
}
