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
			var got, want [groupWidth][256]binStat
			for f := range got {
				for b := range got[f] {
					got[f][b] = binStat{rng.NormFloat64(), rng.Float64()}
				}
			}
			want = got
			accumulate(&got, words, ents)
			accumulateGo(&want, words, ents)
			if got != want {
				t.Fatal("histograms differ from the Go loop's")
			}
		})
	}
}

// TestAccumulateRowOutOfRange checks that a row beyond the grouped table
// panics as an index out of range would, rather than reading past it.
func TestAccumulateRowOutOfRange(t *testing.T) {
	for _, row := range []int32{4, -1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("row %d of 4: no panic", row)
				}
			}()
			var h [groupWidth][256]binStat
			ents := []gradEntry{{Row: 0, G: 1, H: 1}, {Row: row, G: 1, H: 1}}
			accumulate(&h, make([]uint32, 4), ents)
		}()
	}
}
