//go:build !purego

package models

// The accumulate loops in SSE2 assembly (gbdt_hist_amd64.s), which every
// amd64 processor has. They return how many entries they added, stopping
// early only at a row out of range of words.

//go:noescape
func accumulateSSE2(h *[groupWidth][256]binStat, words []uint32, ents []gradEntry) int

//go:noescape
func accumulate2SSE2(h0, h1 *[groupWidth][256]binStat, words0, words1 []uint32, ents []gradEntry) int

// asmChunk is the most entries given to one call of an assembly loop. The
// runtime cannot preempt a goroutine inside assembly, so long nodes are fed
// in chunks of well under a millisecond, between which it can.
const asmChunk = 1 << 15

// accumulate adds the gradient and hessian of every entry to the bins of
// its row in words, a group of the grouped table, of the group's features.
// It is the innermost loop of fitting. The Go loop finishes what the
// assembly leaves, so a row out of range panics as an index would.
func accumulate(h *[groupWidth][256]binStat, words []uint32, ents []gradEntry) {
	for len(ents) > 0 {
		chunk := ents[:min(len(ents), asmChunk)]
		n := accumulateSSE2(h, words, chunk)
		accumulateGo(h, words, chunk[n:])
		ents = ents[len(chunk):]
	}
}

// accumulate2 is accumulate for two groups at once, h0 from words0 and h1
// from words1, reading each entry once for both.
func accumulate2(h0, h1 *[groupWidth][256]binStat, words0, words1 []uint32, ents []gradEntry) {
	for len(ents) > 0 {
		chunk := ents[:min(len(ents), asmChunk)]
		n := accumulate2SSE2(h0, h1, words0, words1, chunk)
		accumulateGo(h0, words0, chunk[n:])
		accumulateGo(h1, words1, chunk[n:])
		ents = ents[len(chunk):]
	}
}
