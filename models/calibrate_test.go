package models_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/openchurn/churn/models"
)

func TestFitIsotonicPoolsAdjacentViolators(t *testing.T) {
	const eps = models.CalibrationEpsilon
	for _, tc := range []struct {
		name        string
		raw, y, w   []float64
		knots, vals []float64
	}{
		{
			name: "violator pooled, a pure top block of 2 capped at 3/4",
			raw:  []float64{1, 2, 3, 4}, y: []float64{1, 0, 1, 1},
			knots: []float64{1.5, 3.5}, vals: []float64{0.5, 0.75},
		},
		{
			name: "ties pooled before fitting",
			raw:  []float64{2, 1, 2, 3}, y: []float64{1, 0, 0, 1},
			knots: []float64{1, 2, 3}, vals: []float64{eps, 0.5, 2.0 / 3},
		},
		{
			name: "a small capped block lowers a larger one before it",
			raw:  []float64{1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3}, y: []float64{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1},
			knots: []float64{1, 2, 3}, vals: []float64{eps, 2.0 / 3, 2.0 / 3},
		},
		{
			name: "weights move block means",
			raw:  []float64{1, 2, 3}, y: []float64{0, 1, 0}, w: []float64{1, 3, 1},
			knots: []float64{1, 2.25}, vals: []float64{eps, 0.75},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := models.FitIsotonic(tc.raw, tc.y, tc.w)
			if err != nil {
				t.Fatal(err)
			}
			if !allClose(c.Knots, tc.knots, 1e-12) || !allClose(c.Values, tc.vals, 1e-12) {
				t.Errorf("knots %v values %v, want %v %v", c.Knots, c.Values, tc.knots, tc.vals)
			}
		})
	}
}

func allClose(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

func TestIsotonicInterpolatesAndClamps(t *testing.T) {
	c, err := models.FitIsotonic([]float64{1, 2, 3, 4}, []float64{1, 0, 1, 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ raw, want float64 }{
		{-100, 0.5}, {1.5, 0.5}, {2.5, 0.625}, {3.5, 0.75}, {100, 0.75},
	} {
		if got := c.Probability(tc.raw); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Probability(%v) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}

// overconfident simulates a miscalibrated model: the true log-odds are z,
// the model says 3z+1.
func overconfident(n int, seed uint64) (raw, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	raw, y = make([]float64, n), make([]float64, n)
	for i := range n {
		z := rng.NormFloat64() - 1
		raw[i] = 3*z + 1
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
	}
	return raw, y
}

func brier(c *models.Calibrator, raw, y []float64) float64 {
	var s float64
	for i := range raw {
		d := c.Probability(raw[i]) - y[i]
		s += d * d
	}
	return s / float64(len(raw))
}

func TestCalibrationLowersBrier(t *testing.T) {
	fitRaw, fitY := overconfident(5000, 1)
	testRaw, testY := overconfident(5000, 2)
	before := brier(&models.Calibrator{Method: models.CalibrationNone}, testRaw, testY)
	for _, tc := range []struct {
		name string
		fit  func(raw, y, w []float64) (*models.Calibrator, error)
	}{
		{"platt", models.FitPlatt},
		{"isotonic", models.FitIsotonic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.fit(fitRaw, fitY, nil)
			if err != nil {
				t.Fatal(err)
			}
			after := brier(c, testRaw, testY)
			t.Logf("Brier %.4f -> %.4f", before, after)
			if after >= before-0.01 {
				t.Errorf("Brier after calibration %.4f, before %.4f: want a clear drop", after, before)
			}
			// Monotone: a higher raw score never gets a lower probability.
			prev := -1.0
			for raw := -15.0; raw <= 15; raw += 0.01 {
				p := c.Probability(raw)
				if p < prev || p <= 0 || p >= 1 {
					t.Fatalf("Probability(%v) = %v after %v: not monotone in (0, 1)", raw, p, prev)
				}
				prev = p
			}
		})
	}
}

func TestFitPlattRecoversSlope(t *testing.T) {
	raw, y := overconfident(20000, 4)
	c, err := models.FitPlatt(raw, y, nil)
	if err != nil {
		t.Fatal(err)
	}
	// raw = 3z+1, so z = raw/3 − 1/3.
	if math.Abs(c.A-1.0/3) > 0.02 || math.Abs(c.B+1.0/3) > 0.05 {
		t.Errorf("A, B = %.3f, %.3f, want 0.333, -0.333", c.A, c.B)
	}
}

func TestCalibrationErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		raw, y, w []float64
		want      string
	}{
		{"length mismatch", []float64{1, 2}, []float64{1}, nil, "scores"},
		{"one class", []float64{1, 2}, []float64{1, 1}, nil, "both classes"},
		{"bad label", []float64{1, 2}, []float64{1, 2}, nil, "label"},
		{"infinite score", []float64{math.Inf(1), 2}, []float64{1, 0}, nil, "score"},
		{"negative weight", []float64{1, 2}, []float64{1, 0}, []float64{1, -1}, "weight"},
	} {
		for name, fit := range map[string]func(raw, y, w []float64) (*models.Calibrator, error){
			"platt": models.FitPlatt, "isotonic": models.FitIsotonic,
		} {
			if _, err := fit(tc.raw, tc.y, tc.w); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s %s: err = %v, want one mentioning %q", name, tc.name, err, tc.want)
			}
		}
	}
}

func TestCalibratorValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    models.Calibrator
		ok   bool
	}{
		{"none", models.Calibrator{Method: models.CalibrationNone}, true},
		{"platt", models.Calibrator{Method: models.CalibrationPlatt, A: 1, B: -1}, true},
		{"platt NaN", models.Calibrator{Method: models.CalibrationPlatt, A: math.NaN()}, false},
		{"isotonic", models.Calibrator{Method: models.CalibrationIsotonic, Knots: []float64{0, 1}, Values: []float64{0.1, 0.2}}, true},
		{"isotonic empty", models.Calibrator{Method: models.CalibrationIsotonic}, false},
		{"isotonic decreasing", models.Calibrator{Method: models.CalibrationIsotonic, Knots: []float64{0, 1}, Values: []float64{0.2, 0.1}}, false},
		{"isotonic repeated knot", models.Calibrator{Method: models.CalibrationIsotonic, Knots: []float64{1, 1}, Values: []float64{0.1, 0.2}}, false},
		{"unknown", models.Calibrator{Method: "magic"}, false},
	} {
		if err := tc.c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
