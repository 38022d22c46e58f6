package models

import (
	"fmt"
	"math"
	"syscall"
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
	// Two numeric features with missing values and a categorical one, in
	// trees explained by quadrature and, in a copy, by Algorithm 2.
	d := synthetic(2000, 2, true, 0.2, 13)
	p := DefaultGBDTParams()
	p.Rounds, p.LearningRate, p.MaxDepth = 8, 0.3, 5
	m := mustFit(t, d, nil, p)
	recursive := byRecursion(m)
	const features = 3
	row := make([]float64, features)
	for i := range 50 {
		d.Row(i, row)
		want := bruteForceShapley(m, row)
		for name, model := range map[string]*GBDT{"quadrature": m, "recursion": recursive} {
			got := model.Contributions(row, nil)
			for j := range features {
				if math.Abs(got[j]-want[j]) > 1e-9 {
					t.Fatalf("%s, row %v: TreeSHAP %v, brute-force Shapley values %v", name, row, got, want)
				}
			}
		}
	}
	if q, r := byQuadrature(m); r > 0 {
		t.Errorf("%d trees of depth 5 explained by Algorithm 2, %d by quadrature", r, q)
	}
	if v := coalitionValue(m, row, 0); math.Abs(v-m.ExpectedValue()) > 1e-12 {
		t.Errorf("value of the empty coalition %v, ExpectedValue %v", v, m.ExpectedValue())
	}
}

// byRecursion returns a copy of m whose trees are all explained by
// Algorithm 2.
func byRecursion(m *GBDT) *GBDT {
	r := &GBDT{Features: m.Features, BaseScore: m.BaseScore, Trees: m.Trees, Expected: m.Expected}
	none := make([]quadTree, len(m.Trees))
	r.shap.Store(&none)
	return r
}

// byQuadrature counts the trees of m explained by quadrature and by
// Algorithm 2.
func byQuadrature(m *GBDT) (quadrature, recursion int) {
	m.Contributions(make([]float64, len(m.Features)), nil)
	for _, r := range *m.shap.Load() {
		if r != nil {
			quadrature++
		} else {
			recursion++
		}
	}
	return quadrature, recursion
}

// caterpillar returns a model of one tree that splits on features 0, 1,
// …, n−1 in turn, each split's left child a leaf.
func caterpillar(n int) *GBDT {
	var tr Tree
	var schema Schema
	for i := range n {
		schema = append(schema, Feature{Name: fmt.Sprintf("x%d", i), Kind: Numeric})
		cover := float64(int(1) << (n - i))
		node := int32(len(tr.Feature))
		tr.Feature = append(tr.Feature, int32(i), -1)
		tr.Threshold = append(tr.Threshold, 0.5, 0)
		tr.Left = append(tr.Left, node+1, -1)
		tr.Right = append(tr.Right, node+2, -1)
		tr.DefaultLeft = append(tr.DefaultLeft, i%2 == 0, false)
		tr.Value = append(tr.Value, 0, float64(i%3)-1)
		tr.Cover = append(tr.Cover, cover, cover*0.4)
		tr.Gain = append(tr.Gain, 1, 0)
	}
	tr.Feature = append(tr.Feature, -1)
	tr.Threshold = append(tr.Threshold, 0)
	tr.Left, tr.Right = append(tr.Left, -1), append(tr.Right, -1)
	tr.DefaultLeft = append(tr.DefaultLeft, false)
	tr.Value = append(tr.Value, 2)
	tr.Cover = append(tr.Cover, tr.Cover[len(tr.Cover)-2]/0.4*0.6)
	tr.Gain = append(tr.Gain, 0)
	return &GBDT{Features: schema, Trees: []Tree{tr}}
}

// TestContributionsQuadratureMatchesRecursion compares the two ways trees
// are explained, on fitted models whose paths split on features again and
// again and on trees of 8 and 9 distinct features on a path, and checks
// which trees each way explains.
func TestContributionsQuadratureMatchesRecursion(t *testing.T) {
	fit := func(features, depth, leaves int) func(t *testing.T) (*GBDT, *Dataset) {
		return func(t *testing.T) (*GBDT, *Dataset) {
			d := synthetic(3000, features, true, 0.15, 17)
			p := DefaultGBDTParams()
			p.Rounds, p.LearningRate, p.MaxDepth, p.MaxLeaves, p.MinChildWeight = 20, 0.2, depth, leaves, 0.01
			p.Subsample, p.ColSample = 0.8, 0.8
			return mustFit(t, d, nil, p), d
		}
	}
	chain := func(n int) func(t *testing.T) (*GBDT, *Dataset) {
		return func(t *testing.T) (*GBDT, *Dataset) {
			m := caterpillar(n)
			return m, synthetic(300, n, false, 0.1, 23)
		}
	}
	tests := []struct {
		name      string
		model     func(t *testing.T) (*GBDT, *Dataset)
		recursion bool // every tree is explained by Algorithm 2
	}{
		{"depth 6", fit(8, 6, 0), false},
		{"depth 3", fit(3, 3, 0), false},
		{"best-first, 100 leaves", fit(5, 0, 100), false},
		{"8 features on a path", chain(8), false},
		{"9 features on a path", chain(9), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, d := tt.model(t)
			if q, r := byQuadrature(m); tt.recursion && q > 0 || !tt.recursion && r > 0 {
				t.Fatalf("%d trees explained by quadrature, %d by Algorithm 2", q, r)
			}
			recursive := byRecursion(m)
			row := make([]float64, len(m.Features))
			got, want := make([]float64, len(m.Features)), make([]float64, len(m.Features))
			for i := range min(300, d.Rows()) {
				d.Row(i, row)
				m.Contributions(row, got)
				recursive.Contributions(row, want)
				for j := range got {
					if math.Abs(got[j]-want[j]) > 1e-12 {
						t.Fatalf("row %d feature %d: quadrature gives %v, Algorithm 2 %v", i, j, got[j], want[j])
					}
				}
			}
		})
	}
}

// TestContributionsTinyCover checks trees whose cover fractions are tiny:
// down to 2⁻⁴⁰⁰ on a path they are explained by quadrature, below it by
// Algorithm 2.
func TestContributionsTinyCover(t *testing.T) {
	for _, tt := range []struct {
		cover      float64
		quadrature bool
	}{{1e-100, true}, {1e-300, false}} {
		tree := Tree{
			Feature:     []int32{0, -1, 1, -1, -1},
			Threshold:   []float64{0.5, 0, 0.5, 0, 0},
			Left:        []int32{1, -1, 3, -1, -1},
			Right:       []int32{2, -1, 4, -1, -1},
			DefaultLeft: []bool{true, false, true, false, false},
			Value:       []float64{0, 1, 0, 2, -3},
			Cover:       []float64{4, 4, tt.cover, tt.cover / 2, tt.cover / 2},
			Gain:        make([]float64, 5),
		}
		m := &GBDT{Features: Schema{{Name: "a", Kind: Numeric}, {Name: "b", Kind: Numeric}}, Trees: []Tree{tree}}
		if q, _ := byQuadrature(m); (q > 0) != tt.quadrature {
			t.Errorf("cover %g: explained by quadrature %v, want %v", tt.cover, q > 0, tt.quadrature)
		}
		for _, row := range [][]float64{{1, 0}, {1, 1}, {0, 1}} {
			got := m.Contributions(row, nil)
			want := bruteForceShapley(m, row)
			for j := range got {
				if math.Abs(got[j]-want[j]) > 1e-12*max(1, math.Abs(want[j])) {
					t.Errorf("cover %g, row %v: contributions %v, brute-force Shapley values %v", tt.cover, row, got, want)
				}
			}
		}
	}
}

// TestGaussLegendre checks that the rule integrates the monomials it must
// over [0, 1] exactly.
func TestGaussLegendre(t *testing.T) {
	for k := range 2 * len(quadNodes) {
		var got float64
		for i, x := range quadNodes {
			got += quadWeights[i] * math.Pow(x, float64(k))
		}
		if want := 1 / float64(k+1); math.Abs(got-want) > 1e-15 {
			t.Errorf("∫ x^%d = %v, want %v", k, got, want)
		}
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

// BenchmarkContributions explains rows of a 100-tree, depth-6 model by
// quadrature and by the recursion of Algorithm 2. On a loaded machine compare
// cpu-ns/op, the process's CPU time per row, rather than ns/op.
func BenchmarkContributions(b *testing.B) {
	d := synthetic(5000, 30, true, 0.1, 19)
	p := DefaultGBDTParams()
	p.Rounds, p.EarlyStoppingRounds, p.Subsample, p.ColSample = 100, 0, 0.8, 0.8
	m, err := FitGBDT(d, nil, p)
	if err != nil {
		b.Fatal(err)
	}
	recursive := byRecursion(m)
	for name, model := range map[string]*GBDT{"quadrature": m, "recursion": recursive} {
		b.Run(name, func(b *testing.B) {
			row := make([]float64, len(m.Features))
			phi := make([]float64, len(m.Features))
			model.Contributions(row, phi) // chooses the rules
			cpu := processCPU(b)
			i := 0
			for b.Loop() {
				model.Contributions(d.Row(i%d.Rows(), row), phi)
				i++
			}
			b.ReportMetric(float64(processCPU(b)-cpu)/float64(i), "cpu-ns/op")
		})
	}
}

// processCPU returns the CPU time the process has used, in nanoseconds.
func processCPU(b *testing.B) int64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatal(err)
	}
	return u.Utime.Nano() + u.Stime.Nano()
}
