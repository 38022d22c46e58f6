package table

import (
	"math/rand/v2"
	"slices"
)

// StratifiedFolds deals the rows of a 0/1 label vector into k folds so
// that each fold has (to within one row) the same number of positives and
// of negatives. The assignment depends only on the labels, k and seed.
// Each fold lists its rows in ascending order. k must be at least 2.
func StratifiedFolds(labels []float64, k int, seed uint64) [][]int {
	if k < 2 {
		panic("table: StratifiedFolds needs k >= 2")
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	folds := make([][]int, k)
	next := 0
	for _, class := range []float64{1, 0} {
		var rows []int
		for i, y := range labels {
			if y == class {
				rows = append(rows, i)
			}
		}
		rng.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		// Continue dealing where the previous class stopped, so fold sizes
		// differ by at most one overall.
		for _, i := range rows {
			folds[next] = append(folds[next], i)
			next = (next + 1) % k
		}
	}
	for _, f := range folds {
		slices.Sort(f)
	}
	return folds
}
