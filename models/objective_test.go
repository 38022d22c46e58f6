package models

import (
	"math"
	"testing"
)

func TestObjective(t *testing.T) {
	for _, tc := range []struct {
		z, y, p, loss float64
	}{
		{0, 1, 0.5, math.Ln2},
		{0, 0, 0.5, math.Ln2},
		{0, 0.3, 0.5, math.Ln2},
		{math.Log(3), 1, 0.75, -math.Log(0.75)},
		{math.Log(3), 0, 0.75, -math.Log(0.25)},
		{-math.Log(3), 0, 0.25, -math.Log(0.75)},
		// Far out, the naive forms overflow (e^1000) or round to 0 (log 1).
		{1000, 1, 1, 0},
		{1000, 0, 1, 1000},
		{-1000, 0, 0, 0},
		{-1000, 1, 0, 1000},
		{-40, 1, math.Exp(-40) / (1 + math.Exp(-40)), 40 + math.Log1p(math.Exp(-40))},
	} {
		if got := Logistic(tc.z); math.Abs(got-tc.p) > 1e-15*tc.p {
			t.Errorf("Logistic(%v) = %v, want %v", tc.z, got, tc.p)
		}
		if got := LogLoss(tc.y, tc.z); math.Abs(got-tc.loss) > 1e-12*math.Max(1, tc.loss) {
			t.Errorf("LogLoss(%v, %v) = %v, want %v", tc.y, tc.z, got, tc.loss)
		}
		g, h := LogLossDerivatives(tc.y, tc.z)
		if want := tc.p - tc.y; math.Abs(g-want) > 1e-15 {
			t.Errorf("gradient at (%v, %v) = %v, want %v", tc.y, tc.z, g, want)
		}
		if want := tc.p * (1 - tc.p); math.Abs(h-want) > 1e-15 {
			t.Errorf("Hessian at (%v, %v) = %v, want %v", tc.y, tc.z, h, want)
		}
	}
}

// TestObjectiveDerivatives checks the gradient and Hessian against central
// differences of the loss and the gradient.
func TestObjectiveDerivatives(t *testing.T) {
	const eps = 1e-6
	for _, y := range []float64{0, 0.2, 1} {
		for z := -8.0; z <= 8; z += 0.5 {
			g, h := LogLossDerivatives(y, z)
			if num := (LogLoss(y, z+eps) - LogLoss(y, z-eps)) / (2 * eps); math.Abs(g-num) > 1e-8 {
				t.Errorf("gradient at (%v, %v) = %v, differences say %v", y, z, g, num)
			}
			gp, _ := LogLossDerivatives(y, z+eps)
			gm, _ := LogLossDerivatives(y, z-eps)
			if num := (gp - gm) / (2 * eps); math.Abs(h-num) > 1e-8 {
				t.Errorf("Hessian at (%v, %v) = %v, differences say %v", y, z, h, num)
			}
		}
	}
}

func TestLogit(t *testing.T) {
	for _, p := range []float64{1e-15, 0.01, 0.25, 0.5, 0.9, 1 - 1e-15} {
		if got := Logistic(Logit(p)); math.Abs(got-p) > 1e-15 {
			t.Errorf("Logistic(Logit(%v)) = %v", p, got)
		}
		// The log loss of a probability through its log-odds agrees with
		// the textbook −log p and −log(1−p).
		if got, want := LogLoss(1, Logit(p)), -math.Log(p); math.Abs(got-want) > 1e-12 {
			t.Errorf("LogLoss(1, Logit(%v)) = %v, want %v", p, got, want)
		}
		if got, want := LogLoss(0, Logit(p)), -math.Log1p(-p); math.Abs(got-want) > 1e-12 {
			t.Errorf("LogLoss(0, Logit(%v)) = %v, want %v", p, got, want)
		}
	}
	if !math.IsInf(Logit(0), -1) || !math.IsInf(Logit(1), 1) {
		t.Errorf("Logit(0), Logit(1) = %v, %v; want −Inf, +Inf", Logit(0), Logit(1))
	}
}
