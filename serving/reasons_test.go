package serving

import (
	"context"
	"strings"
	"testing"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/demo"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/training/simulate"
)

// TestReasonsOnDemo checks the explanations of a freshly scored demo: no
// feature is the top reason of more than 40% of red accounts, no context
// fact (days to renewal above all) is ever a reason, every reason's word
// matches the sign of its contribution for its task, and a signal shows
// at most once.
func TestReasonsOnDemo(t *testing.T) {
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
	if _, err := (&Batch{Store: s, Scorer: scorer, Tasks: Tasks, AsOf: end}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	catalog := map[string]features.Feature{}
	fs, err := features.Config{}.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		catalog[f.Name] = f
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
	if top["days_to_renewal"] > 0 {
		t.Errorf("days_to_renewal is a top reason of %d red accounts", top["days_to_renewal"])
	}
}
