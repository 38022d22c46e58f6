//go:build !amd64

package models

// accumulate adds the gradient and hessian of every entry to the bins of
// its row in words, a group of the grouped table, of the group's features.
// It is the innermost loop of fitting.
func accumulate(h *[groupWidth][256]binStat, words []uint32, ents []gradEntry) {
	accumulateGo(h, words, ents)
}
