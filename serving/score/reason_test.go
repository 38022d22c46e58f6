package score

import (
	"math"
	"testing"
)

func ptr(x float64) *float64 { return &x }

func TestReasonWording(t *testing.T) {
	tests := []struct {
		name   string
		r      Reason
		task   string
		effect Effect
		value  string
		text   string
	}{
		{"churn, below typical", Reason{Feature: "active_days_30d", Description: "Days with any usage in the last 30 days",
			Value: ptr(3), Typical: ptr(18), Contribution: 0.8}, TaskChurn, Raises, "3",
			"Days with any usage in the last 30 days: 3 (typical 18); raises churn risk"},
		{"conversion, a ratio in percent", Reason{Feature: "adoption", Description: "Share of the catalogue used", Unit: "ratio",
			Value: ptr(0.42), Typical: ptr(0.1), Contribution: 0.3}, TaskConversion, Raises, "42%",
			"Share of the catalogue used: 42% (typical 10%); raises the chance to convert"},
		{"days rounded, formula dropped", Reason{Feature: "days_since_last_use", Description: "Days since anyone last used the product",
			Unit: "days", Value: ptr(24.77), Typical: ptr(3.25), Contribution: 0.4}, TaskChurn, Raises, "25",
			"Days since anyone last used the product: 25 (typical 3.3); raises churn risk"},
		{"log ratio as a change", Reason{Feature: "usage_trend_30d", Description: "Active user-days against the 30 before, as ln((last+1)/(previous+1))",
			Unit: "log ratio", Value: ptr(math.Log(0.6)), Typical: ptr(math.Log(1.25)), Contribution: 0.4}, TaskChurn, Raises, "-40%",
			"Active user-days against the 30 before: -40% (typical +25%); raises churn risk"},
		{"flag", Reason{Feature: "nps_detractor", Description: "Detractor", Unit: "flag", Value: ptr(1), Contribution: 0.4},
			TaskChurn, Raises, "yes", "Detractor: yes; raises churn risk"},
		{"negative contribution lowers", Reason{Feature: "tickets_30d", Description: "Tickets opened in the last 30 days",
			Value: ptr(0), Typical: ptr(1), Contribution: -0.2}, TaskChurn, Lowers, "0",
			"Tickets opened in the last 30 days: 0 (typical 1); lowers churn risk"},
		{"missing with a note", Reason{Feature: "days_since_last_use", Description: "Days since the last use",
			Missing: "the product was never used", Contribution: 1}, TaskChurn, Raises, "unknown (the product was never used)",
			"Days since the last use: unknown (the product was never used); raises churn risk"},
		{"missing without a note", Reason{Feature: "nps_latest", Description: "Latest NPS answer", Contribution: -0.1},
			TaskConversion, Lowers, "unknown", "Latest NPS answer: unknown; lowers the chance to convert"},
		{"categorical", Reason{Feature: "plan", Description: "Plan", Value: ptr(2), Category: "pro", Contribution: 0.1},
			TaskChurn, Raises, "pro", "Plan: pro; raises churn risk"},
		{"stored without a description", Reason{Feature: "seats", Value: ptr(12), Contribution: 0.05}, TaskChurn, Raises, "12",
			"seats: 12; raises churn risk"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.Effect(); got != tc.effect {
				t.Errorf("Effect() = %q, want %q", got, tc.effect)
			}
			if got := tc.r.ValueText(); got != tc.value {
				t.Errorf("ValueText() = %q, want %q", got, tc.value)
			}
			if got := tc.r.Text(tc.task); got != tc.text {
				t.Errorf("Text(%s) =\n%q, want\n%q", tc.task, got, tc.text)
			}
		})
	}
}

func TestFact(t *testing.T) {
	tests := []struct {
		r      Reason
		task   string
		window int
		want   string
	}{
		{Reason{Feature: "days_to_renewal", Value: ptr(24.6), Contribution: 0.3}, TaskChurn, 37,
			"Renews in 25 days, inside the 37-day risk window; raises churn risk"},
		{Reason{Feature: "days_to_renewal", Value: ptr(200), Contribution: -0.3}, TaskChurn, 37,
			"Renews in 200 days, after the 37-day risk window; lowers churn risk"},
		{Reason{Feature: "tenure_days", Value: ptr(400), Contribution: -0.1}, TaskChurn, 37, "Customer for 13 months; lowers churn risk"},
		{Reason{Feature: "trial_day", Value: ptr(7), Contribution: 0.2}, TaskConversion, 0, "Day 7 of the trial; raises the chance to convert"},
		{Reason{Feature: "trial_days_left", Value: ptr(1), Contribution: -0.2}, TaskConversion, 0, "1 day left in the trial; lowers the chance to convert"},
		{Reason{Feature: "plan", Value: ptr(1), Category: "pro", Contribution: 0.1}, TaskChurn, 37, "On the pro plan; raises churn risk"},
		{Reason{Feature: "segment", Value: ptr(0), Category: "smb", Contribution: 0.1}, TaskChurn, 37, "In the smb segment; raises churn risk"},
		{Reason{Feature: "seats", Value: ptr(12), Contribution: 0.1}, TaskChurn, 37, "Pays for 12 seats; raises churn risk"},
		{Reason{Feature: "days_to_renewal", Description: "Days to renewal", Missing: "not paying", Contribution: 0.1}, TaskChurn, 37,
			"Days to renewal: unknown (not paying); raises churn risk"},
	}
	for _, tc := range tests {
		if got := tc.r.Fact(tc.task, tc.window); got != tc.want {
			t.Errorf("%s: Fact = %q, want %q", tc.r.Feature, got, tc.want)
		}
	}
}

func TestNews(t *testing.T) {
	for _, tc := range []struct {
		task         string
		contribution float64
		want         string
	}{
		{TaskChurn, 0.5, "bad"}, {TaskChurn, -0.5, "good"}, {TaskConversion, 0.5, "good"}, {TaskConversion, -0.5, "bad"},
	} {
		r := Reason{Contribution: tc.contribution}
		if got := r.News(tc.task); got != tc.want {
			t.Errorf("%s, contribution %v: News = %q, want %q", tc.task, tc.contribution, got, tc.want)
		}
	}
}

func TestEffectOn(t *testing.T) {
	for _, tc := range []struct {
		e    Effect
		task string
		want string
	}{
		{Raises, TaskChurn, "raises churn risk"},
		{Lowers, TaskChurn, "lowers churn risk"},
		{Raises, TaskConversion, "raises the chance to convert"},
		{Lowers, TaskConversion, "lowers the chance to convert"},
	} {
		if got := tc.e.On(tc.task); got != tc.want {
			t.Errorf("%s.On(%s) = %q, want %q", tc.e, tc.task, got, tc.want)
		}
	}
}

func TestDeltaAndConversionScore(t *testing.T) {
	first := Score{Task: TaskChurn, Probability: 0.3, Previous: math.NaN()}
	if _, ok := first.Delta(); ok {
		t.Error("a first score has a delta")
	}
	later := Score{Task: TaskConversion, Probability: 0.25, Previous: 0.5}
	if d, ok := later.Delta(); !ok || d != -0.25 {
		t.Errorf("Delta() = %v, %v; want -0.25, true", d, ok)
	}
	if got := later.ConversionScore(); got != 25 {
		t.Errorf("ConversionScore() = %v, want 25", got)
	}
}
