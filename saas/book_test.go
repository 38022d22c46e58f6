package saas

import (
	"strings"
	"testing"

	"github.com/openchurn/churn/features"
)

func TestBookRefusesBadInput(t *testing.T) {
	bc := func(acct string, day int) *features.BillingChange {
		return &features.BillingChange{ChangeID: acct, AccountID: acct, At: at(2025, 1, day, 0), MRR: 10, Kind: "new"}
	}
	ev := func(acct string, day int) *features.UsageEvent {
		return &features.UsageEvent{AccountID: acct, Feature: "f", At: at(2025, 1, day, 0), Count: 1}
	}
	tests := []struct {
		name string
		opts Options
		add  func(*Book) error
		want string
	}{
		{"margin above 1", Options{GrossMargin: 1.5}, nil, "gross margin 1.5"},
		{"negative catalogue", Options{CatalogueSize: -1}, nil, "catalogue size -1"},
		{"account twice", Options{}, func(b *Book) error {
			b.AddAccount(&features.Account{AccountID: "a"})
			return b.AddAccount(&features.Account{AccountID: "a"})
		}, "account a added twice"},
		{"billing out of order", Options{}, func(b *Book) error {
			b.AddBillingChange(bc("a", 5))
			return b.AddBillingChange(bc("a", 4))
		}, "out of time order"},
		{"billing not together", Options{}, func(b *Book) error {
			b.AddBillingChange(bc("a", 1))
			b.AddBillingChange(bc("b", 1))
			return b.AddBillingChange(bc("a", 2))
		}, "billing changes of account a are not together"},
		{"usage out of order", Options{}, func(b *Book) error {
			b.AddUsageEvent(ev("a", 5))
			return b.AddUsageEvent(ev("a", 4))
		}, "out of time order"},
		{"usage not together", Options{}, func(b *Book) error {
			b.AddUsageEvent(ev("a", 1))
			b.AddUsageEvent(ev("b", 1))
			return b.AddUsageEvent(ev("a", 2))
		}, "usage events of account a are not together"},
		{"spend kind", Options{}, func(b *Book) error { return b.AddSpend(&features.Spend{Kind: "ads"}) }, `spend kind "ads"`},
		{"empty range", Options{}, func(b *Book) error { _, err := b.MRR(Range{From: jan, To: jan - 1}); return err }, "is empty"},
		{"long range", Options{}, func(b *Book) error { _, err := b.Support(Range{From: jan, To: jan + 5000}); return err }, "longer than"},
		{"cohorts by", Options{}, func(b *Book) error { _, err := b.Cohorts(q1, "plan"); return err }, `cohorts by "plan"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := NewBook(tt.opts)
			if err == nil && tt.add != nil {
				err = tt.add(b)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestAnnualPlans(t *testing.T) {
	tests := []struct {
		plans []string
		plan  string
		want  bool
	}{
		{nil, "pro-annual", true},
		{nil, "Pro Yearly", true},
		{nil, "pro-monthly", false},
		{nil, "al", false},
		{[]string{"gold"}, "gold", true},
		{[]string{"gold"}, "pro-annual", false},
	}
	for _, tt := range tests {
		o := Options{AnnualPlans: tt.plans}
		if got := o.annual(tt.plan); got != tt.want {
			t.Errorf("AnnualPlans %v: annual(%q) = %v, want %v", tt.plans, tt.plan, got, tt.want)
		}
	}
}

func TestParseMonth(t *testing.T) {
	for in, want := range map[string]string{"2025-01": "2025-01", "2024-12-31": "2024-12"} {
		m, err := ParseMonth(in)
		if err != nil || m.String() != want {
			t.Errorf("ParseMonth(%q) = %v, %v; want %s", in, m, err, want)
		}
	}
	if _, err := ParseMonth("January"); err == nil {
		t.Error("ParseMonth(January) succeeded")
	}
	if q := MonthOf(at(2025, 11, 3, 0)).Quarter(); q != "2025-Q4" {
		t.Errorf("quarter %s, want 2025-Q4", q)
	}
}
