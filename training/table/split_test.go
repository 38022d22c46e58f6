package table_test

import (
	"reflect"
	"testing"

	"github.com/openchurn/churn/training/table"
)

func TestStratifiedFolds(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pos, neg int
		k        int
		seed     uint64
	}{
		{"balanced", 50, 50, 5, 1},
		{"rare positives", 7, 93, 5, 2},
		{"uneven sizes", 3, 10, 4, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			labels := make([]float64, tc.pos+tc.neg)
			for i := range tc.pos {
				labels[i*(tc.pos+tc.neg)/tc.pos] = 1
			}
			folds := table.StratifiedFolds(labels, tc.k, tc.seed)
			seen := make(map[int]bool)
			for _, f := range folds {
				var p int
				for k, i := range f {
					if seen[i] || (k > 0 && f[k-1] >= i) {
						t.Fatalf("row %d repeated or out of order", i)
					}
					seen[i] = true
					p += int(labels[i])
				}
				if lo := tc.pos / tc.k; p < lo || p > lo+1 {
					t.Errorf("fold has %d positives, want %d or %d", p, lo, lo+1)
				}
				if lo := len(labels) / tc.k; len(f) < lo || len(f) > lo+1 {
					t.Errorf("fold has %d rows, want %d or %d", len(f), lo, lo+1)
				}
			}
			if len(seen) != len(labels) {
				t.Errorf("folds cover %d of %d rows", len(seen), len(labels))
			}
			if again := table.StratifiedFolds(labels, tc.k, tc.seed); !reflect.DeepEqual(again, folds) {
				t.Error("same seed gave different folds")
			}
		})
	}
}
