package models

// accumulateSSE2 is accumulate's loop in SSE2 assembly (gbdt_hist_amd64.s),
// which every amd64 processor has. It returns how many entries it added,
// stopping early only at a row out of range of words.
//
//go:noescape
func accumulateSSE2(h *[groupWidth][256]binStat, words []uint32, ents []gradEntry) int

// accumulate adds the gradient and hessian of every entry to the bins of
// its row in words, a group of the grouped table, of the group's features.
// It is the innermost loop of fitting. The Go loop finishes what the
// assembly leaves, so a row out of range panics as an index would.
func accumulate(h *[groupWidth][256]binStat, words []uint32, ents []gradEntry) {
	n := accumulateSSE2(h, words, ents)
	accumulateGo(h, words, ents[n:])
}
