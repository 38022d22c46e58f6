package models

import (
	"math"
	"slices"
)

const (
	// minSplitGainFloor is the least gain any split must exceed. As
	// XGBoost's kRtEps it stops splits whose gain is rounding noise.
	minSplitGainFloor = 1e-6
	// catSmooth is added to the hessian of each category when categories
	// are ordered for a split, LightGBM's cat_smooth: it pulls rare
	// categories towards the middle of the order so that a handful of rows
	// cannot place a category at either end.
	catSmooth = 10
)

// gradEntry is a row of the current tree's sample with its gradient and
// hessian. Nodes own contiguous runs of entries, and splitting a node
// partitions its run in place, keeping rows in ascending order; so the
// gradients of a node are read sequentially and its binned values nearly so.
type gradEntry struct {
	Row  int32
	G, H float32
}

// binStat holds the gradient and hessian sums of the rows in a bin.
type binStat struct{ G, H float64 }

func (s binStat) sub(o binStat) binStat { return binStat{s.G - o.G, s.H - o.H} }

func (s *binStat) add(g, h float64) {
	s.G += g
	s.H += h
}

// histogram holds one node's binStats for every feature: feature j uses
// h[j], which a uint8 bin indexes without bounds checks. It has a slot for
// every byte of a grouped table, so its length is a multiple of groupWidth.
type histogram [][256]binStat

// group returns the histograms of the features of group k.
func (h histogram) group(k int) *[groupWidth][256]binStat {
	return (*[groupWidth][256]binStat)(h[k*groupWidth:])
}

// accumulateGo is accumulate in Go, for processors without an assembly
// version and for the entries an assembly version leaves.
func accumulateGo(h *[groupWidth][256]binStat, words []uint32, ents []gradEntry) {
	for _, e := range ents {
		w := words[e.Row]
		g, hs := float64(e.G), float64(e.H)
		h[0][uint8(w)].add(g, hs)
		h[1][uint8(w>>8)].add(g, hs)
		h[2][uint8(w>>16)].add(g, hs)
		h[3][uint8(w>>24)].add(g, hs)
	}
}

// split describes how to split a node.
type split struct {
	feature int
	// gain is as in GBDTParams; a split is only made if it is positive.
	gain float64
	// defaultLeft says where missing values go.
	defaultLeft bool
	// threshold: a numeric split sends bins 1…threshold left.
	threshold int
	// nonDefault: a categorical split sends these bins to the side missing
	// values do not go to, and all other bins with them.
	nonDefault [4]uint64
	// gl and hl are the gradient and hessian sums of the left child.
	gl, hl float64
}

// better reports whether s beats o: more gain, ties to the lower feature,
// so that the chosen split does not depend on the order of the search.
func (s *split) better(o *split) bool {
	return s.gain > o.gain || s.gain == o.gain && s.gain > 0 && s.feature < o.feature
}

// goesLeft returns, for every bin, whether the split sends it left.
func (s *split) goesLeft(kind Kind, dst *[256]bool) {
	for b := range dst {
		switch {
		case b == 0:
			dst[b] = s.defaultLeft
		case kind == Categorical:
			dst[b] = s.defaultLeft != (s.nonDefault[b/64]>>(b%64)&1 == 1)
		default:
			dst[b] = b <= s.threshold
		}
	}
}

// splitFinder searches the histogram of one feature for its best split.
// Each goroutine has its own because it keeps scratch space.
type splitFinder struct {
	lambda, minChild, minGain float64
	order                     []int
}

func newSplitFinder(p GBDTParams) splitFinder {
	return splitFinder{
		lambda:   p.Lambda,
		minChild: p.MinChildWeight,
		minGain:  math.Max(p.MinSplitGain, minSplitGainFloor),
		order:    make([]int, 0, 256),
	}
}

// noSplit returns the split to beat: none at all.
func (s *splitFinder) noSplit() split { return split{feature: -1, gain: s.minGain} }

// gain returns the gain of sending (gl, hl) of node totals (g, h) left, or
// −Inf if a child would be lighter than allowed.
func (s *splitFinder) gain(gl, hl, g, h, parent float64) float64 {
	hr := h - hl
	if !(hl >= s.minChild && hr >= s.minChild && hl > 0 && hr > 0) {
		return math.Inf(-1)
	}
	gr := g - gl
	return gl*gl/(hl+s.lambda) + gr*gr/(hr+s.lambda) - parent
}

// cut evaluates sending the present-value sums (gl, hl) left with missing
// values on either side and returns the better gain, where missing values
// then go, and the resulting left sums. If the node has no missing values,
// they are sent to the heavier child, where an unseen missing value is
// most likely to belong.
func (s *splitFinder) cut(gl, hl float64, miss binStat, g, h, parent float64) (gain float64, defaultLeft bool, gLeft, hLeft float64) {
	if miss.H == 0 {
		return s.gain(gl, hl, g, h, parent), hl >= h-hl, gl, hl
	}
	right := s.gain(gl, hl, g, h, parent)
	left := s.gain(gl+miss.G, hl+miss.H, g, h, parent)
	if left > right {
		return left, true, gl + miss.G, hl + miss.H
	}
	return right, false, gl, hl
}

// search updates best with the best split on feature j of a node with
// totals (g, h), given the feature's histogram and number of present-value
// bins nb.
func (s *splitFinder) search(best *split, j int, kind Kind, hist *[256]binStat, nb int, g, h float64) {
	parent := g * g / (h + s.lambda)
	miss := hist[0]
	cand := split{feature: j, gain: math.Inf(-1)}
	if kind != Categorical {
		var gl, hl float64
		for t := 1; t < nb; t++ {
			gl += hist[t].G
			hl += hist[t].H
			if gain, dl, gLeft, hLeft := s.cut(gl, hl, miss, g, h, parent); gain > cand.gain {
				cand.gain, cand.defaultLeft, cand.threshold, cand.gl, cand.hl = gain, dl, t, gLeft, hLeft
			}
		}
	} else {
		// As LightGBM and XGBoost do, order the categories present by their
		// (smoothed) optimal leaf value and take the best prefix as one side.
		s.order = s.order[:0]
		for b := 1; b <= nb; b++ {
			if hist[b].H > 0 {
				s.order = append(s.order, b)
			}
		}
		slices.SortStableFunc(s.order, func(a, b int) int {
			ra := hist[a].G / (hist[a].H + catSmooth)
			rb := hist[b].G / (hist[b].H + catSmooth)
			switch {
			case ra < rb:
				return -1
			case ra > rb:
				return 1
			}
			return 0
		})
		var gl, hl float64
		prefix := 0
		for i := 0; i+1 < len(s.order); i++ {
			gl += hist[s.order[i]].G
			hl += hist[s.order[i]].H
			if gain, dl, gLeft, hLeft := s.cut(gl, hl, miss, g, h, parent); gain > cand.gain {
				cand.gain, cand.defaultLeft, cand.gl, cand.hl = gain, dl, gLeft, hLeft
				prefix = i + 1
			}
		}
		if !cand.better(best) {
			return
		}
		// The side missing values do not take is the other side's set.
		side := s.order[prefix:]
		if !cand.defaultLeft {
			side = s.order[:prefix]
		}
		for _, b := range side {
			cand.nonDefault[b/64] |= 1 << (b % 64)
		}
	}
	if cand.better(best) {
		*best = cand
	}
}
