package dataset_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/training/dataset"
)

const day = 24 * time.Hour

// t0 is the as-of time of the label tests.
var t0 = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

func change(kind string, at time.Time) features.BillingChange {
	mrr := 100.0
	if kind == features.BillingChurn {
		mrr = 0
	}
	return features.BillingChange{AccountID: "a", ChangeID: kind + at.Format(time.RFC3339), Kind: kind, At: at, MRR: mrr, Seats: 2, Plan: "team-monthly"}
}

// customer returns a history paying since t0 minus 100 days, then the
// given billing changes.
func customer(changes ...features.BillingChange) *features.History {
	h := &features.History{AccountID: "a", Account: &features.Account{AccountID: "a", Segment: "smb", CreatedAt: t0.Add(-100 * day)}}
	h.Billing = append([]features.BillingChange{change(features.BillingNew, t0.Add(-100*day))}, changes...)
	return h
}

// labelOf builds h as of t0 and labels it under task; keep is false when
// the row is dropped.
func labelOf(t *testing.T, task dataset.Task, h *features.History) (label float64, keep bool) {
	t.Helper()
	b, err := features.NewBuilder(features.Config{})
	if err != nil {
		t.Fatal(err)
	}
	times := task.AsOf(h, nil)
	if !slices.Contains(times, t0) {
		return 0, false
	}
	vs, err := b.Build(h, []time.Time{t0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return task.Label(h, &vs[0])
}

func TestChurnLabels(t *testing.T) {
	lead, horizon, grace := 7*day, 30*day, 30*day
	enough := t0.Add(lead + horizon + grace)
	churnTask := func(end time.Time) *dataset.Churn {
		return &dataset.Churn{Schedule: []time.Time{t0}, Lead: lead, Horizon: horizon, Grace: grace, DataEnd: end}
	}
	tests := []struct {
		name    string
		h       *features.History
		dataEnd time.Time
		keep    bool
		label   float64
	}{
		{"stays", customer(), enough, true, 0},
		// The lead is [T, T+lead), the label window [T+lead, T+lead+horizon).
		{"churn just before as_of+lead is within the lead: dropped", customer(change("churn", t0.Add(lead-time.Second))), enough, false, 0},
		{"churn exactly at as_of+lead starts the label window", customer(change("churn", t0.Add(lead))), enough, true, 1},
		{"churn just after the lead", customer(change("churn", t0.Add(lead+time.Second))), enough, true, 1},
		{"churn inside the lead: dropped", customer(change("churn", t0.Add(2*day))), enough, false, 0},
		{"churn just before as_of+lead+horizon is included", customer(change("churn", t0.Add(lead+horizon-time.Second))), enough, true, 1},
		{"churn exactly at as_of+lead+horizon belongs to the next window", customer(change("churn", t0.Add(lead+horizon))), enough, true, 0},
		{"churn just after the horizon", customer(change("churn", t0.Add(lead+horizon+time.Second))), enough, true, 0},
		{"churned and returned within grace", customer(change("churn", t0.Add(10*day)), change("reactivation", t0.Add(10*day+grace))), enough, true, 0},
		{"churned and returned after grace", customer(change("churn", t0.Add(10*day)), change("reactivation", t0.Add(10*day+grace+time.Second))), enough, true, 1},
		{"churned before as_of: not paying", customer(change("churn", t0.Add(-time.Second))), enough, false, 0},
		{"churning at as_of is within the lead: dropped", customer(change("churn", t0)), enough, false, 0},
		{"data ends inside the grace after the window", customer(), enough.Add(-time.Second), false, 0},
		{"data ends exactly at window end plus grace", customer(change("churn", t0.Add(20*day))), enough, true, 1},
		{"trial, not a customer", &features.History{AccountID: "a", Account: &features.Account{AccountID: "a", CreatedAt: t0.Add(-3 * day),
			TrialStartedAt: t0.Add(-3 * day)}}, enough, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			label, keep := labelOf(t, churnTask(tt.dataEnd), tt.h)
			if keep != tt.keep || keep && label != tt.label {
				t.Errorf("label %v, keep %v; want %v, %v", label, keep, tt.label, tt.keep)
			}
		})
	}
}

// TestChurnedAtWithoutBilling checks the accounts table's churned_at is a
// churn when the billing table has none.
func TestChurnedAtWithoutBilling(t *testing.T) {
	h := customer()
	h.Account.ChurnedAt = t0.Add(20 * day)
	task := &dataset.Churn{Schedule: []time.Time{t0}, Lead: 7 * day, Horizon: 30 * day, Grace: 30 * day, DataEnd: t0.Add(365 * day)}
	if label, keep := labelOf(t, task, h); !keep || label != 1 {
		t.Errorf("label %v, keep %v; want 1, true", label, keep)
	}
}

func TestConversionLabels(t *testing.T) {
	grace := 7 * day
	start := t0.Add(-7 * day) // observed on trial day 7, at t0
	trial := func(converted time.Time, billing ...features.BillingChange) *features.History {
		return &features.History{AccountID: "a", Billing: billing, Account: &features.Account{AccountID: "a", CreatedAt: start,
			TrialStartedAt: start, TrialEndsAt: start.Add(14 * day), ConvertedAt: converted}}
	}
	trialEnd := start.Add(14 * day)
	enough := trialEnd.Add(grace)
	tests := []struct {
		name    string
		h       *features.History
		dataEnd time.Time
		keep    bool
		label   float64
	}{
		{"lapses", trial(time.Time{}), enough, true, 0},
		{"converts on day 10", trial(start.Add(10*day), change("new", start.Add(10*day))), enough, true, 1},
		{"converts exactly at trial end plus grace", trial(enough, change("new", enough)), enough, true, 1},
		{"converts after grace", trial(enough.Add(time.Second), change("new", enough.Add(time.Second))), enough.Add(time.Hour), true, 0},
		{"converted before trial day 7: dropped", trial(start.Add(3*day), change("new", start.Add(3*day))), enough, false, 0},
		{"converted_at without billing", trial(start.Add(9 * day)), enough, true, 1},
		{"still open at the data's end: dropped", trial(time.Time{}), enough.Add(-time.Second), false, 0},
		{"not a trial", customer(), enough, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := &dataset.Conversion{TrialDay: 7, Grace: grace, DataEnd: tt.dataEnd}
			label, keep := labelOf(t, task, tt.h)
			if keep != tt.keep || keep && label != tt.label {
				t.Errorf("label %v, keep %v; want %v, %v", label, keep, tt.label, tt.keep)
			}
		})
	}
}

func TestCurrent(t *testing.T) {
	task := &dataset.Current{At: t0}
	paying, _ := labelOf(t, task, customer())
	if _, keep := labelOf(t, task, customer()); !keep || !math.IsNaN(paying) {
		t.Errorf("a paying customer: keep %v, label %v; want true, NaN", keep, paying)
	}
	if _, keep := labelOf(t, task, customer(change("churn", t0.Add(-day)))); keep {
		t.Error("a churned customer is kept")
	}
}

func TestParseSpanSchedule(t *testing.T) {
	tests := []struct {
		in   string
		want dataset.Span
		ok   bool
	}{
		{"30d", dataset.Span{Days: 30}, true},
		{"2w", dataset.Span{Days: 14}, true},
		{"1m", dataset.Span{Months: 1}, true},
		{"12h", dataset.Span{}, false},
		{"m", dataset.Span{}, false},
		{"-1d", dataset.Span{}, false},
	}
	for _, tt := range tests {
		got, err := dataset.ParseSpan(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSpan(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	from := time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)
	got, err := dataset.Schedule(from, time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC), dataset.Span{Months: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Steps count from the start, not from the previous step, so a
	// short month does not shift the steps after it.
	// Months clamp to their end, as billing does.
	want := []time.Time{from, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC)}
	if !slices.Equal(got, want) {
		t.Errorf("Schedule = %v, want %v", got, want)
	}
	if _, err := dataset.Schedule(from, from, dataset.Span{}); err == nil {
		t.Error("Schedule with an empty step succeeded")
	}
}

// TestChurnLeadZero checks the edges of the label window without a lead:
// a churn at T itself is the first instant of the window.
func TestChurnLeadZero(t *testing.T) {
	horizon := 30 * day
	task := &dataset.Churn{Schedule: []time.Time{t0}, Horizon: horizon, DataEnd: t0.Add(horizon)}
	for _, tt := range []struct {
		at    time.Time
		label float64
	}{{t0, 1}, {t0.Add(horizon - time.Nanosecond), 1}, {t0.Add(horizon), 0}} {
		if label, keep := labelOf(t, task, customer(change("churn", tt.at))); !keep || label != tt.label {
			t.Errorf("churn at T+%s: label %v, keep %v; want %v, true", tt.at.Sub(t0), label, keep, tt.label)
		}
	}
}

// TestChurnKnown checks when a churn label becomes known: at the end of
// the label window, and later only where a return within grace settled
// it after that.
func TestChurnKnown(t *testing.T) {
	lead, horizon, grace := 7*day, 30*day, 30*day
	task := &dataset.Churn{Lead: lead, Horizon: horizon, Grace: grace, DataEnd: t0.Add(365 * day)}
	end := t0.Add(lead + horizon)
	tests := []struct {
		name string
		h    *features.History
		want time.Time
	}{
		{"no churn", customer(), end},
		{"a churn that stands is known at the window's end", customer(change("churn", t0.Add(20*day))), end},
		{"a churn undone before the window's end", customer(change("churn", t0.Add(10*day)), change("reactivation", t0.Add(20*day))), end},
		{"a churn undone after the window's end", customer(change("churn", t0.Add(30*day)), change("reactivation", t0.Add(50*day))), t0.Add(50 * day)},
		{"a churn in the lead undone by a return within the window", customer(change("churn", t0.Add(3*day)), change("new", t0.Add(3*day+grace))), end},
		{"a churn at the window's end belongs to the next row", customer(change("churn", end), change("reactivation", end.Add(day))), end},
		{"a return after grace settles nothing", customer(change("churn", t0.Add(30*day)), change("reactivation", t0.Add(30*day+grace+time.Second))), end},
		{"a churn before the row", customer(change("churn", t0.Add(-5*day)), change("reactivation", t0.Add(-day))), end},
	}
	for _, tt := range tests {
		if got := task.Known(tt.h, t0); !got.Equal(tt.want) {
			t.Errorf("%s: known at T+%s, want T+%s", tt.name, got.Sub(t0), tt.want.Sub(t0))
		}
	}
	h := customer()
	h.Account.ChurnedAt = t0.Add(30 * day)
	h.Billing = append(h.Billing, change("reactivation", t0.Add(45*day)))
	if got := task.Known(h, t0); !got.Equal(t0.Add(45 * day)) {
		t.Errorf("churned_at undone by a reactivation: known at T+%s, want T+45 days", got.Sub(t0))
	}
}
