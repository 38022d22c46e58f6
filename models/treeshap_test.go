package models

import (
	"math"
	"testing"
)

func TestContributionsSumToRaw(t *testing.T) {
	d := synthetic(3000, 8, true, 0.15, 11)
	p := DefaultGBDTParams()
	p.Rounds, p.LearningRate, p.Subsample, p.ColSample = 60, 0.1, 0.8, 0.8
	m := mustFit(t, d, nil, p)
	if m.Expected == m.BaseScore {
		t.Fatal("expected value equals the base score: trees contribute nothing")
	}
	test := synthetic(200, 8, true, 0.15, 12)
	row := make([]float64, len(d.Schema))
	phi := make([]float64, len(d.Schema))
	for i := range test.Rows() {
		test.Row(i, row)
		m.Contributions(row, phi)
		sum := m.ExpectedValue()
		for _, c := range phi {
			sum += c
		}
		if raw := m.Raw(row); math.Abs(sum-raw) > 1e-9 {
			t.Fatalf("row %d: expected value + contributions = %v, Raw = %v", i, sum, raw)
		}
	}
}

func TestContributionsMatchBruteForceShapley(t *testing.T) {
	// Two numeric features with missing values and a categorical one.
	d := synthetic(2000, 2, true, 0.2, 13)
	p := DefaultGBDTParams()
	p.Rounds, p.LearningRate, p.MaxDepth = 8, 0.3, 5
	m := mustFit(t, d, nil, p)
	const features = 3
	row := make([]float64, features)
	for i := range 50 {
		d.Row(i, row)
		want := bruteForceShapley(m, row)
		got := m.Contributions(row, nil)
		for j := range features {
			if math.Abs(got[j]-want[j]) > 1e-9 {
				t.Fatalf("row %v: TreeSHAP %v, brute-force Shapley values %v", row, got, want)
			}
		}
	}
	if v := coalitionValue(m, row, 0); math.Abs(v-m.ExpectedValue()) > 1e-12 {
		t.Errorf("value of the empty coalition %v, ExpectedValue %v", v, m.ExpectedValue())
	}
}

// bruteForceShapley computes Shapley values by enumerating all coalitions
// of the model's features, each valued by coalitionValue.
func bruteForceShapley(m *GBDT, row []float64) []float64 {
	n := len(m.Features)
	fact := func(k int) float64 { return math.Gamma(float64(k) + 1) }
	phi := make([]float64, n)
	for j := range n {
		for s := uint(0); s < 1<<n; s++ {
			if s>>j&1 == 1 {
				continue
			}
			size := 0
			for k := range n {
				size += int(s >> k & 1)
			}
			w := fact(size) * fact(n-size-1) / fact(n)
			phi[j] += w * (coalitionValue(m, row, s|1<<j) - coalitionValue(m, row, s))
		}
	}
	return phi
}

// coalitionValue is the expected raw score when the features in the
// bitset s are fixed to row's values and the others are integrated out
// over the trees' covers.
func coalitionValue(m *GBDT, row []float64, s uint) float64 {
	var walk func(t *Tree, n int32) float64
	walk = func(t *Tree, n int32) float64 {
		f := t.Feature[n]
		switch {
		case f < 0:
			return t.Value[n]
		case s>>f&1 == 1:
			return walk(t, t.next(n, row[f]))
		}
		l, r := t.Left[n], t.Right[n]
		return (t.Cover[l]*walk(t, l) + t.Cover[r]*walk(t, r)) / t.Cover[n]
	}
	v := m.BaseScore
	for i := range m.Trees {
		v += walk(&m.Trees[i], 0)
	}
	return v
}
