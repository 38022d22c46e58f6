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
		b.Folds = append(b.Folds, Fold{Evaluation: ev.Evaluation, Algorithm: res.Chosen.Algorithm})
		tests = append(tests, ev.Test.Summary)
		if ev.Oracle != nil {
			oracleSum += ev.Oracle.AUC / float64(len(windows))
		}
		opt.logger().Info("backtest fold", "fold", k+1, "window", w.String(), "algorithm", res.Chosen.Algorithm,
			"test_rows", ev.TestRows, "auc", ev.Test.AUC, "ece", ev.Test.ECE)
	}
	b.Mean = metrics.Mean(tests)
	if e.Truth != nil {
		b.MeanOracleAUC = &oracleSum
	}
	b.FitSeconds = time.Since(start).Seconds()
	return b, nil
}
