package models

import (
	"math/rand/v2"
	"testing"
)

// TestAccumulateMatchesGo checks that accumulate, however it is built for
// the processor, sums exactly the float64s the Go loop sums, bit for bit,
// including rows repeated and histograms that start non-zero.
func TestAccumulateMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name       string
		rows, ents int
	}{
		{"empty", 10, 0},
		{"one", 10, 1},
		{"odd", 100, 77},
		{"repeats", 3, 1000},
		{"many", 5000, 20000},
		{"several chunks", 50000, 100001},
	} {
		t.Run(tc.name, func(t *testing.T) {
			words := make([]uint32, tc.rows)
			for i := range words {
				words[i] = rng.Uint32()
			}
			ents := make([]gradEntry, tc.ents)
			for i := range ents {
				ents[i] = gradEntry{Row: int32(rng.IntN(tc.rows)), G: float32(rng.NormFloat64()), H: rng.Float32()}
			}
			words1 := make([]uint32, tc.rows)
			for i := range words1 {
				words1[i] = rng.Uint32()
			}
			var start [2][groupWidth][256]binStat
			for k := range start {
				for f := range start[k] {
					for b := range start[k][f] {
						start[k][f][b] = binStat{rng.NormFloat64(), rng.Float64()}
					}
				}
			}
			want := start
			accumulateGo(&want[0], words, ents)
			accumulateGo(&want[1], words1, ents)
			got := start
			accumulate(&got[0], words, ents)
			accumulate(&got[1], words1, ents)
			if got != want {
				t.Error("accumulate: histograms differ from the Go loop's")
			}
			got = start
			accumulate2(&got[0], &got[1], words, words1, ents)
			if got != want {
				t.Error("accumulate2: histograms differ from the Go loop's")
			}
		})
	}
}

// TestAccumulateRowOutOfRange checks that a row beyond a group of the
// grouped table panics as an index out of range would, rather than reading
// past it.
func TestAccumulateRowOutOfRange(t *testing.T) {
	var h0, h1 [groupWidth][256]binStat
	for _, tc := range []struct {
		name string
		row  int32
		fn   func(ents []gradEntry)
	}{
		{"accumulate past the end", 4, func(ents []gradEntry) { accumulate(&h0, make([]uint32, 4), ents) }},
		{"accumulate negative", -1, func(ents []gradEntry) { accumulate(&h0, make([]uint32, 4), ents) }},
		{"accumulate2 past the first", 4, func(ents []gradEntry) { accumulate2(&h0, &h1, make([]uint32, 4), make([]uint32, 5), ents) }},
		{"accumulate2 past the second", 4, func(ents []gradEntry) { accumulate2(&h0, &h1, make([]uint32, 5), make([]uint32, 4), ents) }},
		{"accumulate2 negative", -1, func(ents []gradEntry) { accumulate2(&h0, &h1, make([]uint32, 5), make([]uint32, 5), ents) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("row %d: no panic", tc.row)
				}
			}()
			tc.fn([]gradEntry{{Row: 0, G: 1, H: 1}, {Row: tc.row, G: 1, H: 1}})
		})
	}
}
