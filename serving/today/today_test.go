package today

import (
	"math"
	"testing"
	"time"

	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/score"
)

// row is a current score of task with probability p, previous probability
// prev (NaN for none), ARR and health.
func row(id, task string, p, prev, arr, health float64) score.Row {
	return score.Row{Score: score.Score{AccountID: id, Task: task, Owner: "rep-01", Probability: p, Previous: prev,
		ARR: arr, RevenueAtRisk: p * arr, Health: health}, RenewalAt: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
}

func TestRank(t *testing.T) {
	nan := math.NaN()
	src := Sources{
		Alerts: []alerts.Row{
			{Alert: alerts.Alert{ID: "al1", AccountID: "a", Rule: "risk_jump"}},
			{Alert: alerts.Alert{ID: "al2", AccountID: "a", Rule: "usage_drop"}},
			{Alert: alerts.Alert{ID: "al3", AccountID: "trial", Rule: "trial_going_cold"}},
			{Alert: alerts.Alert{ID: "al4", AccountID: "unscored", Rule: "negative_escalation", Owner: "rep-09"}},
		},
		AlertRows: []score.Row{
			row("a", taskChurn, 0.10, 0.05, 10_000, 40), // 1,000 at risk
			row("trial", taskConversion, 0.40, nan, 6_000, 0),
		}, // 2,400 expected ARR won
		Drops: []score.Row{
			row("a", taskChurn, 0.10, 0.05, 10_000, 40),    // also alerted: keeps 1,000
			row("d", taskChurn, 0.30, 0.10, 5_000, 20),     // drop only: 0.20 × 5,000 = 1,000, tie with a
			row("r", taskChurn, 0.05, 0.04, 200_000, 70),   // also renews: 0.05 × 200,000 = 10,000
			row("small", taskChurn, 0.02, 0.01, 1_000, 85), // drop only: 10
		},
		Renewals: []score.Row{
			row("r", taskChurn, 0.05, 0.04, 200_000, 70),
			row("quiet", taskChurn, 0.01, 0.02, 50_000, 90), // 500
		},
		PreviousHealth: map[string]float64{"d": 60, "r": 75},
	}
	items := Rank(src)
	want := []struct {
		id     string
		value  float64
		alerts int
		drop   bool
		renews bool
	}{
		{"r", 10_000, 0, true, true},
		{"trial", 2_400, 1, false, false},
		{"a", 1_000, 2, true, false},
		{"d", 1_000, 0, true, false},
		{"quiet", 500, 0, false, true},
		{"small", 10, 0, true, false},
		{"unscored", 0, 1, false, false},
	}
	if len(items) != len(want) {
		t.Fatalf("got %d items, want %d: %+v", len(items), len(want), items)
	}
	for i, w := range want {
		it := items[i]
		if it.AccountID != w.id || math.Abs(it.Value-w.value) > 1e-6 || len(it.Alerts) != w.alerts || (it.Drop != nil) != w.drop || it.Renews != w.renews {
			t.Errorf("item %d: %s value %v, %d alerts, drop %v, renews %v; want %+v", i, it.AccountID, it.Value, len(it.Alerts), it.Drop != nil, it.Renews, w)
		}
	}
	if d := items[3].Drop; d.PreviousHealth != 60 || d.Health != 20 || math.Abs(d.RiseARR-1_000) > 1e-6 {
		t.Errorf("drop of d: %+v", d)
	}
	if d := items[2].Drop; !math.IsNaN(d.PreviousHealth) {
		t.Errorf("drop of a without a stored previous health: %+v", d)
	}
	if items[2].Alerts[0].ID != "al1" || items[1].Task != taskConversion || items[6].Owner != "rep-09" {
		t.Errorf("alerts out of order, the trial's row lost or the unscored account's owner lost: %+v", items)
	}
	// A churn row wins over a conversion row of the same account.
	both := Rank(Sources{Alerts: []alerts.Row{{Alert: alerts.Alert{AccountID: "x"}}},
		AlertRows: []score.Row{row("x", taskConversion, 0.9, nan, 100, 0), row("x", taskChurn, 0.1, nan, 1_000, 50)}})
	if len(both) != 1 || both[0].Task != taskChurn || both[0].Value != 100 {
		t.Errorf("an account with both scores: %+v", both)
	}
}
