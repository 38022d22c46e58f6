package metrics_test

import (
	"math"
	"testing"

	"github.com/openchurn/churn/training/metrics"
)

func TestHandComputed(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(y, s, w []float64) float64
		y, s []float64
		want float64
	}{
		{"AUC perfect", metrics.ROCAUC, []float64{0, 0, 1, 1}, []float64{0.1, 0.2, 0.3, 0.4}, 1},
		{"AUC reversed", metrics.ROCAUC, []float64{1, 1, 0, 0}, []float64{0.1, 0.2, 0.3, 0.4}, 0},
		{"AUC all tied", metrics.ROCAUC, []float64{1, 0, 1, 0}, []float64{0.5, 0.5, 0.5, 0.5}, 0.5},
		// Pairs (pos, neg): (0.8, 0.6) won, (0.8, 0.8) tied, (0.4, 0.6) and (0.4, 0.8) lost.
		{"AUC with a tie", metrics.ROCAUC, []float64{1, 0, 1, 0}, []float64{0.8, 0.6, 0.4, 0.8}, 1.5 / 4},
		{"AUC one class", metrics.ROCAUC, []float64{1, 1}, []float64{0.1, 0.2}, math.NaN()},
		// Thresholds 0.9, 0.8, 0.7: recall steps 1/2 at precision 1 and 1/2 at precision 2/3.
		{"AP", metrics.AveragePrecision, []float64{1, 0, 1}, []float64{0.9, 0.8, 0.7}, 0.5 + 0.5*2/3},
		{"AP no positives", metrics.AveragePrecision, []float64{0, 0}, []float64{0.9, 0.8}, math.NaN()},
		{"log loss", metrics.LogLoss, []float64{1, 0}, []float64{0.5, 0.5}, math.Ln2},
		{"log loss clipped", metrics.LogLoss, []float64{1}, []float64{0}, -math.Log(metrics.LogLossEpsilon)},
		{"Brier", metrics.Brier, []float64{1, 0}, []float64{0.75, 0.25}, 0.0625},
	} {
		got := tc.fn(tc.y, tc.s, nil)
		if !(math.Abs(got-tc.want) < 1e-12 || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestAgreesWithScikitLearn compares against figures computed once with
// scikit-learn 1.2.1 (Debian python3-sklearn):
//
//	from sklearn.metrics import roc_auc_score, average_precision_score, log_loss, brier_score_loss
//	for w in (None, weights):
//	    print(repr(roc_auc_score(y, p, sample_weight=w)), repr(average_precision_score(y, p, sample_weight=w)),
//	          repr(log_loss(y, p, sample_weight=w)), repr(brier_score_loss(y, p, sample_weight=w)))
func TestAgreesWithScikitLearn(t *testing.T) {
	y := []float64{0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0}
	p := []float64{0.1, 0.8, 0.35, 0.35, 0.9, 0.2, 0.6, 0.55, 0.05, 0.35, 0.7, 0.4}
	weights := []float64{1, 2, 0.5, 1, 1, 3, 1, 1, 2, 1, 0.5, 1}
	for _, tc := range []struct {
		name string
		w    []float64
		want metrics.Summary
	}{
		{"unweighted", nil, metrics.Summary{AUC: 0.8857142857142857, PRAUC: 0.8711111111111112, LogLoss: 0.41677647377914223, Brier: 0.131875}},
		{"weighted", weights, metrics.Summary{AUC: 0.9282296650717704, PRAUC: 0.89623507805326, LogLoss: 0.3552208469109529, Brier: 0.10658333333333332}},
	} {
		got := metrics.Evaluate(y, p, tc.w)
		for _, m := range []struct {
			name      string
			got, want float64
		}{
			{"AUC", got.AUC, tc.want.AUC}, {"PR AUC", got.PRAUC, tc.want.PRAUC},
			{"log loss", got.LogLoss, tc.want.LogLoss}, {"Brier", got.Brier, tc.want.Brier},
		} {
			if math.Abs(m.got-m.want) > 1e-12 {
				t.Errorf("%s %s = %.17g, scikit-learn says %.17g", tc.name, m.name, m.got, m.want)
			}
		}
	}
}

func TestLengthMismatchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for mismatched lengths")
		}
	}()
	metrics.Brier([]float64{1, 0}, []float64{0.5}, nil)
}
