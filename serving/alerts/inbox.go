package alerts

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Severities are the alert severities, least urgent first. A rule's
// severity is one of them.
var Severities = []string{"info", "low", "medium", "high", "critical"}

// SeverityWeight is a severity's weight in the inbox's default order,
// doubling at each step so that an alert counts as much as one a step
// more severe on an account of half its ARR: info 1, low 2, medium 4,
// high 8, critical 16, and 0 for any other string.
func SeverityWeight(severity string) int {
	i := slices.Index(Severities, severity)
	if i < 0 {
		return 0
	}
	return 1 << i
}

// The orders of an alert listing.
const (
	// SortSeverityARR puts first the alerts whose severity weight ×
	// account ARR is highest; ties go newest opened first, then by id.
	SortSeverityARR = "severity_arr"
	// SortNewest puts the latest opened alerts first, ties by id.
	SortNewest = "newest"
)

// Sorts are the orders an alert listing takes, the default first.
var Sorts = []string{SortSeverityARR, SortNewest}

// StatusSnoozed is not a status an alert has: a Query with it selects
// the open and acknowledged alerts snoozed past the query's time, which
// every other status leaves out.
const StatusSnoozed = "snoozed"

// QueryStatuses are the values Query.Status takes besides "" (every
// alert, snoozed or not).
var QueryStatuses = []string{StatusActive, StatusOpen, StatusAcknowledged, StatusSnoozed, StatusResolved}

// Row is an alert as the inbox lists it: with its account's name, the
// account's current health and band, and its ARR.
type Row struct {
	Alert
	AccountName string
	// Health and Band are the account's current churn score's; Scored is
	// false, and they are zero, when it has none.
	Health float64
	Band   string
	Scored bool
	// ARR is the account's MRR × 12; for an account without MRR (a
	// trial), the ARR its current conversion score expects it to bring if
	// it converts; else 0.
	ARR float64
	// Value is SeverityWeight(Severity) × ARR, the default order's key.
	Value float64
}

// Cursor names the last alert of a page of a listing, in the listing's
// order: its Sort, its Value (zero for SortNewest), opening time and id.
type Cursor struct {
	Sort     string    `json:"s"`
	Value    float64   `json:"v"`
	OpenedAt time.Time `json:"t"`
	ID       string    `json:"id"`
}

// CursorAfter returns the cursor naming r in a listing ordered by sort.
func CursorAfter(sort string, r *Row) Cursor {
	c := Cursor{Sort: sort, OpenedAt: r.OpenedAt, ID: r.ID}
	if sort == SortSeverityARR {
		c.Value = r.Value
	}
	return c
}

// Actions a person takes on an alert.
const (
	ActionAcknowledge = "acknowledge"
	ActionSnooze      = "snooze"
	ActionResolve     = "resolve"
)

// Actor is who acts on an alert: the API key, by id and name, that a
// request or a dashboard session presented.
type Actor struct {
	KeyID string `json:"key_id"`
	Name  string `json:"name"`
}

// Action is one logged action on an alert.
type Action struct {
	ID        string `json:"id"`
	AlertID   string `json:"alert_id"`
	AccountID string `json:"account_id"`
	// Rule is the alert's rule, read with the action.
	Rule string `json:"rule"`
	// Kind is ActionAcknowledge, ActionSnooze or ActionResolve.
	Kind string `json:"action"`
	By   Actor  `json:"by"`
	// Note is what the actor wrote when resolving; empty otherwise.
	Note string `json:"note,omitempty"`
	// Until is when a snooze ends; zero for other actions.
	Until time.Time `json:"until,omitzero"`
	At    time.Time `json:"at"`
}

// NewActionID returns a new random action id.
func NewActionID() string { return newID("ac_") }

// MaxSnooze is how far ahead an alert may be snoozed.
const MaxSnooze = 366 * 24 * time.Hour

// ParseUntil reads when a snooze ends: a date (YYYY-MM-DD, its start in
// UTC) or an RFC 3339 time, which must lie after now and at most MaxSnooze
// ahead of it.
func ParseUntil(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			return time.Time{}, fmt.Errorf("until %q is neither a date (YYYY-MM-DD) nor an RFC 3339 time", s)
		}
	}
	t = t.UTC().Truncate(time.Microsecond)
	switch {
	case !t.After(now):
		return time.Time{}, fmt.Errorf("until %s is not in the future (now is %s)", t.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case t.After(now.Add(MaxSnooze)):
		return time.Time{}, fmt.Errorf("until %s is more than %d days ahead", t.Format(time.RFC3339), MaxSnooze/(24*time.Hour))
	}
	return t, nil
}

// MaxNote is how many characters a resolution note may hold.
const MaxNote = 2000

// CleanNote returns a resolution note without its surrounding spaces, or
// an error when it holds more than MaxNote characters, a NUL or invalid
// UTF-8, which no store keeps as text.
func CleanNote(note string) (string, error) {
	note = strings.TrimSpace(note)
	if !utf8.ValidString(note) || strings.ContainsRune(note, 0) || utf8.RuneCountInString(note) > MaxNote {
		return "", fmt.Errorf("a note holds at most %d characters of valid UTF-8, without NUL", MaxNote)
	}
	return note, nil
}

// CheckFilter checks the values of a listing's rule and severity filters
// against the rules: each rule must be one of their names and each
// severity one of Severities. The error names the first unknown value.
func (rs Rules) CheckFilter(rules, severities []string) error {
	for _, r := range rules {
		if !slices.ContainsFunc(rs, func(x Rule) bool { return x.Name == r }) {
			return fmt.Errorf("rule %q is not a configured alert rule (want one of %s)", r, strings.Join(rs.Names(), ", "))
		}
	}
	for _, s := range severities {
		if !slices.Contains(Severities, s) {
			return fmt.Errorf("severity %q is not one of %s", s, strings.Join(Severities, ", "))
		}
	}
	return nil
}

// Names returns the rules' names in order.
func (rs Rules) Names() []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}
