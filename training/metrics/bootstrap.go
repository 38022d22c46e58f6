package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Estimate is a Summary with a percentile bootstrap interval around every
// metric.
type Estimate struct {
	Summary
	// Lo and Hi hold the 2.5% and 97.5% percentiles of each metric over
	// the bootstrap resamples.
	Lo Summary `json:"lo"`
	Hi Summary `json:"hi"`
	// Rows is the number of rows, Positives the weight of positive labels
	// and Rounds the number of bootstrap resamples.
	Rows      int     `json:"rows"`
	Positives float64 `json:"positives"`
	Rounds    int     `json:"rounds"`
}

// Bootstrap computes every metric of probabilities p against labels y, as
// Evaluate does, with a 95% interval from rounds resamples of the rows
// drawn with replacement. The resamples depend only on seed and the number
// of rows. A metric undefined on a resample (an AUC without positives) is
// left out of its percentiles; rounds < 1 gives NaN bounds.
//
// The rows are sorted by score once: a resample is a vector of
// multiplicities, applied as weights to the ranked rows, so each round
// costs O(n) rather than a sort.
func Bootstrap(y, p, w []float64, rounds int, seed uint64) Estimate {
	check("Bootstrap", y, p, w)
	r := rank(y, p)
	e := Estimate{Summary: r.summary(w), Rows: len(y), Rounds: rounds}
	for i := range y {
		e.Positives += weight(w, i) * y[i]
	}
	rng := rand.New(rand.NewPCG(seed, 0xb007))
	samples := make([][]float64, 7)
	rw := make([]float64, len(y))
	for range rounds {
		clear(rw)
		for range len(y) {
			rw[rng.IntN(len(y))]++
		}
		if w != nil {
			for i := range rw {
				rw[i] *= w[i]
			}
		}
		for k, v := range r.summary(rw).values() {
			if !math.IsNaN(v) {
				samples[k] = append(samples[k], v)
			}
		}
	}
	var lo, hi [7]float64
	for k, s := range samples {
		lo[k], hi[k] = percentile(s, 0.025), percentile(s, 0.975)
	}
	e.Lo, e.Hi = fromValues(lo), fromValues(hi)
	return e
}

// values lists the metrics in a fixed order, the inverse of fromValues.
func (s Summary) values() [7]float64 {
	return [7]float64{s.AUC, s.PRAUC, s.LogLoss, s.Brier, s.ECE, s.Lift, s.Recall}
}

func fromValues(v [7]float64) Summary {
	return Summary{AUC: v[0], PRAUC: v[1], LogLoss: v[2], Brier: v[3], ECE: v[4], Lift: v[5], Recall: v[6]}
}

// percentile returns the q-quantile of x by linear interpolation between
// order statistics (numpy's default), or NaN for empty x. It sorts x.
func percentile(x []float64, q float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	slices.Sort(x)
	h := q * float64(len(x)-1)
	i := int(h)
	if i+1 >= len(x) {
		return x[len(x)-1]
	}
	return x[i] + (h-float64(i))*(x[i+1]-x[i])
}

// Mean returns the metric-by-metric mean of summaries, such as a
// backtest's folds; NaN metrics make their mean NaN.
func Mean(summaries []Summary) Summary {
	var sum [7]float64
	for _, s := range summaries {
		for k, v := range s.values() {
			sum[k] += v / float64(len(summaries))
		}
	}
	return fromValues(sum)
}
