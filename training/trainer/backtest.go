package trainer

import (
	"context"
	"fmt"
	"time"

	"github.com/openchurn/churn/training/metrics"
)

// Fold is one window of a backtest.
type Fold struct {
	Evaluation
	Algorithm string `json:"algorithm"`
	// TestFrom and TestTo are the first and last as-of times of the rows
	// the fold tests: the dates it is about, which a window's bounds only
	// enclose.
	TestFrom time.Time `json:"test_from"`
	TestTo   time.Time `json:"test_to"`
}

// BacktestResult holds every fold and the mean of their test metrics.
type BacktestResult struct {
	Folds []Fold          `json:"folds"`
	Mean  metrics.Summary `json:"mean"`
	// MeanOracleAUC is the mean oracle AUC over the folds, when the
	// examples carry truth, and nil otherwise.
	MeanOracleAUC *float64 `json:"mean_oracle_auc,omitempty"`
	FitSeconds    float64  `json:"fit_seconds"`
}

// Backtest fits and evaluates one model per window: each is trained on
// the rows whose labels were known at the window's cut (Rows) and tested
// on the rows observed in the window.
func Backtest(ctx context.Context, e *Examples, windows []Window, opt Options) (*BacktestResult, error) {
	start := time.Now()
	if err := e.Validate(); err != nil {
		return nil, err
	}
	b := &BacktestResult{}
	var tests []metrics.Summary
	var oracleSum float64
	for k, w := range windows {
		res, ev, err := fitWindow(ctx, e, w, opt)
		if err != nil {
			return nil, fmt.Errorf("backtest fold %d: %w", k+1, err)
		}
		f := Fold{Evaluation: ev.Evaluation, Algorithm: res.Chosen.Algorithm}
		for k, i := range ev.test {
			if t := e.AsOf[i]; k == 0 || t.Before(f.TestFrom) {
				f.TestFrom = t
			}
			if t := e.AsOf[i]; t.After(f.TestTo) {
				f.TestTo = t
			}
		}
		b.Folds = append(b.Folds, f)
		tests = append(tests, ev.Test.Summary)
		if ev.Oracle != nil {
			oracleSum += ev.Oracle.AUC / float64(len(windows))
		}
		opt.logger().Info("backtest fold", "fold", k+1, "tests", f.Tested(), "algorithm", res.Chosen.Algorithm,
			"test_rows", ev.TestRows, "auc", ev.Test.AUC, "ece", ev.Test.ECE)
	}
	b.Mean = metrics.Mean(tests)
	if e.Truth != nil {
		b.MeanOracleAUC = &oracleSum
	}
	b.FitSeconds = time.Since(start).Seconds()
	return b, nil
}

// Tested formats the dates the fold tests: one date, or the first and
// last joined by an ellipsis.
func (f *Fold) Tested() string {
	from, to := f.TestFrom.Format(time.DateOnly), f.TestTo.Format(time.DateOnly)
	if from == to {
		return from
	}
	return from + " … " + to
}
