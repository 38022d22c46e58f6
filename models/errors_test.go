package models

import (
	"errors"
	"testing"
)

// TestFitErrorMessages holds the learners' errors to one "models:" prefix,
// added where the error leaves the package, over lowercase context.
func TestFitErrorMessages(t *testing.T) {
	good := synthetic(200, 2, false, 0, 1)
	unlabelled := *good
	unlabelled.Labels = nil
	ragged := *good
	ragged.Columns = [][]float64{good.Columns[0], good.Columns[1][:10]}
	badRounds := DefaultGBDTParams()
	badRounds.Rounds = 0
	badLambda := DefaultLogRegParams()
	badLambda.Lambda = -1
	for _, tc := range []struct {
		name   string
		fit    func() error
		want   string
		target error
	}{
		{"gbdt without labels", func() error { _, err := FitGBDT(&unlabelled, nil, DefaultGBDTParams()); return err },
			"models: fitting gbdt: training data: dataset has no labels", ErrNoLabels},
		{"gbdt ragged validation data", func() error { _, err := FitGBDT(good, &ragged, DefaultGBDTParams()); return err },
			`models: fitting gbdt: validation data: column "x1" has 10 rows, want 200`, nil},
		{"gbdt params", func() error { _, err := FitGBDT(good, nil, badRounds); return err },
			"models: fitting gbdt: params: Rounds 0 must be at least 1", nil},
		{"logreg without labels", func() error { _, err := FitLogReg(&unlabelled, DefaultLogRegParams()); return err },
			"models: fitting logreg: training data: dataset has no labels", ErrNoLabels},
		{"logreg params", func() error { _, err := FitLogReg(good, badLambda); return err },
			"models: fitting logreg: params: Lambda -1 must be finite and non-negative", nil},
		{"dataset", func() error { return ragged.Validate() },
			`models: column "x1" has 10 rows, want 200`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.fit()
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("error %v does not wrap %v", err, tc.target)
			}
		})
	}
}
