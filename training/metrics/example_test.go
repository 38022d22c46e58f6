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
