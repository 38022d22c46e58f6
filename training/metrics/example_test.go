package metrics_test

import (
	"fmt"

	"github.com/openchurn/churn/training/metrics"
)

func ExampleEvaluate() {
	churned := []float64{0, 0, 1, 0, 1, 1}
	prob := []float64{0.1, 0.3, 0.35, 0.4, 0.8, 0.9}
	s := metrics.Evaluate(churned, prob, nil)
	fmt.Printf("AUC %.3f  PR AUC %.3f  log loss %.3f  Brier %.3f\n", s.AUC, s.PRAUC, s.LogLoss, s.Brier)
	// Output:
	// AUC 0.889  PR AUC 0.917  log loss 0.392  Brier 0.122
}

func ExampleBootstrap() {
	churned := []float64{0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0}
	prob := []float64{.1, .2, .7, .3, .6, .9, .2, .1, .4, .35, .1, .3, .2, .1, .8, .2, .3, .1, .1, .2}
	e := metrics.Bootstrap(churned, prob, nil, 1000, 1)
	fmt.Printf("AUC %.3f, 95%% interval [%.3f, %.3f]\n", e.AUC, e.Lo.AUC, e.Hi.AUC)
	fmt.Printf("top-decile lift %.1f, recall at top 20%% %.1f\n", e.Lift, e.Recall)
	// Output:
	// AUC 0.987, 95% interval [0.921, 1.000]
	// top-decile lift 4.0, recall at top 20% 0.8
}
