package features

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// The limits every record's Validate enforces, so that files, transform
// views and HTTP ingestion accept exactly the same rows on every store,
// and no stored value can overflow the arithmetic done on it (a sum of a
// million rows of MaxMoney is still far below the float64 range).
const (
	// MaxIDBytes bounds an identifier (account_id, event_id, user_id,
	// owner, feature, …): printable UTF-8, no control characters.
	MaxIDBytes = 256
	// MaxTextBytes bounds a free-text field (name, note, plan, …): valid
	// UTF-8 without NUL.
	MaxTextBytes = 8 << 10
	// MaxMoney bounds an amount of one row (mrr), in the account's
	// currency unit.
	MaxMoney = 1e12
	// MaxCount bounds a count (count, errors) and a duration in seconds.
	MaxCount = 1_000_000_000
	// MaxSeats bounds a seat count.
	MaxSeats = 10_000_000
)

// EarliestEvent is the earliest time an event (usage, ticket, escalation,
// survey, billing change, and an account's creation, trial start,
// conversion and churn) may carry.
var EarliestEvent = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultEventLead is how far past now an event time may lie by default:
// a day absorbs clock skew and time zones written as UTC.
const DefaultEventLead = 24 * time.Hour

var eventLead atomic.Int64

func init() { eventLead.Store(int64(DefaultEventLead)) }

// SetEventLead sets how far past now an event time may lie (churn.yaml's
// limits.event_lead); d <= 0 restores DefaultEventLead. Plan times, such
// as renewal_at and trial_ends_at, take any valid time.
func SetEventLead(d time.Duration) {
	if d <= 0 {
		d = DefaultEventLead
	}
	eventLead.Store(int64(d))
}

// EventLead returns how far past now an event time may lie.
func EventLead() time.Duration { return time.Duration(eventLead.Load()) }

// identifier checks an id: set when required, at most MaxIDBytes of
// printable UTF-8.
func identifier(field, v string, required bool) error {
	switch {
	case v == "" && required:
		return fieldErr(field, "is required")
	case len(v) > MaxIDBytes:
		return fieldErr(field, "is %d bytes long; ids are at most %d", len(v), MaxIDBytes)
	case !utf8.ValidString(v):
		return fieldErr(field, "is not valid UTF-8")
	}
	for i, r := range v {
		if !unicode.IsPrint(r) {
			return fieldErr(field, "holds the non-printable character %U at byte %d; ids are printable text", r, i)
		}
	}
	return nil
}

// id checks a required identifier.
func id(field, v string) error { return identifier(field, v, true) }

// optionalID checks an identifier that may be empty.
func optionalID(field, v string) error { return identifier(field, v, false) }

// text checks a free-text field: at most MaxTextBytes of valid UTF-8
// without NUL, which PostgreSQL cannot store in text.
func text(field, v string) error {
	switch {
	case len(v) > MaxTextBytes:
		return fieldErr(field, "is %d bytes long; text is at most %d", len(v), MaxTextBytes)
	case !utf8.ValidString(v):
		return fieldErr(field, "is not valid UTF-8")
	}
	for i := 0; i < len(v); i++ {
		if v[i] == 0 {
			return fieldErr(field, "holds a NUL byte at byte %d", i)
		}
	}
	return nil
}

// money checks an amount: finite, non-negative, at most MaxMoney.
func money(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > MaxMoney {
		return fieldErr(field, "%v is not an amount from 0 to %g", v, float64(MaxMoney))
	}
	return nil
}

// bounded checks an integer against [lo, hi].
func bounded(field string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fieldErr(field, "%d is not between %d and %d", v, lo, hi)
	}
	return nil
}

// seconds checks a duration in seconds: finite, from 0 to MaxCount.
func seconds(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > MaxCount {
		return fieldErr(field, "%v is not a number of seconds from 0 to %d", v, MaxCount)
	}
	return nil
}

// eventTime checks the time of an event, which is optional unless
// required: within [EarliestEvent, now + EventLead()].
func eventTime(field string, t time.Time, required bool) error {
	if t.IsZero() {
		if required {
			return fieldErr(field, "is required")
		}
		return nil
	}
	latest := time.Now().Add(EventLead())
	if t.Before(EarliestEvent) || t.After(latest) {
		return fieldErr(field, "%s is not between %s and %s (now + %v); event times cannot lie before 1970 or in the future",
			t.Format(time.RFC3339), EarliestEvent.Format(time.DateOnly), latest.UTC().Format(time.RFC3339), EventLead())
	}
	return nil
}

// planTime checks an optional plan time (renewal_at, trial_ends_at): any
// year from 1 to 9999, which every store and JSON can hold.
func planTime(field string, t time.Time) error {
	if !t.IsZero() && (t.Year() < 1 || t.Year() > 9999) {
		return fieldErr(field, "%v is outside the years 1 to 9999", t)
	}
	return nil
}

// attributes checks free attributes: names are ids, values free text.
func attributes(attrs map[string]string) error {
	for k, v := range attrs {
		if err := id("attr_"+k, k); err != nil {
			return err
		}
		if err := text("attr_"+k, v); err != nil {
			return err
		}
	}
	return nil
}

// ZeroTimeReason is why a time of 0001-01-01T00:00:00Z is refused: Go
// and this service read that instant as "not set".
var ZeroTimeReason = fmt.Sprintf("%s is the zero time, which means \"not set\"; leave the field empty or give a time from %s",
	time.Time{}.Format(time.RFC3339), EarliestEvent.Format(time.DateOnly))
