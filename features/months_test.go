package features_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestAddMonths(t *testing.T) {
	tests := []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{date(2024, 1, 31), 1, date(2024, 2, 29)}, // leap year
		{date(2024, 1, 31), 2, date(2024, 3, 31)}, // counted from the anchor, not from Feb 29
		{date(2023, 1, 31), 1, date(2023, 2, 28)},
		{date(2100, 1, 31), 1, date(2100, 2, 28)}, // a century is not a leap year
		{date(2000, 1, 31), 1, date(2000, 2, 29)}, // unless divisible by 400
		{date(2024, 2, 29), 12, date(2025, 2, 28)},
		{date(2024, 2, 29), 48, date(2028, 2, 29)},
		{date(2024, 3, 31), -1, date(2024, 2, 29)},
		{date(2024, 12, 31), 2, date(2025, 2, 28)},
		{date(2024, 5, 15), 0, date(2024, 5, 15)},
		{time.Date(2024, 8, 31, 13, 45, 7, 9, time.UTC), 1, time.Date(2024, 9, 30, 13, 45, 7, 9, time.UTC)},
	}
	for _, tt := range tests {
		if got := features.AddMonths(tt.from, tt.n); !got.Equal(tt.want) {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", tt.from.Format(time.DateOnly), tt.n, got, tt.want)
		}
	}
}

// TestDaysToRenewalClampsToMonthEnd checks that a monthly subscription
// started on January 31 renews on February 29 and March 31 of a leap
// year, and an annual one started on February 29 on February 28.
func TestDaysToRenewalClampsToMonthEnd(t *testing.T) {
	monthly := &features.History{AccountID: "a1", Billing: []features.BillingChange{
		{AccountID: "a1", Kind: features.BillingNew, Plan: "team-monthly", Seats: 1, MRR: 29, At: date(2024, 1, 31)}}}
	annual := &features.History{AccountID: "a1", Billing: []features.BillingChange{
		{AccountID: "a1", Kind: features.BillingNew, Plan: "team-annual", Seats: 1, MRR: 25, At: date(2024, 2, 29)}}}
	tests := []struct {
		h    *features.History
		asOf time.Time
		want float64
	}{
		{monthly, date(2024, 2, 10), 19}, // Feb 29
		{monthly, date(2024, 2, 29), 0},  // the renewal day itself
		{monthly, date(2024, 3, 1), 30},  // Mar 31, not Mar 2
		{monthly, date(2024, 3, 31), 0},  // Mar 31
		{monthly, date(2024, 4, 1), 29},  // Apr 30
		{monthly, date(2025, 2, 1), 27},  // Feb 28 of a common year
		{annual, date(2024, 3, 1), 364},  // Feb 28, 2025
		{annual, date(2027, 3, 1), 365},  // Feb 29, 2028
		{annual, date(2025, 2, 28), 0},   // the clamped anniversary
		{annual, date(2025, 3, 1), 364},  // Feb 28, 2026
	}
	b, err := features.NewBuilder(features.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		// Each as-of time alone, and all of one history in one sweep
		// below, so that the cached renewal is exercised too.
		vs, err := b.Build(tt.h, []time.Time{tt.asOf}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := vs[0].Value("days_to_renewal"); got != tt.want {
			t.Errorf("%s as of %s: days_to_renewal %v, want %v", tt.h.Billing[0].Plan, tt.asOf.Format(time.DateOnly), got, tt.want)
		}
	}
	var times []time.Time
	for _, tt := range tests[:6] {
		times = append(times, tt.asOf)
	}
	vs, err := b.Build(monthly, times, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range vs {
		if got := v.Value("days_to_renewal"); got != tests[k].want {
			t.Errorf("one sweep, as of %s: days_to_renewal %v, want %v", v.AsOf.Format(time.DateOnly), got, tests[k].want)
		}
	}
}

// AddMonths bills as billing systems do: a subscription started on
// January 31 renews on the last day of shorter months.
func ExampleAddMonths() {
	start := time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)
	for k := range 4 {
		fmt.Println(features.AddMonths(start, k).Format(time.DateOnly))
	}
	// Output:
	// 2024-01-31
	// 2024-02-29
	// 2024-03-31
	// 2024-04-30
}
