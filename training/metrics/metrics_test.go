package metrics_test

import (
	"math"
	"math/rand/v2"
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
		// Bins (0.1, 0.2] holds 0.2 (label 0) and (0.8, 0.9] holds 0.9 and 0.85 (labels 1, 0):
		// (1·|0.2−0| + 2·|0.875−0.5|) / 3.
		{"ECE", ece10, []float64{0, 1, 0}, []float64{0.2, 0.9, 0.85}, (0.2 + 2*0.375) / 3},
		{"ECE perfect", ece10, []float64{0, 1, 1, 0}, []float64{0.5, 0.5, 1, 0}, 0},
		// Ten rows, two positives, the riskiest row positive: the top row
		// has rate 1 against 0.2 overall.
		{"lift", lift10, []float64{1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, []float64{.9, .8, .7, .6, .5, .4, .3, .2, .15, .1}, 5},
		// The top row of ten ties with the next, and the pair holds one
		// positive: half of it counts, a rate of 0.5 against 0.2.
		{"lift tied", lift10, []float64{1, 0, 0, 0, 0, 0, 0, 0, 0, 1}, []float64{.9, .9, .7, .6, .5, .4, .3, .2, .15, .1}, 2.5},
		{"lift no positives", lift10, []float64{0, 0}, []float64{.9, .1}, math.NaN()},
		// The top 20% of ten rows are two rows holding one of two positives.
		{"recall", recall20, []float64{1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, []float64{.9, .8, .7, .6, .5, .4, .3, .2, .15, .1}, 0.5},
		{"recall all tied", recall20, []float64{1, 0, 1, 0, 0}, []float64{.5, .5, .5, .5, .5}, 0.2},
	} {
		got := tc.fn(tc.y, tc.s, nil)
		if !(math.Abs(got-tc.want) < 1e-12 || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("%s = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func ece10(y, p, w []float64) float64    { return metrics.ECE(y, p, w, 10) }
func lift10(y, s, w []float64) float64   { return metrics.Lift(y, s, w, 0.1) }
func recall20(y, s, w []float64) float64 { return metrics.RecallAtTop(y, s, w, 0.2) }

// The fixed vector the scikit-learn comparisons use.
var (
	skY       = []float64{0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0}
	skP       = []float64{0.1, 0.8, 0.35, 0.35, 0.9, 0.2, 0.6, 0.55, 0.05, 0.35, 0.7, 0.4}
	skWeights = []float64{1, 2, 0.5, 1, 1, 3, 1, 1, 2, 1, 0.5, 1}
)

// TestAgreesWithScikitLearn compares against figures computed once with
// scikit-learn 1.2.1 (Debian python3-sklearn) and numpy:
//
//	from sklearn.metrics import roc_auc_score, average_precision_score, log_loss, brier_score_loss
//	from sklearn.calibration import calibration_curve
//	for w in (None, weights):
//	    print(repr(roc_auc_score(y, p, sample_weight=w)), repr(average_precision_score(y, p, sample_weight=w)),
//	          repr(log_loss(y, p, sample_weight=w)), repr(brier_score_loss(y, p, sample_weight=w)))
//	# ECE: calibration_curve has no weights, so the weighted ECE is computed
//	# with numpy on calibration_curve's bins: ids = np.searchsorted(np.linspace(0, 1, 11)[1:-1], p),
//	# then Σ |Σw·p − Σw·y| per bin ÷ Σw.
//	prob_true, prob_pred = calibration_curve(y, p, n_bins=10)
//	counts = np.bincount(ids, minlength=10); counts = counts[counts > 0]
//	print(repr(np.sum(counts * np.abs(prob_true - prob_pred)) / len(y)))
//
// Lift and recall have no scikit-learn function; their expected values
// were computed with numpy by the definition in the package (ties at the
// cut pro rata).
func TestAgreesWithScikitLearn(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    []float64
		want metrics.Summary
	}{
		{"unweighted", nil, metrics.Summary{AUC: 0.8857142857142857, PRAUC: 0.8711111111111112, LogLoss: 0.41677647377914223, Brier: 0.131875,
			ECE: 0.12916666666666665, Lift: 2.4, Recall: 0.4800000000000001}},
		{"weighted", skWeights, metrics.Summary{AUC: 0.9282296650717704, PRAUC: 0.89623507805326, LogLoss: 0.3552208469109529, Brier: 0.10658333333333332,
			ECE: 0.125, Lift: 2.7272727272727275, Recall: 0.5454545454545454}},
	} {
		got := metrics.Evaluate(skY, skP, tc.w)
		for _, m := range []struct {
			name      string
			got, want float64
		}{
			{"AUC", got.AUC, tc.want.AUC}, {"PR AUC", got.PRAUC, tc.want.PRAUC},
			{"log loss", got.LogLoss, tc.want.LogLoss}, {"Brier", got.Brier, tc.want.Brier},
			{"ECE", got.ECE, tc.want.ECE}, {"lift", got.Lift, tc.want.Lift}, {"recall", got.Recall, tc.want.Recall},
		} {
			if math.Abs(m.got-m.want) > 1e-12 {
				t.Errorf("%s %s = %.17g, scikit-learn says %.17g", tc.name, m.name, m.got, m.want)
			}
		}
	}
}

// TestCurvesAgreeWithScikitLearn compares with calibration_curve(y, p,
// n_bins=10) and roc_curve(y, p, drop_intermediate=False).
func TestCurvesAgreeWithScikitLearn(t *testing.T) {
	bins := metrics.CalibrationCurve(skY, skP, nil, 10)
	observed := []float64{0, 0, 0.25, 0.5, 1, 1, 1}
	predicted := []float64{0.07500000000000001, 0.2, 0.36249999999999993, 0.575, 0.7, 0.8, 0.9}
	if len(bins) != len(observed) {
		t.Fatalf("%d bins, scikit-learn has %d", len(bins), len(observed))
	}
	for k, b := range bins {
		if math.Abs(b.Observed-observed[k]) > 1e-12 || math.Abs(b.Predicted-predicted[k]) > 1e-12 {
			t.Errorf("bin %d (%g, %g]: observed %v predicted %v, scikit-learn %v %v", k, b.Lo, b.Hi, b.Observed, b.Predicted, observed[k], predicted[k])
		}
	}
	fpr, tpr := metrics.ROCCurve(skY, skP, nil)
	wantF := []float64{0, 0, 0, 0, 1.0 / 7, 1.0 / 7, 2.0 / 7, 4.0 / 7, 5.0 / 7, 6.0 / 7, 1}
	wantT := []float64{0, 0.2, 0.4, 0.6, 0.6, 0.8, 0.8, 1, 1, 1, 1}
	if len(fpr) != len(wantF) {
		t.Fatalf("ROC curve has %d points, scikit-learn %d", len(fpr), len(wantF))
	}
	for k := range fpr {
		if math.Abs(fpr[k]-wantF[k]) > 1e-12 || math.Abs(tpr[k]-wantT[k]) > 1e-12 {
			t.Errorf("ROC point %d = (%v, %v), scikit-learn (%v, %v)", k, fpr[k], tpr[k], wantF[k], wantT[k])
		}
	}
}

func TestLiftByBucket(t *testing.T) {
	y := []float64{1, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	s := []float64{.9, .8, .7, .6, .5, .4, .3, .2, .15, .1}
	got := metrics.LiftByBucket(y, s, nil, 5)
	want := []float64{2.5, 2.5, 0, 0, 0} // each fifth holds two rows; rate 0.5 against 0.2
	for k := range want {
		if math.Abs(got[k]-want[k]) > 1e-12 {
			t.Errorf("bucket %d lift %v, want %v", k, got[k], want[k])
		}
	}
	if metrics.LiftByBucket([]float64{0, 0}, []float64{1, 2}, nil, 10) != nil {
		t.Error("lift by bucket without positives is not nil")
	}
}

func TestBootstrap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 2000
	y, p := make([]float64, n), make([]float64, n)
	for i := range y {
		p[i] = rng.Float64()
		if rng.Float64() < p[i] {
			y[i] = 1
		}
	}
	e := metrics.Bootstrap(y, p, nil, 200, 3)
	if e.Summary != metrics.Evaluate(y, p, nil) {
		t.Errorf("point estimates %+v differ from Evaluate's", e.Summary)
	}
	if e.Rows != n || e.Rounds != 200 {
		t.Errorf("rows %d rounds %d", e.Rows, e.Rounds)
	}
	for _, m := range []struct {
		name          string
		lo, val, hi   float64
		width, widest float64
	}{
		{"AUC", e.Lo.AUC, e.AUC, e.Hi.AUC, e.Hi.AUC - e.Lo.AUC, 0.06},
		{"PR AUC", e.Lo.PRAUC, e.PRAUC, e.Hi.PRAUC, e.Hi.PRAUC - e.Lo.PRAUC, 0.06},
		{"log loss", e.Lo.LogLoss, e.LogLoss, e.Hi.LogLoss, e.Hi.LogLoss - e.Lo.LogLoss, 0.06},
		{"Brier", e.Lo.Brier, e.Brier, e.Hi.Brier, e.Hi.Brier - e.Lo.Brier, 0.03},
		{"ECE", e.Lo.ECE, e.ECE, e.Hi.ECE, e.Hi.ECE - e.Lo.ECE, 0.05},
		{"lift", e.Lo.Lift, e.Lift, e.Hi.Lift, e.Hi.Lift - e.Lo.Lift, 0.3},
		{"recall", e.Lo.Recall, e.Recall, e.Hi.Recall, e.Hi.Recall - e.Lo.Recall, 0.08},
	} {
		// ECE is biased upwards on resamples, so its interval need not
		// hold the point estimate; the others should.
		if m.name != "ECE" && !(m.lo <= m.val && m.val <= m.hi) {
			t.Errorf("%s: %v outside its interval [%v, %v]", m.name, m.val, m.lo, m.hi)
		}
		if !(m.width > 0 && m.width < m.widest) {
			t.Errorf("%s: interval [%v, %v] has width %v, want in (0, %v)", m.name, m.lo, m.hi, m.width, m.widest)
		}
	}
	if again := metrics.Bootstrap(y, p, nil, 200, 3); again != e {
		t.Error("the same seed gave a different interval")
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
