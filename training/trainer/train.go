package trainer

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/training/metrics"
	"github.com/openchurn/churn/training/table"
)

// Options configures Train and Backtest.
type Options struct {
	// Fit configures the learners, their selection and calibration.
	Fit table.Options
	// ValidFraction is the share of the rows known at a cut, the latest,
	// that validate; TestFraction the share of all rows, the latest, that
	// Train tests on.
	ValidFraction, TestFraction float64
	// TestFrom, when set, is where Train's test period starts instead:
	// the rows observed from it on are tested (see TestWindow).
	TestFrom time.Time
	// Bootstrap is the number of resamples behind each metric's interval.
	Bootstrap int
	// DriverRows bounds the number of test rows explained for drivers.
	DriverRows int
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// DefaultOptions returns table.DefaultOptions for the learners, the last
// 20% of the rows for testing and 20% of the rest for validation, 1000
// bootstrap resamples and 1000 rows explained.
func DefaultOptions() Options {
	return Options{Fit: table.DefaultOptions(), ValidFraction: 0.2, TestFraction: 0.2, Bootstrap: 1000, DriverRows: 1000}
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Evaluation is how a model did on out-of-time test rows.
type Evaluation struct {
	Window Window `json:"window"`
	// Rows counts the rows each slice held, and Purged those left out
	// because their labels were unknown at the cut they precede.
	TrainRows int       `json:"train_rows"`
	ValidRows int       `json:"valid_rows"`
	TestRows  int       `json:"test_rows"`
	Purged    int       `json:"purged"`
	ValidCut  time.Time `json:"valid_cut"`
	// Test holds the test metrics with bootstrap intervals.
	Test metrics.Estimate `json:"test"`
	// Oracle is set when the examples carry truth for some test rows.
	Oracle *Oracle `json:"oracle,omitempty"`
}

// Oracle compares the model with the true probabilities on the test rows
// whose truth is known.
type Oracle struct {
	// Rows is the number of test rows with a known truth.
	Rows int `json:"rows"`
	// AUC is the AUC of the true probabilities, ModelAUC the model's on the
	// same rows, and Ratio ModelAUC ÷ AUC.
	AUC      float64 `json:"auc"`
	ModelAUC float64 `json:"model_auc"`
	Ratio    float64 `json:"ratio"`
	// Early compares the model with the truth as of the rows' observation
	// (Examples.Early), when the examples carry it: the truth proper is
	// decided later, on signals a model observing then cannot see, so
	// Early.AUC is nearer what such a model can reach.
	Early *Oracle `json:"early,omitempty"`
}

// Curves are what a report draws of a model's test predictions.
type Curves struct {
	// ROC holds up to 201 points (false positive rate, true positive
	// rate) of the ROC curve.
	ROC [][2]float64 `json:"roc"`
	// Calibration holds the non-empty bins of 10 equal-width bins.
	Calibration []metrics.Bin `json:"calibration"`
	// LiftByDecile holds each decile's lift, riskiest first.
	LiftByDecile []float64 `json:"lift_by_decile"`
	// Scores counts test rows in 20 equal-width probability bins, for
	// negatives and positives.
	Scores [2][20]int `json:"scores"`
}

// Result is the outcome of Train.
type Result struct {
	// Artifact is the model fitted on the train slice, calibrated on the
	// validation slice, with the test metrics in its metadata.
	Artifact   *models.Artifact  `json:"-"`
	Chosen     table.Candidate   `json:"chosen"`
	Candidates []table.Candidate `json:"candidates"`
	Evaluation Evaluation        `json:"evaluation"`
	Curves     Curves            `json:"curves"`
	// Drivers and Groups are the global importances on the test rows.
	Drivers []Driver `json:"drivers"`
	Groups  []Driver `json:"groups"`
	// WindowStart and WindowEnd bound the as-of times of every row used.
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	// FitSeconds is the wall time of Train.
	FitSeconds float64 `json:"fit_seconds"`
}

// Train splits e by time into train, validation and test slices (see the
// package documentation), fits and calibrates a model with
// table.FitHoldout, and evaluates and explains it on the test slice.
func Train(ctx context.Context, e *Examples, opt Options) (*Result, error) {
	start := time.Now()
	if err := e.Validate(); err != nil {
		return nil, err
	}
	w := TestWindow(e, opt)
	res, ev, err := fitWindow(ctx, e, w, opt)
	if err != nil {
		return nil, err
	}
	r := &Result{Artifact: res.Artifact, Chosen: res.Chosen, Candidates: res.Candidates, Evaluation: ev.Evaluation}
	test := e.Data.Subset(ev.test)
	r.Curves = curves(test.Labels, ev.probs)
	r.Drivers, r.Groups = Drivers(res.Artifact, test, opt.DriverRows)
	for _, t := range e.AsOf {
		if r.WindowStart.IsZero() || t.Before(r.WindowStart) {
			r.WindowStart = t
		}
		if t.After(r.WindowEnd) {
			r.WindowEnd = t
		}
	}
	md := &r.Artifact.Metadata
	md.WindowStart, md.WindowEnd = r.WindowStart, r.WindowEnd
	t := ev.Test.Summary
	md.Metrics = map[string]float64{"test_auc": t.AUC, "test_pr_auc": t.PRAUC, "test_log_loss": t.LogLoss, "test_brier": t.Brier,
		"test_ece": t.ECE, "test_top_decile_lift": t.Lift, "test_recall_at_top20": t.Recall,
		"valid_auc": res.Chosen.Validation.AUC, "valid_log_loss": res.Chosen.Validation.LogLoss}
	md.Extra["split"] = fmt.Sprintf("train before %s, validate from %s, test %s", ev.ValidCut.Format(time.DateOnly), ev.ValidCut.Format(time.DateOnly), w)
	r.FitSeconds = time.Since(start).Seconds()
	opt.logger().Info("trained", "algorithm", r.Chosen.Algorithm, "test_auc", t.AUC, "test_ece", t.ECE, "seconds", r.FitSeconds)
	return r, nil
}

// windowEval is an Evaluation with the test rows and their probabilities.
type windowEval struct {
	Evaluation
	test  []int
	probs []float64
}

// fitWindow fits a model on what was known at w.Cut and evaluates it on
// w's test rows.
func fitWindow(ctx context.Context, e *Examples, w Window, opt Options) (*table.Result, *windowEval, error) {
	s, err := Rows(e, w, opt.ValidFraction)
	if err != nil {
		return nil, nil, err
	}
	// Fitting, early stopping and calibration each need both outcomes.
	for _, slice := range []struct {
		name string
		rows []int
	}{{"train", s.Train}, {"validation", s.Valid}} {
		if pos := positives(e.Data.Labels, slice.rows); pos == 0 || pos == len(slice.rows) {
			return nil, nil, fmt.Errorf("trainer: window %s: the %s slice has %d positive labels in %d rows; it needs both outcomes, so use a longer history or more accounts",
				w, slice.name, pos, len(slice.rows))
		}
	}
	log := opt.logger()
	log.Info("split by time", "window", w.String(), "train", len(s.Train), "valid", len(s.Valid), "valid_from", s.ValidCut.Format(time.DateOnly),
		"test", len(s.Test), "purged", s.Purged)
	fo := opt.Fit
	fo.Logger = log
	res, err := table.FitHoldout(ctx, e.Data, s.Train, s.Valid, fo)
	if err != nil {
		return nil, nil, fmt.Errorf("trainer: window %s: %w", w, err)
	}
	test := e.Data.Subset(s.Test)
	probs, err := res.Artifact.PredictDataset(test, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("trainer: window %s: scoring test rows: %w", w, err)
	}
	ev := &windowEval{
		Evaluation: Evaluation{Window: w, TrainRows: len(s.Train), ValidRows: len(s.Valid), TestRows: len(s.Test), Purged: s.Purged,
			ValidCut: s.ValidCut, Test: metrics.Bootstrap(test.Labels, probs, test.Weights, opt.Bootstrap, 1)},
		test: s.Test, probs: probs,
	}
	if e.Truth != nil {
		ev.Oracle = oracle(e.Truth, e, s.Test, probs)
		if ev.Oracle != nil && e.Early != nil {
			ev.Oracle.Early = oracle(e.Early, e, s.Test, probs)
		}
	}
	return res, ev, nil
}

// oracle compares probs, the model's on test rows, with truth, one
// probability per row of e.
func oracle(truth []float64, e *Examples, test []int, probs []float64) *Oracle {
	var y, known, model []float64
	for k, i := range test {
		if t := truth[i]; !math.IsNaN(t) {
			y, known, model = append(y, e.Data.Labels[i]), append(known, t), append(model, probs[k])
		}
	}
	if len(y) == 0 {
		return nil
	}
	o := &Oracle{Rows: len(y), AUC: metrics.ROCAUC(y, known, nil), ModelAUC: metrics.ROCAUC(y, model, nil)}
	o.Ratio = o.ModelAUC / o.AUC
	return o
}

// curves computes the report's curves of probabilities p for labels y.
func curves(y, p []float64) Curves {
	var c Curves
	fpr, tpr := metrics.ROCCurve(y, p, nil)
	for _, k := range evenly(len(fpr), 200) {
		c.ROC = append(c.ROC, [2]float64{fpr[k], tpr[k]})
	}
	if len(fpr) > 0 {
		c.ROC = append(c.ROC, [2]float64{1, 1})
	}
	c.Calibration = metrics.CalibrationCurve(y, p, nil, 10)
	c.LiftByDecile = metrics.LiftByBucket(y, p, nil, 10)
	for i := range y {
		b := min(int(p[i]*20), 19)
		c.Scores[int(y[i])][b]++
	}
	return c
}
