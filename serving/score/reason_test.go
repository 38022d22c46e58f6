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
		{"conversion, fractional", Reason{Feature: "adoption", Description: "Share of the catalogue used", Value: ptr(0.425),
			Typical: ptr(0.1), Contribution: 0.3}, TaskConversion, Raises, "0.42",
			"Share of the catalogue used: 0.42 (typical 0.10); raises the chance to convert"},
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
