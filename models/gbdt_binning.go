package models

import (
	"math"
	"slices"
)

// binSampleRows is the most rows whose values place the bin boundaries of a
// numeric feature. Like LightGBM's bin_construct_sample_cnt it keeps
// binning cheap on large tables at no visible cost in accuracy.
const binSampleRows = 200_000

// featureBins maps the values of one feature to bins. Bin 0 holds missing
// values and present values fall in bins 1…n, so n ≤ 255 fits a uint8.
type featureBins struct {
	// n is the number of bins for present values.
	n int
	// cuts are the ascending boundaries of a numeric feature: x falls in
	// bin 1 + #{k : cuts[k] ≤ x}, so bins 1…t hold exactly the x < cuts[t-1].
	cuts []float64
	// catBin is the bin of each category code of a categorical feature. A
	// code never seen in training has bin 0, so it follows missing values.
	catBin []uint8
}

// bin returns the bin of value x, which must be NaN or, for a categorical
// feature, a valid category code.
func (f *featureBins) bin(x float64) uint8 {
	if x != x {
		return 0
	}
	if f.catBin != nil {
		return f.catBin[int(x)]
	}
	// Count the cuts ≤ x. The count is in [base, base+n] throughout; each
	// step halves n by adding a 0 or 1 times half rather than branching,
	// as a branch on random values would be mispredicted half the time.
	cuts := f.cuts
	if len(cuts) == 0 {
		return 1
	}
	base, n := 0, len(cuts)
	for n > 1 {
		half := n / 2
		base += half * atMost(cuts[base+half], x)
		n -= half
	}
	return uint8(base + atMost(cuts[base], x) + 1)
}

// atMost returns 1 if c ≤ x and 0 otherwise.
func atMost(c, x float64) int {
	if c <= x {
		return 1
	}
	return 0
}

// binDataset chooses the bins of every feature of d and returns them with
// the binned columns, column-major like d.Columns.
func binDataset(d *Dataset, maxBins int, seed uint64, threads int) ([]featureBins, [][]uint8) {
	sample := sampleRows(d.Rows(), binSampleRows, seed)
	bins := make([]featureBins, len(d.Schema))
	cols := make([][]uint8, len(d.Schema))
	gbdtParallel(threads, len(d.Schema), func(_, lo, hi int) {
		var vals []float64
		for j := lo; j < hi; j++ {
			col := d.Columns[j]
			if d.Schema[j].Kind == Categorical {
				bins[j] = categoricalBins(col, len(d.Schema[j].Categories), maxBins)
			} else {
				vals = vals[:0]
				for _, i := range sample {
					if v := col[i]; v == v {
						vals = append(vals, v)
					}
				}
				slices.Sort(vals)
				bins[j] = numericBins(vals, maxBins)
			}
			binned := make([]uint8, len(col))
			for i, v := range col {
				binned[i] = bins[j].bin(v)
			}
			cols[j] = binned
		}
	})
	return bins, cols
}

// groupWidth is the number of features whose bins share a word of a
// grouped table (see groupColumns).
const groupWidth = 4

// groupColumns packs the bins of the n-row column-major binned table cols
// into words: bin i of feature j is byte j%groupWidth of groups[j/groupWidth][i].
// The last group's bytes beyond the last feature are bin 0. Building a
// histogram from groups reads one word per row for groupWidth features,
// which cuts the loads of the row and its gradients per feature and keeps
// far fewer cache lines in flight than reading whole rows would.
func groupColumns(cols [][]uint8, n, threads int) [][]uint32 {
	groups := make([][]uint32, (len(cols)+groupWidth-1)/groupWidth)
	gbdtParallel(threads, len(groups), func(_, lo, hi int) {
		for k := lo; k < hi; k++ {
			words := make([]uint32, n)
			for s, col := range cols[k*groupWidth : min((k+1)*groupWidth, len(cols))] {
				for i, bin := range col {
					words[i] |= uint32(bin) << (8 * s)
				}
			}
			groups[k] = words
		}
	})
	return groups
}

// sampleRows returns min(n, k) distinct row indices in ascending order,
// chosen uniformly at random (Knuth's selection sampling).
func sampleRows(n, k int, seed uint64) []int {
	if n <= k {
		rows := make([]int, n)
		for i := range rows {
			rows[i] = i
		}
		return rows
	}
	rng := gbdtRand(seed, 0)
	rows := make([]int, 0, k)
	for i := 0; i < n && len(rows) < k; i++ {
		if rng.IntN(n-i) < k-len(rows) {
			rows = append(rows, i)
		}
	}
	return rows
}

// numericBins places at most maxBins-1 cuts between the distinct values of
// vals, which must be sorted and free of NaN, so that bins hold about equal
// numbers of values. A value shared by many rows gets a bin of its own and
// the remaining bins are spread over the rest; if there are no more
// distinct values than bins, every value gets its own bin.
func numericBins(vals []float64, maxBins int) featureBins {
	if len(vals) == 0 {
		return featureBins{}
	}
	distinct := 1
	for i := 1; i < len(vals); i++ {
		if vals[i] != vals[i-1] {
			distinct++
		}
	}
	cuts := make([]float64, 0, min(distinct, maxBins)-1)
	rest, binsLeft, inBin, groups := float64(len(vals)), maxBins, 0, 0
	for i := 0; binsLeft > 1; {
		j := i + 1
		for j < len(vals) && vals[j] == vals[i] {
			j++
		}
		if j == len(vals) {
			break
		}
		inBin += j - i
		groups++
		if float64(inBin) >= rest/float64(binsLeft) || distinct-groups < binsLeft {
			cuts = append(cuts, cutBetween(vals[i], vals[j]))
			rest -= float64(inBin)
			inBin = 0
			binsLeft--
		}
		i = j
	}
	return featureBins{n: len(cuts) + 1, cuts: cuts}
}

// cutBetween returns a finite boundary c with a < c ≤ b, preferring the
// midpoint so that unseen values between a and b split evenly. Boundaries
// are kept finite so that fitted trees marshal to JSON.
func cutBetween(a, b float64) float64 {
	if mid := a/2 + b/2; mid > a && !math.IsInf(mid, 0) {
		return mid
	}
	if !math.IsInf(b, 0) {
		return b
	}
	return math.MaxFloat64
}

// categoricalBins gives each of k category codes its own bin when
// k ≤ maxBins. Otherwise the maxBins-1 most frequent codes in col get their
// own bins and the other codes seen share the last bin.
func categoricalBins(col []float64, k, maxBins int) featureBins {
	catBin := make([]uint8, k)
	if k <= maxBins {
		for c := range catBin {
			catBin[c] = uint8(c + 1)
		}
		return featureBins{n: k, catBin: catBin}
	}
	counts := make([]int, k)
	for _, v := range col {
		if v == v {
			counts[int(v)]++
		}
	}
	byCount := make([]int, k)
	for c := range byCount {
		byCount[c] = c
	}
	slices.SortStableFunc(byCount, func(a, b int) int { return counts[b] - counts[a] })
	for rank, c := range byCount {
		if counts[c] > 0 {
			catBin[c] = uint8(min(rank+1, maxBins))
		}
	}
	return featureBins{n: maxBins, catBin: catBin}
}
