package models

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// CalibrationMethod names how a Calibrator maps raw scores to probabilities.
type CalibrationMethod string

const (
	// CalibrationNone reads the raw score as log-odds: p = 1/(1+e^−raw).
	CalibrationNone CalibrationMethod = "none"
	// CalibrationPlatt fits p = 1/(1+e^−(A·raw+B)).
	CalibrationPlatt CalibrationMethod = "platt"
	// CalibrationIsotonic fits a non-decreasing step function by pool
	// adjacent violators and interpolates linearly between its blocks.
	CalibrationIsotonic CalibrationMethod = "isotonic"
)

// CalibrationEpsilon bounds isotonic probabilities to [ε, 1−ε], so a block
// of training rows that were all of one class never yields a certainty.
const CalibrationEpsilon = 1e-6

// Calibrator maps a model's raw score to a probability, so that a score of
// 0.30 means 30 events in 100. It is fitted on held-out predictions: scores
// of rows the model was not trained on. The zero value is not usable; the
// exported fields exist for JSON encoding.
type Calibrator struct {
	Method CalibrationMethod `json:"method"`
	// A and B are the Platt slope and offset.
	A float64 `json:"a,omitempty"`
	B float64 `json:"b,omitempty"`
	// Knots holds the isotonic block centres (weighted mean raw score of
	// each block), strictly increasing, and Values the block probabilities,
	// non-decreasing.
	Knots  []float64 `json:"knots,omitempty"`
	Values []float64 `json:"values,omitempty"`
}

// Probability returns the calibrated probability for a raw score.
func (c *Calibrator) Probability(raw float64) float64 {
	switch c.Method {
	case CalibrationPlatt:
		return Logistic(c.A*raw + c.B)
	case CalibrationIsotonic:
		return c.interpolate(raw)
	}
	return Logistic(raw)
}

// interpolate evaluates the isotonic fit: constant beyond the outer knots,
// linear between neighbouring knots.
func (c *Calibrator) interpolate(raw float64) float64 {
	k, v := c.Knots, c.Values
	if !(raw > k[0]) { // also catches NaN
		return v[0]
	}
	if raw >= k[len(k)-1] {
		return v[len(v)-1]
	}
	i := sort.SearchFloat64s(k, raw) // k[i-1] < raw <= k[i]
	t := (raw - k[i-1]) / (k[i] - k[i-1])
	return v[i-1] + t*(v[i]-v[i-1])
}

// Validate checks that the calibrator is well formed. It is run on every
// calibrator decoded from an artifact.
func (c *Calibrator) Validate() error {
	switch c.Method {
	case CalibrationNone:
		return nil
	case CalibrationPlatt:
		if !finite(c.A) || !finite(c.B) {
			return fmt.Errorf("models: platt calibrator has non-finite parameters %v, %v", c.A, c.B)
		}
		return nil
	case CalibrationIsotonic:
		if len(c.Knots) == 0 || len(c.Knots) != len(c.Values) {
			return fmt.Errorf("models: isotonic calibrator has %d knots and %d values", len(c.Knots), len(c.Values))
		}
		for i := range c.Knots {
			if !finite(c.Knots[i]) || !(c.Values[i] >= 0 && c.Values[i] <= 1) {
				return fmt.Errorf("models: isotonic calibrator knot %d is invalid", i)
			}
			if i > 0 && (c.Knots[i] <= c.Knots[i-1] || c.Values[i] < c.Values[i-1]) {
				return fmt.Errorf("models: isotonic calibrator is not increasing at knot %d", i)
			}
		}
		return nil
	}
	return fmt.Errorf("models: unknown calibration method %q", c.Method)
}

// calibrationInput checks the common arguments of the calibration fitters
// and returns the total weight of each class.
func calibrationInput(raw, labels, weights []float64) (pos, neg float64, err error) {
	if len(labels) != len(raw) || (weights != nil && len(weights) != len(raw)) {
		return 0, 0, fmt.Errorf("models: calibration got %d scores, %d labels and %d weights", len(raw), len(labels), len(weights))
	}
	for i, y := range labels {
		w := 1.0
		if weights != nil {
			w = weights[i]
		}
		switch {
		case !finite(raw[i]):
			return 0, 0, fmt.Errorf("models: calibration score %d is %v", i, raw[i])
		case !(w >= 0) || math.IsInf(w, 0):
			return 0, 0, fmt.Errorf("models: calibration weight %d is %v", i, w)
		case y == 1:
			pos += w
		case y == 0:
			neg += w
		default:
			return 0, 0, fmt.Errorf("models: calibration label %d is %v, want 0 or 1", i, y)
		}
	}
	if pos == 0 || neg == 0 {
		return 0, 0, errors.New("models: calibration needs weight on both classes")
	}
	return pos, neg, nil
}

// FitPlatt fits Platt scaling to held-out raw scores and 0/1 labels, with
// optional non-negative weights (nil means unit weights).
//
// As in Platt (1999), the targets are smoothed to (N₊+1)/(N₊+2) and
// 1/(N₋+2), which keeps the fit finite when the scores separate the
// classes. The log loss is minimised by Newton's method with step halving.
func FitPlatt(raw, labels, weights []float64) (*Calibrator, error) {
	pos, neg, err := calibrationInput(raw, labels, weights)
	if err != nil {
		return nil, err
	}
	hi, lo := (pos+1)/(pos+2), 1/(neg+2)
	target := func(i int) float64 {
		if labels[i] == 1 {
			return hi
		}
		return lo
	}
	weight := func(i int) float64 {
		if weights == nil {
			return 1
		}
		return weights[i]
	}
	loss := func(a, b float64) float64 {
		var s float64
		for i, x := range raw {
			z := a*x + b
			s += weight(i) * LogLoss(target(i), z)
		}
		return s
	}
	a, b := 1.0, 0.0
	cur := loss(a, b)
	for range 100 {
		// Gradient and Hessian of the weighted log loss in (a, b).
		var ga, gb, haa, hab, hbb float64
		for i, x := range raw {
			g, h := LogLossDerivatives(target(i), a*x+b)
			w := weight(i)
			r, h := w*g, w*h
			ga += r * x
			gb += r
			haa += h * x * x
			hab += h * x
			hbb += h
		}
		// A tiny ridge keeps the Hessian invertible when all scores are equal.
		haa += 1e-12 * (pos + neg)
		hbb += 1e-12 * (pos + neg)
		det := haa*hbb - hab*hab
		da, db := (hbb*ga-hab*gb)/det, (haa*gb-hab*ga)/det
		step := 1.0
		for ; step > 1e-10; step /= 2 {
			if next := loss(a-step*da, b-step*db); next <= cur {
				a, b, cur = a-step*da, b-step*db, next
				break
			}
		}
		if step <= 1e-10 || math.Abs(step*da)+math.Abs(step*db) < 1e-10 {
			break
		}
	}
	return &Calibrator{Method: CalibrationPlatt, A: a, B: b}, nil
}

// FitIsotonic fits isotonic regression to held-out raw scores and 0/1
// labels, with optional non-negative weights (nil means unit weights).
//
// Rows with equal scores are pooled first; then weighted pool adjacent
// violators merges neighbouring blocks until block means are strictly
// increasing. Each block becomes a knot at its weighted mean score, with its
// weighted mean label clamped to [CalibrationEpsilon, 1−CalibrationEpsilon]
// and to at most (w+1)/(w+2) for a block of weight w, the highest rate
// that many rows support, then lowered where needed to stay
// non-decreasing.
func FitIsotonic(raw, labels, weights []float64) (*Calibrator, error) {
	if _, _, err := calibrationInput(raw, labels, weights); err != nil {
		return nil, err
	}
	order := make([]int, 0, len(raw))
	for i := range raw {
		if weights == nil || weights[i] > 0 {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(raw[i], raw[j]) })
	type block struct{ w, wx, wy float64 }
	var blocks []block
	for k, i := range order {
		w := 1.0
		if weights != nil {
			w = weights[i]
		}
		b := block{w, w * raw[i], w * labels[i]}
		if k > 0 && raw[i] == raw[order[k-1]] {
			top := &blocks[len(blocks)-1]
			top.w, top.wx, top.wy = top.w+b.w, top.wx+b.wx, top.wy+b.wy
		} else {
			blocks = append(blocks, b)
		}
		// Restore monotonicity by pooling the top blocks.
		for n := len(blocks); n > 1 && blocks[n-2].wy/blocks[n-2].w >= blocks[n-1].wy/blocks[n-1].w; n-- {
			top := blocks[n-1]
			prev := &blocks[n-2]
			prev.w, prev.wx, prev.wy = prev.w+top.w, prev.wx+top.wx, prev.wy+top.wy
			blocks = blocks[:n-1]
		}
	}
	c := &Calibrator{Method: CalibrationIsotonic, Knots: make([]float64, len(blocks)), Values: make([]float64, len(blocks))}
	for k, b := range blocks {
		c.Knots[k] = b.wx / b.w
		if k > 0 && c.Knots[k] <= c.Knots[k-1] {
			// Rounding of a block mean can reach its neighbour's; knots
			// must stay strictly increasing.
			c.Knots[k] = math.Nextafter(c.Knots[k-1], math.Inf(1))
		}
		c.Values[k] = math.Min(math.Max(b.wy/b.w, CalibrationEpsilon), 1-CalibrationEpsilon)
		// A block of w rows supports a rate no closer to certainty than
		// (w+1)/(w+2) (Laplace's rule of succession): three trials that all
		// converted do not make the next one certain to.
		c.Values[k] = math.Min(c.Values[k], (b.w+1)/(b.w+2))
	}
	// The caps may break monotonicity where a small block follows a large
	// one; lowering from the right restores it without lifting any value
	// above its cap.
	for k := len(c.Values) - 2; k >= 0; k-- {
		c.Values[k] = math.Min(c.Values[k], c.Values[k+1])
	}
	return c, nil
}
