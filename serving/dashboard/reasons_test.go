package dashboard

import (
	"math"
	"reflect"
	"testing"

	"github.com/openchurn/churn/serving/score"
)

func ptr(x float64) *float64 { return &x }

// TestReasonLayout checks that the account page's reason rows and the
// listings' top reason are laid out from the reasons' fields, worded for
// the score's task.
func TestReasonLayout(t *testing.T) {
	reasons := []score.Reason{
		{Feature: "active_days_30d", Description: "Days with any usage in the last 30 days", Value: ptr(3), Typical: ptr(18), Contribution: -0.4},
		{Feature: "plan", Description: "Plan", Value: ptr(1), Category: "pro", Contribution: 0.2},
		{Feature: "nps_latest", Missing: "no NPS answer yet", Contribution: 0.1},
	}
	tests := []struct {
		task string
		rows []reasonRow
		top  string
	}{
		{score.TaskChurn, []reasonRow{
			{What: "Days with any usage in the last 30 days", Value: "3", Typical: "18", Effect: "lowers churn risk"},
			{What: "Plan", Value: "pro", Typical: "—", Effect: "raises churn risk", Raises: true},
			{What: "nps_latest", Value: "unknown (no NPS answer yet)", Typical: "—", Effect: "raises churn risk", Raises: true},
		}, "Plan: pro; raises churn risk"},
		{score.TaskConversion, []reasonRow{
			{What: "Days with any usage in the last 30 days", Value: "3", Typical: "18", Effect: "lowers the chance to convert"},
			{What: "Plan", Value: "pro", Typical: "—", Effect: "raises the chance to convert", Raises: true},
			{What: "nps_latest", Value: "unknown (no NPS answer yet)", Typical: "—", Effect: "raises the chance to convert", Raises: true},
		}, "Plan: pro; raises the chance to convert"},
	}
	for _, tc := range tests {
		sc := &score.Score{Task: tc.task, Previous: math.NaN(), Detail: score.Detail{Reasons: reasons}}
		if got := reasonRows(sc); !reflect.DeepEqual(got, tc.rows) {
			t.Errorf("%s: reason rows\n%+v, want\n%+v", tc.task, got, tc.rows)
		}
		if got := topReason(sc); got != tc.top {
			t.Errorf("%s: top reason %q, want %q", tc.task, got, tc.top)
		}
	}
	lowering := &score.Score{Task: score.TaskChurn, Detail: score.Detail{Reasons: reasons[:1]}}
	if got, want := topReason(lowering), "Days with any usage in the last 30 days: 3 (typical 18); lowers churn risk"; got != want {
		t.Errorf("top reason without a raising one: %q, want %q", got, want)
	}
	if got := topReason(&score.Score{Task: score.TaskChurn}); got != "" {
		t.Errorf("top reason of a score without reasons: %q", got)
	}
}
