package trainer_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/simulate"
	"github.com/openchurn/churn/training/trainer"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// monthly builds n accounts observed on the first of each of months
// months, with a 45-day label window: usage lowers the risk, tickets raise
// it, and noise does nothing. Truth holds the true probabilities.
func monthly(n, months int, seed uint64) *trainer.Examples {
	rng := rand.New(rand.NewPCG(seed, 1))
	e := &trainer.Examples{Data: &models.Dataset{
		Schema: models.Schema{
			{Name: "usage", Group: "usage"}, {Name: "tickets", Group: "support"}, {Name: "noise", Group: "other"},
		},
		Columns: make([][]float64, 3),
	}}
	for m := range months {
		asOf := t0.AddDate(0, m, 0)
		for a := range n {
			u, k, z := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
			p := 1 / (1 + math.Exp(-(-2 - 1.5*u + k)))
			y := 0.0
			if rng.Float64() < p {
				y = 1
			}
			for j, v := range []float64{u, k, z} {
				e.Data.Columns[j] = append(e.Data.Columns[j], v)
			}
			e.Data.Labels = append(e.Data.Labels, y)
			e.Accounts = append(e.Accounts, string(rune('a'+a%26))+string(rune('a'+a/26%26)))
			e.AsOf = append(e.AsOf, asOf)
			e.Known = append(e.Known, asOf.AddDate(0, 0, 45))
			e.Truth = append(e.Truth, p)
			// An early truth that missed the tickets: what a model seeing
			// usage alone could know.
			e.Early = append(e.Early, 1/(1+math.Exp(-(-2-1.5*u))))
		}
	}
	return e
}

// TestRowsNeverTrainOnUnknownLabels is the backtest leakage rule: no row
// a fold trains or validates on has a label window ending after the
// fold's cut, and the train rows' labels are known by the validation cut.
func TestRowsNeverTrainOnUnknownLabels(t *testing.T) {
	e := monthly(50, 12, 1)
	windows := trainer.RollingWindows(t0.AddDate(0, 12, 0), 3, func(t time.Time) time.Time { return t.AddDate(0, -1, 0) })
	for _, w := range windows {
		s, err := trainer.Rows(e, w, 0.2)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range append(append([]int{}, s.Train...), s.Valid...) {
			if e.Known[i].After(w.Cut) {
				t.Errorf("window %s trains on row %d observed %s whose label is known only at %s", w, i, e.AsOf[i], e.Known[i])
			}
		}
		for _, i := range s.Train {
			if e.Known[i].After(s.ValidCut) {
				t.Errorf("window %s: train row %d label known at %s, after the validation cut %s", w, i, e.Known[i], s.ValidCut)
			}
		}
		for _, i := range s.Test {
			if e.AsOf[i].Before(w.Cut) || !e.AsOf[i].Before(w.End) {
				t.Errorf("window %s tests on row %d observed %s", w, i, e.AsOf[i])
			}
		}
		// A 45-day window purges the month before each cut: the last
		// observation before the cut, whose label runs past it, and the
		// same at the validation cut.
		if s.Purged == 0 {
			t.Errorf("window %s purged nothing", w)
		}
		if got, want := len(s.Test), 50; got != want {
			t.Errorf("window %s tests %d rows, want one month of %d", w, got, want)
		}
	}
	if windows[2].End != t0.AddDate(0, 12, 0) || windows[0].Cut != t0.AddDate(0, 9, 0) {
		t.Errorf("windows %v", windows)
	}
}

func TestTrain(t *testing.T) {
	e := monthly(400, 12, 2)
	opt := trainer.DefaultOptions()
	opt.Fit.Bag, opt.Bootstrap, opt.DriverRows = 1, 100, 300
	r, err := trainer.Train(context.Background(), e, opt)
	if err != nil {
		t.Fatal(err)
	}
	ev := r.Evaluation
	if ev.TestRows == 0 || ev.TrainRows == 0 || ev.ValidRows == 0 || ev.Purged == 0 {
		t.Errorf("split %+v", ev)
	}
	if o := ev.Oracle; o == nil || o.Rows != ev.TestRows || o.Ratio < 0.95 || o.Ratio > 1.02 {
		t.Errorf("oracle %+v: a logistic truth should be learnt almost perfectly", o)
	} else if e := o.Early; e == nil || e.Rows != o.Rows || e.ModelAUC != o.ModelAUC || !(e.AUC < o.AUC) || e.Ratio != e.ModelAUC/e.AUC {
		t.Errorf("early oracle %+v: the same rows and model against a truth blind to tickets, of lower AUC than %v", e, o.AUC)
	}
	if ev.Test.ECE > 0.05 || !(ev.Test.Lo.AUC < ev.Test.AUC && ev.Test.AUC < ev.Test.Hi.AUC) {
		t.Errorf("test %+v", ev.Test)
	}
	if r.Drivers[2].Name != "noise" {
		t.Errorf("drivers %+v: noise should rank last", r.Drivers)
	}
	for _, d := range r.Drivers {
		want := map[string]string{"usage": "lowers", "tickets": "raises"}[d.Name]
		if want != "" && d.Effect() != want {
			t.Errorf("%s %s risk (direction %.2f), want %s", d.Name, d.Effect(), d.Direction, want)
		}
	}
	if len(r.Groups) != 3 || len(r.Curves.LiftByDecile) != 10 || len(r.Curves.ROC) < 10 {
		t.Errorf("groups %+v, curves %+v", r.Groups, r.Curves)
	}
	if !r.WindowStart.Equal(t0) || r.Artifact.Metadata.Metrics["test_auc"] != ev.Test.AUC {
		t.Errorf("window %s, metadata %+v", r.WindowStart, r.Artifact.Metadata)
	}
}

func TestBacktest(t *testing.T) {
	e := monthly(300, 10, 3)
	opt := trainer.DefaultOptions()
	opt.Fit.Bag, opt.Bootstrap, opt.Fit.Algorithm = 1, 50, models.AlgorithmLogReg
	windows := trainer.RollingWindows(t0.AddDate(0, 10, 0), 2, func(t time.Time) time.Time { return t.AddDate(0, -1, 0) })
	b, err := trainer.Backtest(context.Background(), e, windows, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Folds) != 2 || b.Folds[0].TrainRows >= b.Folds[1].TrainRows {
		t.Fatalf("folds %+v: the later fold should train on more", b.Folds)
	}
	// Folds are named by the as-of dates they test, the 1st of September
	// and of October, not by their windows' bounds.
	for k, want := range []string{"2024-09-01", "2024-10-01"} {
		if got := b.Folds[k].Tested(); got != want {
			t.Errorf("fold %d tests %s, want %s", k+1, got, want)
		}
	}
	if m := (b.Folds[0].Test.AUC + b.Folds[1].Test.AUC) / 2; math.Abs(m-b.Mean.AUC) > 1e-12 || b.MeanOracleAUC == nil {
		t.Errorf("mean %+v, oracle %v", b.Mean, b.MeanOracleAUC)
	}
}

func TestChurnTruthNeedsAlignedWindows(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		simulate.TruthChurnFile:          "account_id,month,churn_probability\nacme,2024-02,0.25\n",
		simulate.TruthChurnStartFile:     "account_id,month,churn_probability\nacme,2024-02,0.2\n",
		simulate.TruthConversionFile:     "account_id,conversion_probability\nbeta,0.5\n",
		simulate.TruthConversionWeekFile: "account_id,conversion_probability\nbeta,0.4\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	truth, err := trainer.ReadTruth(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	feb := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	nan := math.NaN()
	for _, tc := range []struct {
		name          string
		lead, horizon time.Duration
		asOf          time.Time
		want, early   float64
	}{
		{"the window is the month", 0, 30 * day, feb, 0.25, 0.2},
		{"a 31-day horizon on a 29-day month", 0, 31 * day, feb, 0.25, 0.2},
		{"observed on the 2nd, after the early truth's day", 0, 30 * day, feb.Add(day), 0.25, nan},
		{"a week's lead straddles two months", 7 * day, 30 * day, feb, nan, nan},
		{"a quarter is not a month", 0, 90 * day, feb, nan, nan},
	} {
		l := trainer.ChurnLabels(&dataset.Churn{Lead: tc.lead, Horizon: tc.horizon}, truth)
		if got := l.Truth("acme", tc.asOf); !same(got, tc.want) {
			t.Errorf("%s: truth %v, want %v", tc.name, got, tc.want)
		}
		if got := l.Early("acme", tc.asOf); !same(got, tc.early) {
			t.Errorf("%s: early truth %v, want %v", tc.name, got, tc.early)
		}
	}
	// The conversion's early truth is as of trial day 7 only.
	week := trainer.ConversionLabels(&dataset.Conversion{TrialDay: 7}, truth)
	if got := week.Truth("beta", feb); got != 0.5 {
		t.Errorf("conversion truth %v, want 0.5", got)
	}
	if week.Early == nil || week.Early("beta", feb) != 0.4 {
		t.Errorf("trial day 7: want the early conversion truth 0.4")
	}
	if l := trainer.ConversionLabels(&dataset.Conversion{TrialDay: 5}, truth); l.Early != nil {
		t.Errorf("trial day 5: early conversion truth %v, want none", l.Early("beta", feb))
	}
}

// TestTrainNeedsBothOutcomes checks that a history without a single
// positive label before the cut is refused with a reason, not fitted.
func TestTrainNeedsBothOutcomes(t *testing.T) {
	e := monthly(200, 8, 4)
	for i := range e.Data.Labels {
		e.Data.Labels[i] = 0
	}
	_, err := trainer.Train(context.Background(), e, trainer.DefaultOptions())
	if err == nil || !strings.Contains(err.Error(), "slice has 0 positive labels") {
		t.Fatalf("Train on all-negative labels: %v, want a slice with 0 positive labels", err)
	}
}

// TestTrainTestFrom checks that a chosen test period is tested whole, that
// the rows before it train only where their labels were known at the
// cut, and that the JSON states the cut.
func TestTrainTestFrom(t *testing.T) {
	e := monthly(300, 12, 5)
	opt := trainer.DefaultOptions()
	opt.Fit.Bag, opt.Bootstrap, opt.DriverRows, opt.Fit.Algorithm = 1, 50, 100, models.AlgorithmLogReg
	opt.TestFrom = t0.AddDate(0, 8, 0)
	r, err := trainer.Train(context.Background(), e, opt)
	if err != nil {
		t.Fatal(err)
	}
	ev := r.Evaluation
	// Four months from September on are tested; the labels of August's
	// rows (45 days) are not known on September 1, so they are purged.
	if ev.TestRows != 4*300 || !ev.Window.Cut.Equal(opt.TestFrom) {
		t.Errorf("test rows %d from %s, want 1200 from %s", ev.TestRows, ev.Window.Cut, opt.TestFrom)
	}
	if ev.TrainRows+ev.ValidRows+ev.Purged != 8*300 || ev.Purged < 300 {
		t.Errorf("train %d + valid %d + purged %d, want the 2400 rows before the cut with at least August's 300 purged", ev.TrainRows, ev.ValidRows, ev.Purged)
	}
	doc, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), `"window":{"cut":"2024-09-01T00:00:00Z"`) {
		t.Errorf("evaluation JSON does not state the cut: %s", doc)
	}
	opt.TestFrom = t0.AddDate(2, 0, 0)
	if _, err := trainer.Train(context.Background(), e, opt); !errors.Is(err, trainer.ErrEmptySlice) || !strings.Contains(err.Error(), "rows are observed from 2024-01-01 to 2024-12-01") {
		t.Errorf("a test period after the data: %v, want ErrEmptySlice naming the rows' dates", err)
	}
}
