package serving

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/demo"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/training/simulate"
)

// TestDemoReasonsAndAlerts scores churnd --demo's book as a scheduler
// would have: eight weekly batches as of past dates, then one as of the
// data's end. The past batches open no alert; the last opens alerts for
// fewer than 5% of the book, among them a renewal-at-risk alert for the
// riskiest account that renews within 60 days. Its explanations: no
// feature is the top reason of more than 40% of red accounts, no context
// fact (days to renewal above all) is ever a reason, every reason's word
// matches the sign of its contribution for its task, and a signal shows
// at most once.
func TestDemoReasonsAndAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and trains on the demo's book")
	}
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	cfg := simulate.Config{Accounts: 2000, Months: 12, Seed: 1} // churnd --demo's
	if err := demo.Generate(ctx, s, cfg); err != nil {
		t.Fatal(err)
	}
	for _, task := range Tasks {
		if _, err := demo.Train(ctx, s, task, cfg.End(), demo.Features(), "auto"); err != nil {
			t.Fatal(err)
		}
	}
	scorer, end := &Scorer{Registry: s, Reference: s, Bands: DefaultBands()}, cfg.End()
	eng := &alerts.Engine{Store: s, Rules: alerts.DefaultRules()}
	for w := 8; w >= 1; w-- {
		rep, err := (&Batch{Store: s, Scorer: scorer, Alerts: eng, Tasks: Tasks, AsOf: end.AddDate(0, 0, -7*w)}).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Past || rep.Alerts != 0 {
			t.Errorf("batch as of %d weeks before the data's end: past %v, %d alerts; want a past batch with none", w, rep.Past, rep.Alerts)
		}
	}
	rep, err := (&Batch{Store: s, Scorer: scorer, Alerts: eng, Tasks: Tasks, AsOf: end}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	book := rep.Scored[TaskChurn] + rep.Scored[TaskConversion]
	active, err := s.Alerts(ctx, alerts.Query{Status: alerts.StatusActive, Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	alerted := map[string]bool{}
	for _, a := range active {
		alerted[a.AccountID] = true
	}
	t.Logf("final batch: %d alerts on %d accounts of a book of %d scored accounts (%d churn, %d conversion)",
		rep.Alerts, len(alerted), book, rep.Scored[TaskChurn], rep.Scored[TaskConversion])
	if rep.Past || rep.Alerts == 0 || int64(len(active)) != rep.Alerts || float64(len(alerted)) >= 0.05*float64(book) {
		t.Errorf("final batch: past %v, %d alerts (%d active) on %d accounts; want some, on fewer than 5%% of %d accounts",
			rep.Past, rep.Alerts, len(active), len(alerted), book)
	}
	riskiest := riskiestRenewing(t, s, end, 60)
	open, err := s.Alerts(ctx, alerts.Query{AccountID: riskiest, Status: alerts.StatusActive})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(open, func(a alerts.Row) bool { return a.Rule == "renewal_at_risk" }) {
		t.Errorf("the riskiest account renewing within 60 days, %s, has no renewal-at-risk alert: %+v", riskiest, open)
	}
	// The models' own catalogs: training adds per-event features.
	catalog := map[string]features.Feature{}
	for _, task := range Tasks {
		m, err := scorer.Model(ctx, task)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := m.Features.Catalog()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			catalog[f.Name] = f
		}
	}
	top := map[string]int{}
	red := 0
	for _, task := range Tasks {
		rows, err := s.ScoreRows(ctx, score.ListQuery{Task: task, Limit: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			seen := map[string]bool{}
			for _, re := range r.Detail.Reasons {
				f := catalog[re.Feature]
				if !f.Actionable() {
					t.Errorf("%s %s: context feature %s is a reason", task, r.AccountID, re.Feature)
				}
				if seen[f.Signal()] {
					t.Errorf("%s %s: signal %q shown twice", task, r.AccountID, f.Signal())
				}
				seen[f.Signal()] = true
				if v := re.ValueText(); v == re.TypicalText() {
					t.Errorf("%s %s: reason %s reads %s, as typical: it explains nothing", task, r.AccountID, re.Feature, v)
				}
				word := "raises"
				if re.Contribution < 0 {
					word = "lowers"
				}
				if text := re.Text(task); !strings.HasSuffix(text, "; "+word+" "+map[string]string{TaskChurn: "churn risk", TaskConversion: "the chance to convert"}[task]) {
					t.Errorf("%s %s: %q for contribution %v", task, r.AccountID, text, re.Contribution)
				}
			}
			for _, c := range r.Detail.Context {
				if catalog[c.Feature].Actionable() {
					t.Errorf("%s %s: actionable feature %s is context", task, r.AccountID, c.Feature)
				}
			}
			if task != TaskChurn || r.Band != Red {
				continue
			}
			red++
			for _, re := range r.Detail.Reasons {
				if re.Contribution > 0 {
					top[re.Feature]++
					break
				}
			}
		}
	}
	if red < 20 {
		t.Fatalf("%d red accounts: too few to judge the shares", red)
	}
	for f, n := range top {
		share := float64(n) / float64(red)
		t.Logf("top reason of %d of %d red accounts: %s", n, red, f)
		if share > 0.4 {
			t.Errorf("%s is the top reason of %.0f%% of %d red accounts; want at most 40%%", f, 100*share, red)
		}
	}
	byRule := map[string]int{}
	for _, a := range active {
		byRule[a.Rule+"/"+a.Severity]++
		if a.Rule == "band_drop" {
			want := "high"
			if strings.HasSuffix(a.Message, " to yellow") {
				want = "medium"
			}
			if a.Severity != want {
				t.Errorf("%s: severity %s, want %s", a.Message, a.Severity, want)
			}
		}
	}
	t.Logf("open alerts by rule and severity: %v", byRule)
	if top["days_to_renewal"] > 0 {
		t.Errorf("days_to_renewal is a top reason of %d red accounts", top["days_to_renewal"])
	}
}

// riskiestRenewing returns the account with the highest current churn
// probability among those that renew within days of asOf.
func riskiestRenewing(t *testing.T, s *store.Store, asOf time.Time, days int) string {
	t.Helper()
	rows, err := s.ScoreRows(context.Background(), score.ListQuery{Task: TaskChurn, Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows { // riskiest first
		if !r.RenewalAt.IsZero() && r.RenewalAt.After(asOf) && r.RenewalAt.Sub(asOf) <= time.Duration(days)*24*time.Hour {
			return r.AccountID
		}
	}
	t.Fatalf("no current churn score renews within %d days", days)
	return ""
}
