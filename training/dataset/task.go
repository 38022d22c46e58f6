package dataset

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/openchurn/churn/features"
)

// Task chooses when each account is observed and labels what was
// observed.
type Task interface {
	// AsOf appends to dst[:0] the as-of times at which h is observed, in
	// ascending order, and returns it.
	AsOf(h *features.History, dst []time.Time) []time.Time
	// Label returns the label of v, built from h as of v.AsOf, and whether
	// the row is kept. Unlabelled tasks return NaN.
	Label(h *features.History, v *features.Vector) (label float64, keep bool)
	// Labelled reports whether the task's rows carry labels.
	Labelled() bool
}

// Span is a calendar step: some months plus some days.
type Span struct {
	Months, Days int
}

// ParseSpan parses a step of whole days, weeks or calendar months, such as
// "30d", "2w" or "1m".
func ParseSpan(s string) (Span, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return Span{}, fmt.Errorf("span %q: want a number and a unit, e.g. 30d, 2w or 1m", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n < 0 {
		return Span{}, fmt.Errorf("span %q: want a non-negative whole number before the unit d, w or m", s)
	}
	switch s[len(s)-1] {
	case 'd':
		return Span{Days: n}, nil
	case 'w':
		return Span{Days: 7 * n}, nil
	case 'm':
		return Span{Months: n}, nil
	}
	return Span{}, fmt.Errorf("span %q: unit must be d (days), w (weeks) or m (months)", s)
}

// After returns t plus the span: the months by features.AddMonths, which
// clamps to the month's end as billing does, then the days.
func (s Span) After(t time.Time) time.Time { return s.times(t, 1) }

// times returns t plus k spans, the months counted from t so that a
// short month does not shift the steps after it.
func (s Span) times(t time.Time, k int) time.Time {
	return features.AddMonths(t, k*s.Months).AddDate(0, 0, k*s.Days)
}

// IsZero reports whether the span is empty.
func (s Span) IsZero() bool { return s.Months == 0 && s.Days == 0 }

func (s Span) String() string {
	switch {
	case s.Months == 0:
		return strconv.Itoa(s.Days) + "d"
	case s.Days == 0:
		return strconv.Itoa(s.Months) + "m"
	}
	return strconv.Itoa(s.Months) + "m" + strconv.Itoa(s.Days) + "d"
}

// Schedule returns the times from, from+every, from+2·every, … up to and
// including to. Each is counted from from, with months clamped to the
// month's end: monthly from January 31 gives February 29 (or 28), March
// 31, April 30.
func Schedule(from, to time.Time, every Span) ([]time.Time, error) {
	if every.IsZero() || every.Months < 0 || every.Days < 0 {
		return nil, fmt.Errorf("schedule: step %s is not positive", every)
	}
	var ts []time.Time
	for i := 0; ; i++ {
		t := every.times(from, i)
		if t.After(to) {
			return ts, nil
		}
		ts = append(ts, t)
	}
}

// Churn is the churn task; see the package documentation.
type Churn struct {
	// Schedule lists the observation times in ascending order. It is
	// ignored when Renewals is set.
	Schedule []time.Time
	// Renewals observes each paying account Lead before each of its
	// renewals (features.PaidTerms) in [From, To] instead of on Schedule;
	// a zero To means no bound. A zero Horizon then means up to the next
	// renewal: a month for monthly plans, a year for annual ones.
	Renewals             bool
	From, To             time.Time
	Lead, Horizon, Grace time.Duration
	// DataEnd is when the data stops: nothing after it is known.
	DataEnd time.Time
}

// Validate reports a task that cannot label anything.
func (c *Churn) Validate() error {
	if c.Lead < 0 || c.Horizon < 0 || c.Horizon == 0 && !c.Renewals || c.Grace < 0 {
		return fmt.Errorf("churn: lead %s and grace %s must not be negative and horizon %s must be positive (or zero, up to the next renewal, for renewal observations)",
			c.Lead, c.Grace, c.Horizon)
	}
	if c.DataEnd.IsZero() {
		return errors.New("churn: the data's end is not set")
	}
	return nil
}

// AsOf returns the scheduled times, or with Renewals the times a lead
// before h's renewals, whose label window, grace included, ends by
// DataEnd.
func (c *Churn) AsOf(h *features.History, dst []time.Time) []time.Time {
	dst = dst[:0]
	if !c.Renewals {
		for _, t := range c.Schedule {
			if !t.Add(c.Lead + c.Horizon + c.Grace).After(c.DataEnd) {
				dst = append(dst, t)
			}
		}
		return dst
	}
	features.PaidTerms(h.Billing, func(term features.Term) bool {
		for k := 1; ; k++ {
			r := features.AddMonths(term.Anchor, k*term.Months)
			t := r.Add(-c.Lead)
			switch {
			case !t.After(term.From) || !c.From.IsZero() && t.Before(c.From):
				continue
			case !term.To.IsZero() && t.After(term.To) || !c.To.IsZero() && t.After(c.To):
				return true
			case c.end(r, term).Add(c.Grace).After(c.DataEnd):
				return false
			}
			dst = append(dst, t)
		}
	})
	return dst
}

// window returns the label window [start, end) of h's row as of asOf.
func (c *Churn) window(h *features.History, asOf time.Time) (start, end time.Time) {
	start = asOf.Add(c.Lead)
	if !c.Renewals || c.Horizon > 0 {
		return start, start.Add(c.Horizon)
	}
	end = start.Add(c.Horizon)
	features.PaidTerms(h.Billing, func(term features.Term) bool {
		if asOf.After(term.From) && (term.To.IsZero() || !asOf.After(term.To)) {
			end = c.end(start, term)
			return false
		}
		return true
	})
	return start, end
}

// end returns the end of the label window that starts at renewal r of
// term: r plus the horizon, or the next renewal when the horizon is zero.
func (c *Churn) end(r time.Time, term features.Term) time.Time {
	if c.Horizon > 0 {
		return r.Add(c.Horizon)
	}
	return features.NextRenewal(term.Anchor, term.Months, r.Add(time.Nanosecond))
}

// Label keeps accounts paying at v.AsOf that do not churn within the lead
// time [T, T+lead), and labels them 1 if they churn in the label window
// [T+lead, T+lead+horizon) after it. Both intervals are closed at their
// start and open at their end, so that a churn at T+lead (the renewal a
// lead ahead) is in the label window, and windows of consecutive
// observations one horizon apart tile time: each churn is the positive of
// exactly one row.
func (c *Churn) Label(h *features.History, v *features.Vector) (float64, bool) {
	if !v.Paying() {
		return 0, false
	}
	lead, end := c.window(h, v.AsOf)
	label := 0.0
	for ct := range churns(h, c.Grace) {
		switch {
		case ct.Before(v.AsOf) || !ct.Before(end):
		case ct.Before(lead): // from T on: a churn at T itself was not known at T
			return 0, false
		default:
			label = 1
		}
	}
	return label, true
}

// Labelled returns true.
func (c *Churn) Labelled() bool { return true }

// Known returns when the label of h's row observed as of asOf became
// known: the end of its label window, T+lead+horizon, unless a churn in
// [T, T+lead+horizon) was undone by a return within grace that came
// later, in which case the label (0, or 1 from a later churn) was settled
// only by that return, at its time. Grace widens the window only where
// the data holds such a return: a churn not undone is known at once to
// stand as far as the data goes, so a trainer cut between the window's
// end and the end of its grace labels it as the data will.
func (c *Churn) Known(h *features.History, asOf time.Time) time.Time {
	_, end := c.window(h, asOf)
	known := end
	for ct := range churnEvents(h) {
		if ct.Before(asOf) || !ct.Before(end) {
			continue
		}
		if r, ok := returned(h, ct, c.Grace); ok && r.After(known) {
			known = r
		}
	}
	return known
}

// churns yields the times h churned: its churn events (churnEvents) that
// no new subscription or reactivation follows within grace.
func churns(h *features.History, grace time.Duration) func(yield func(time.Time) bool) {
	return func(yield func(time.Time) bool) {
		for t := range churnEvents(h) {
			if _, ok := returned(h, t, grace); !ok && !yield(t) {
				return
			}
		}
	}
}

// churnEvents yields the times of h's billing changes of kind churn or,
// when h has no billing churn at all, the accounts table's churned_at.
func churnEvents(h *features.History) func(yield func(time.Time) bool) {
	return func(yield func(time.Time) bool) {
		billed := false
		for i := range h.Billing {
			if c := &h.Billing[i]; c.Kind == features.BillingChurn {
				billed = true
				if !yield(c.At) {
					return
				}
			}
		}
		if a := h.Account; !billed && a != nil && !a.ChurnedAt.IsZero() {
			yield(a.ChurnedAt)
		}
	}
}

// returned returns the first time h subscribed again in (t, t+grace], if
// it did.
func returned(h *features.History, t time.Time, grace time.Duration) (time.Time, bool) {
	var first time.Time
	for i := range h.Billing {
		c := &h.Billing[i]
		if (c.Kind == features.BillingReactivation || c.Kind == features.BillingNew) && c.At.After(t) && !c.At.After(t.Add(grace)) &&
			(first.IsZero() || c.At.Before(first)) {
			first = c.At
		}
	}
	return first, !first.IsZero()
}

// Conversion is the conversion task; see the package documentation.
type Conversion struct {
	// TrialDay is the day of the trial the observation is made on.
	TrialDay int
	// TrialDays is the planned trial length, used as the trial's end when
	// the accounts table has no trial_ends_at; zero means
	// features.DefaultTrialDays.
	TrialDays int
	Grace     time.Duration
	// From and To, when set, keep the observations in [From, To].
	From, To time.Time
	DataEnd  time.Time
}

// Validate reports a task that cannot label anything.
func (c *Conversion) Validate() error {
	if c.TrialDay < 0 || c.Grace < 0 || c.TrialDays < 0 {
		return fmt.Errorf("conversion: trial day %d, trial length %d days and grace %s must not be negative", c.TrialDay, c.TrialDays, c.Grace)
	}
	if c.DataEnd.IsZero() {
		return errors.New("conversion: the data's end is not set")
	}
	return nil
}

// AsOf returns trial start + TrialDay days, for accounts that trialled.
func (c *Conversion) AsOf(h *features.History, dst []time.Time) []time.Time {
	dst = dst[:0]
	a := h.Account
	if a == nil || a.TrialStartedAt.IsZero() {
		return dst
	}
	t := a.TrialStartedAt.AddDate(0, 0, c.TrialDay)
	if t.After(c.DataEnd) || !c.From.IsZero() && t.Before(c.From) || !c.To.IsZero() && t.After(c.To) {
		return dst
	}
	return append(dst, t)
}

// Label keeps trials still running at v.AsOf whose end plus grace is
// known, and labels them 1 if they converted by then.
func (c *Conversion) Label(h *features.History, v *features.Vector) (float64, bool) {
	a := h.Account
	if !v.InTrial() || a == nil {
		return 0, false
	}
	end := a.TrialEndsAt
	if end.IsZero() {
		days := c.TrialDays
		if days == 0 {
			days = features.DefaultTrialDays
		}
		end = a.TrialStartedAt.AddDate(0, 0, days)
	}
	deadline := end.Add(c.Grace)
	if deadline.After(c.DataEnd) {
		return 0, false
	}
	converted := !a.ConvertedAt.IsZero() && !a.ConvertedAt.After(deadline)
	for i := range h.Billing {
		if b := &h.Billing[i]; b.At.After(v.AsOf) && !b.At.After(deadline) {
			converted = true
		}
	}
	if converted {
		return 1, true
	}
	return 0, true
}

// Labelled returns true.
func (c *Conversion) Labelled() bool { return true }

// Current observes every account at one time and keeps those paying or in
// a running trial, unlabelled.
type Current struct {
	At time.Time
}

// AsOf returns c.At.
func (c *Current) AsOf(_ *features.History, dst []time.Time) []time.Time {
	return append(dst[:0], c.At)
}

// Label keeps paying accounts and running trials; the label is NaN.
func (c *Current) Label(_ *features.History, v *features.Vector) (float64, bool) {
	return math.NaN(), v.Paying() || v.InTrial()
}

// Labelled returns false.
func (c *Current) Labelled() bool { return false }
