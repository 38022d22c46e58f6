package simulate

import (
	"math"
	"testing"

	"github.com/openchurn/churn/models"
)

// TestRNGMoments checks the samplers' means and variances against theory.
func TestRNGMoments(t *testing.T) {
	const n = 200000
	tests := []struct {
		name       string
		draw       func(r *rng) float64
		mean, vari float64
	}{
		{"float", func(r *rng) float64 { return r.float() }, 0.5, 1.0 / 12},
		{"normal", func(r *rng) float64 { return r.normal() }, 0, 1},
		{"intn(10)", func(r *rng) float64 { return float64(r.intn(10)) }, 4.5, 8.25},
		{"poisson(0.02)", func(r *rng) float64 { return float64(r.poisson(0.02)) }, 0.02, 0.02},
		{"poisson(3)", func(r *rng) float64 { return float64(r.poisson(3)) }, 3, 3},
		{"poisson(50)", func(r *rng) float64 { return float64(r.poisson(50)) }, 50, 50},
		{"binomial(5, 0.2)", func(r *rng) float64 { return float64(r.binomial(5, 0.2)) }, 1, 0.8},
		{"pick(1,3)", func(r *rng) float64 { return float64(r.pick([]float64{1, 3})) }, 0.75, 0.1875},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRNG(1, 2, 3, streamDay)
			var sum, sq float64
			for range n {
				x := tt.draw(&r)
				sum += x
				sq += x * x
			}
			mean := sum / n
			vari := sq/n - mean*mean
			// Five standard errors of the mean; 5% on the variance.
			if math.Abs(mean-tt.mean) > 5*math.Sqrt(tt.vari/n) || math.Abs(vari-tt.vari) > 0.05*tt.vari {
				t.Errorf("mean %.4f, variance %.4f; want %.4f, %.4f", mean, vari, tt.mean, tt.vari)
			}
		})
	}
}

// TestRNGStreamsDiffer checks that neighbouring keys give unrelated streams.
func TestRNGStreamsDiffer(t *testing.T) {
	seen := map[uint64]bool{}
	for _, key := range [][4]uint64{{1, 0, 0, 1}, {1, 1, 0, 1}, {1, 0, 1, 1}, {1, 0, 0, 2}, {2, 0, 0, 1}} {
		r := newRNG(key[0], key[1], int64(key[2]), key[3])
		v := r.uint64()
		if seen[v] {
			t.Errorf("key %v repeats a first draw", key)
		}
		seen[v] = true
	}
}

// TestNoisyProbability checks the quadrature against cases known in closed
// form and against a Monte Carlo estimate.
func TestNoisyProbability(t *testing.T) {
	r := newRNG(7, 0, 0, streamDay)
	const n = 400000
	tests := []struct {
		logit, sd float64
	}{
		{0, 0}, {-3, 0}, {0, 1.5}, {-3.5, 0.7}, {1.2, 0.5},
	}
	for _, tt := range tests {
		got := noisyProbability(tt.logit, tt.sd)
		var mc float64
		for range n {
			mc += models.Logistic(tt.logit + tt.sd*r.normal())
		}
		mc /= n
		// Monte Carlo's standard error is below 0.25/√n ≈ 4e-4.
		if math.Abs(got-mc) > 2e-3 {
			t.Errorf("noisyProbability(%v, %v) = %.5f, Monte Carlo %.5f", tt.logit, tt.sd, got, mc)
		}
		if tt.sd == 0 && math.Abs(got-models.Logistic(tt.logit)) > 1e-12 {
			t.Errorf("noisyProbability(%v, 0) = %v, want the logistic %v", tt.logit, got, models.Logistic(tt.logit))
		}
		if tt.logit == 0 && math.Abs(got-0.5) > 1e-12 {
			t.Errorf("noisyProbability(0, %v) = %v, want 0.5 by symmetry", tt.sd, got)
		}
	}
}
