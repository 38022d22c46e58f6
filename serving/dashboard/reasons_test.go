package dashboard

import (
	"math"
	"reflect"
	"testing"

	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/score"
)

func ptr(x float64) *float64 { return &x }

// TestReasonLayout checks that the account page's reason rows, its
// context sentences and the listings' top reason are laid out from the
// reasons' fields, worded for the score's task and coloured by whether
// they are good news; a context feature among the reasons of a score
// stored before the split is shown as context, never as the top reason.
func TestReasonLayout(t *testing.T) {
	reasons := []score.Reason{
		{Feature: "active_days_30d", Group: "usage", Description: "Days with any usage in the last 30 days", Unit: "days", Value: ptr(3), Typical: ptr(18), Contribution: -0.4},
		{Feature: "days_to_renewal", Group: "commercial", Value: ptr(24.77), Contribution: 0.3},
		{Feature: "nps_latest", Group: "sentiment", Missing: "no NPS answer yet", Contribution: 0.1},
	}
	context := []score.Reason{{Feature: "plan", Group: "commercial", Description: "Plan", Value: ptr(1), Category: "pro", Contribution: 0.2}}
	plays := serving.Plays{"usage": "Book an adoption review"}
	tests := []struct {
		task  string
		rows  []reasonRow
		facts []factRow
		top   string
	}{
		{score.TaskChurn, []reasonRow{
			{What: "Days with any usage in the last 30 days", Value: "3", Typical: "18", Effect: "lowers churn risk", News: "good", Play: "Book an adoption review"},
			{What: "nps_latest", Value: "unknown (no NPS answer yet)", Typical: "—", Effect: "raises churn risk", Raises: true, News: "bad"},
		}, []factRow{{"On the pro plan; raises churn risk", "bad"}, {"Renews in 25 days, inside the 37-day risk window; raises churn risk", "bad"}},
			"nps_latest: unknown (no NPS answer yet); raises churn risk"},
		{score.TaskConversion, []reasonRow{
			{What: "Days with any usage in the last 30 days", Value: "3", Typical: "18", Effect: "lowers the chance to convert", News: "bad", Play: "Book an adoption review"},
			{What: "nps_latest", Value: "unknown (no NPS answer yet)", Typical: "—", Effect: "raises the chance to convert", Raises: true, News: "good"},
		}, []factRow{{"On the pro plan; raises the chance to convert", "good"}, {"Renews in 25 days; raises the chance to convert", "good"}},
			"nps_latest: unknown (no NPS answer yet); raises the chance to convert"},
	}
	for _, tc := range tests {
		d := score.Detail{Reasons: reasons, Context: context}
		if tc.task == score.TaskChurn {
			d.RiskWindowDays = 37
		}
		sc := &score.Score{Task: tc.task, Previous: math.NaN(), Detail: d}
		if got := reasonRows(sc, plays); !reflect.DeepEqual(got, tc.rows) {
			t.Errorf("%s: reason rows\n%+v, want\n%+v", tc.task, got, tc.rows)
		}
		if got := factRows(sc); !reflect.DeepEqual(got, tc.facts) {
			t.Errorf("%s: context\n%+v, want\n%+v", tc.task, got, tc.facts)
		}
		if got := topReason(sc); got != tc.top {
			t.Errorf("%s: top reason %q, want %q", tc.task, got, tc.top)
		}
	}
	lowering := &score.Score{Task: score.TaskChurn, Detail: score.Detail{Reasons: reasons[:2]}}
	if got, want := topReason(lowering), "Days with any usage in the last 30 days: 3 (typical 18); lowers churn risk"; got != want {
		t.Errorf("top reason without a raising actionable one: %q, want %q", got, want)
	}
	if got := topReason(&score.Score{Task: score.TaskChurn}); got != "" {
		t.Errorf("top reason of a score without reasons: %q", got)
	}
}
