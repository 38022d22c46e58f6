//go:build !amd64 || purego

package models

// accumulate adds the gradient and hessian of every entry to the bins of
// its row in words, a group of the grouped table, of the group's features.
// It is the innermost loop of fitting.
func accumulate(h *[groupWidth][256]binStat, words []uint32, ents []gradEntry) {
	accumulateGo(h, words, ents)
}

// accumulate2 is accumulate for two groups, h0 from words0 and h1 from
// words1.
func accumulate2(h0, h1 *[groupWidth][256]binStat, words0, words1 []uint32, ents []gradEntry) {
	accumulateGo(h0, words0, ents)
	accumulateGo(h1, words1, ents)
}
