package models

import "math"

// The binary log-loss objective, written once: GBDT boosts on it, logistic
// regression and Platt calibration minimise it, and training/metrics
// reports it. z is a log-odds score; y is a label, 0 or 1, or a soft
// target in between (Platt's smoothed labels). Every form avoids overflow
// for any finite z.

// Logistic returns the probability of log-odds z, 1/(1+e^−z). For negative
// z it computes e^z/(1+e^z), which keeps full relative precision where the
// probability is tiny instead of rounding 1+e^−z.
func Logistic(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Logit returns the log-odds of probability p, log(p/(1−p)), the inverse
// of Logistic: −Inf at 0 and +Inf at 1.
func Logit(p float64) float64 { return math.Log(p / (1 - p)) }

// LogLoss returns the log loss of target y at log-odds z, −y·log p −
// (1−y)·log(1−p) with p = Logistic(z), computed as log(1+e^z) − y·z with
// the softplus split as max(z,0) + log1p(e^−|z|) so that it never
// overflows.
func LogLoss(y, z float64) float64 {
	return math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z))) - y*z
}

// LogLossDerivatives returns the first and second derivatives of
// LogLoss(y, ·) at z: the gradient p − y and the Hessian p·(1−p), with p =
// Logistic(z).
func LogLossDerivatives(y, z float64) (grad, hess float64) {
	p := Logistic(z)
	return p - y, p * (1 - p)
}
