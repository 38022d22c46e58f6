package serving_test

import (
	"fmt"

	"github.com/openchurn/churn/serving"
)

// The health score annualises the calibrated churn probability over its
// horizon, and the band follows from the configured thresholds.
func ExampleBands_Band() {
	bands := serving.DefaultBands()
	for _, p := range []float64{0.01, 0.03, 0.08} {
		h := serving.Health(p, 30)
		fmt.Printf("p=%.2f over 30 days: health=%.0f band=%s\n", p, h, bands.Band(h))
	}
	// Output:
	// p=0.01 over 30 days: health=88 band=green
	// p=0.03 over 30 days: health=69 band=yellow
	// p=0.08 over 30 days: health=36 band=red
}

// The default PQL threshold flags the smallest top share of trials that
// captured 60% of the conversions in the model's test set.
func ExampleCaptureThreshold() {
	scores := []float64{0.9, 0.8, 0.6, 0.5, 0.3, 0.2, 0.1, 0.05}
	converted := []float64{1, 1, 0, 1, 0, 1, 0, 0}
	threshold, share := serving.CaptureThreshold(scores, converted, 0.6)
	fmt.Printf("flag trials scoring %.2f or more: the top %.0f%% of trials\n", threshold, 100*share)
	// Output: flag trials scoring 0.50 or more: the top 50% of trials
}
