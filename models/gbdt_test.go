package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// synthetic returns a deterministic table of n rows: numeric standard
// normal features x0…x(numeric-1), then, if withCat, a categorical feature
// "plan" of five categories, with a fraction missing of the values of every
// feature replaced by NaN. The label is drawn from a logistic model with
// nonlinear effects of x0…x5 and of the plan.
func synthetic(n, numeric int, withCat bool, missing float64, seed uint64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	d := &Dataset{Labels: make([]float64, n)}
	for j := range numeric {
		d.Schema = append(d.Schema, Feature{Name: fmt.Sprintf("x%d", j), Kind: Numeric})
	}
	if withCat {
		d.Schema = append(d.Schema, Feature{Name: "plan", Kind: Categorical, Categories: []string{"free", "basic", "team", "business", "enterprise"}})
	}
	d.Columns = make([][]float64, len(d.Schema))
	for j := range d.Columns {
		d.Columns[j] = make([]float64, n)
	}
	planEffect := []float64{0.8, -0.3, 0.4, -1.0, 0.2}
	x := make([]float64, len(d.Schema))
	for i := range n {
		for j := range numeric {
			x[j] = rng.NormFloat64()
		}
		if withCat {
			x[numeric] = float64(rng.IntN(len(planEffect)))
		}
		z := -0.5
		coef := []float64{1.5, 1, 1, 0.5, -0.8, 0.3}
		for j := 0; j < min(numeric, len(coef)); j++ {
			switch j {
			case 0:
				z += coef[j] * math.Sin(2*x[0])
			case 1:
				z += coef[j] * x[1] * x[min(2, numeric-1)]
			case 3:
				if x[3] > 0.3 {
					z += coef[j]
				}
			case 4:
				z += coef[j] * x[4] * x[4]
			default:
				z += coef[j] * x[j]
			}
		}
		if withCat {
			z += planEffect[int(x[numeric])]
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			d.Labels[i] = 1
		}
		for j := range x {
			if missing > 0 && rng.Float64() < missing {
				x[j] = math.NaN()
			}
			d.Columns[j][i] = x[j]
		}
	}
	return d
}

// table builds a dataset from rows of values, with features of the given
// kinds; categorical features get as many categories as their largest code
// plus one.
func table(kinds []Kind, rows [][]float64, labels []float64) *Dataset {
	d := &Dataset{Labels: labels, Columns: make([][]float64, len(kinds))}
	for j, k := range kinds {
		f := Feature{Name: fmt.Sprintf("f%d", j), Kind: k}
		for _, r := range rows {
			if k == Categorical && r[j] == r[j] {
				for len(f.Categories) <= int(r[j]) {
					f.Categories = append(f.Categories, fmt.Sprintf("c%d", len(f.Categories)))
				}
			}
			d.Columns[j] = append(d.Columns[j], r[j])
		}
		d.Schema = append(d.Schema, f)
	}
	return d
}

// stumpParams fits a single depth-one tree whose leaf values are the
// unregularised Newton steps.
func stumpParams() GBDTParams {
	p := DefaultGBDTParams()
	p.Rounds, p.MaxDepth, p.LearningRate, p.Lambda, p.MinChildWeight = 1, 1, 1, 0, 0
	return p
}

func mustFit(t *testing.T, train, valid *Dataset, p GBDTParams) *GBDT {
	t.Helper()
	m, err := FitGBDT(train, valid, p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGBDTRecoversThreshold(t *testing.T) {
	tests := []struct {
		name     string
		label    func(x float64) bool
		lo, hi   float64 // the learned threshold must lie in (lo, hi]
		leftHigh bool
	}{
		{"x>3", func(x float64) bool { return x > 3 }, 3, 4, false},
		{"x<7", func(x float64) bool { return x < 7 }, 6, 7, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var rows [][]float64
			var labels []float64
			for i := range 200 {
				x := float64(i % 10)
				rows = append(rows, []float64{x, float64(i % 7)})
				labels = append(labels, b2f(tc.label(x)))
			}
			m := mustFit(t, table([]Kind{Numeric, Numeric}, rows, labels), nil, stumpParams())
			tr := m.Trees[0]
			if tr.Feature[0] != 0 || !(tr.Threshold[0] > tc.lo && tr.Threshold[0] <= tc.hi) {
				t.Fatalf("root splits feature %d at %v, want feature 0 in (%v, %v]", tr.Feature[0], tr.Threshold[0], tc.lo, tc.hi)
			}
			for x := range 10 {
				row := []float64{float64(x), 0}
				if got, want := m.Raw(row) > 0, tc.label(float64(x)); got != want {
					t.Errorf("Raw(%v) = %v, want positive = %v", row, m.Raw(row), want)
				}
			}
		})
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestGBDTMissingGoesToLearnedSide(t *testing.T) {
	for _, missingLabel := range []float64{0, 1} {
		var rows [][]float64
		var labels []float64
		for i := range 300 {
			switch {
			case i%3 == 0:
				rows = append(rows, []float64{math.NaN()})
				labels = append(labels, missingLabel)
			default:
				x := float64(i % 10)
				rows = append(rows, []float64{x})
				labels = append(labels, b2f(x > 5))
			}
		}
		p := stumpParams()
		p.Rounds, p.LearningRate = 20, 0.5
		m := mustFit(t, table([]Kind{Numeric}, rows, labels), nil, p)
		// Missing values must join the side whose label they share.
		if got := m.Raw([]float64{math.NaN()}) > 0; got != (missingLabel == 1) {
			t.Errorf("missing label %v: Raw(NaN) = %v", missingLabel, m.Raw([]float64{math.NaN()}))
		}
		if dl := m.Trees[0].DefaultLeft[0]; dl != (missingLabel == 0) {
			t.Errorf("missing label %v: DefaultLeft = %v", missingLabel, dl)
		}
	}
}

func TestGBDTCategoricalSubset(t *testing.T) {
	positive := map[int]bool{1: true, 3: true, 4: true, 6: true}
	var rows [][]float64
	var labels []float64
	for i := range 400 {
		c := i % 8
		rows = append(rows, []float64{float64(c), float64(i % 5)})
		labels = append(labels, b2f(positive[c]))
	}
	d := table([]Kind{Categorical, Numeric}, rows, labels)
	// Category 8 is in the dictionary but never seen in training.
	d.Schema[0].Categories = append(d.Schema[0].Categories, "unseen")
	m := mustFit(t, d, nil, stumpParams())
	tr := m.Trees[0]
	if tr.Feature[0] != 0 || len(tr.Feature) != 3 {
		t.Fatalf("tree %+v: want a single split on the category", tr)
	}
	for c := range 8 {
		if got := m.Raw([]float64{float64(c), 0}) > 0; got != positive[c] {
			t.Errorf("category %d: Raw = %v, want positive = %v", c, m.Raw([]float64{float64(c), 0}), positive[c])
		}
	}
	// Unseen and missing categories take the default branch.
	def := tr.Right[0]
	if tr.DefaultLeft[0] {
		def = tr.Left[0]
	}
	for _, x := range []float64{8, math.NaN()} {
		if got, want := m.Raw([]float64{x, 0}), m.BaseScore+tr.Value[def]; got != want {
			t.Errorf("category %v: Raw = %v, want default leaf %v", x, got, want)
		}
	}
}

func TestCategoricalBinsMergeRareCodes(t *testing.T) {
	// Codes 0…9 appear 10-c times each; with 4 bins, codes 0, 1, 2 keep
	// bins of their own and 3…9 share the last; code 10 is never seen.
	var col []float64
	for c := range 10 {
		for range 10 - c {
			col = append(col, float64(c))
		}
	}
	fb := categoricalBins(col, 11, 4)
	want := []uint8{1, 2, 3, 4, 4, 4, 4, 4, 4, 4, 0}
	if fb.n != 4 || !reflect.DeepEqual(fb.catBin, want) {
		t.Errorf("categoricalBins = %d bins %v, want 4 bins %v", fb.n, fb.catBin, want)
	}
}

func TestNumericBins(t *testing.T) {
	tests := []struct {
		name    string
		vals    []float64
		maxBins int
		want    []float64
	}{
		{"few distinct", []float64{1, 1, 2, 3, 3, 3}, 255, []float64{1.5, 2.5}},
		{"quantiles", []float64{1, 2, 3, 4, 5, 6, 7, 8}, 4, []float64{2.5, 4.5, 6.5}},
		{"heavy value", []float64{0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, 3, []float64{0.5, 2.5}},
		{"infinite", []float64{math.Inf(-1), 0, math.Inf(1)}, 255, []float64{0, math.MaxFloat64}},
		{"constant", []float64{2, 2}, 255, []float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fb := numericBins(tc.vals, tc.maxBins)
			if !reflect.DeepEqual(fb.cuts, tc.want) || fb.n != len(tc.want)+1 {
				t.Fatalf("cuts = %v (n %d), want %v", fb.cuts, fb.n, tc.want)
			}
			// Bins must respect the cuts: x < cuts[t-1] iff bin(x) ≤ t.
			for _, x := range tc.vals {
				b := int(fb.bin(x))
				if b < 1 || b > fb.n || (b > 1 && !(x >= fb.cuts[b-2])) || (b <= len(fb.cuts) && !(x < fb.cuts[b-1])) {
					t.Errorf("bin(%v) = %d inconsistent with cuts %v", x, b, fb.cuts)
				}
			}
		})
	}
}

func TestGBDTEarlyStoppingKeepsBest(t *testing.T) {
	train := synthetic(2000, 6, false, 0, 1)
	valid := synthetic(1000, 6, false, 0, 2)
	p := DefaultGBDTParams()
	p.Rounds, p.LearningRate, p.EarlyStoppingRounds = 400, 0.5, 10
	m := mustFit(t, train, valid, p)
	if m.Best >= p.Rounds-1 {
		t.Fatalf("BestIteration = %d: did not stop early", m.BestIteration())
	}
	if len(m.Trees) != m.BestIteration()+1 {
		t.Errorf("%d trees kept for best iteration %d", len(m.Trees), m.BestIteration())
	}
	if len(m.ValidLoss) != m.Best+p.EarlyStoppingRounds+1 {
		t.Errorf("%d rounds fitted, want best %d + %d", len(m.ValidLoss), m.Best, p.EarlyStoppingRounds)
	}
	for r, l := range m.ValidLoss {
		if l < m.ValidLoss[m.Best] {
			t.Errorf("round %d has loss %v below best round %d's %v", r, l, m.Best, m.ValidLoss[m.Best])
		}
	}
	// The kept model's loss must be the best round's.
	z := m.PredictRaw(valid, nil)
	var loss float64
	for i, y := range valid.Labels {
		loss += LogLoss(y, z[i])
	}
	if loss /= float64(len(z)); math.Abs(loss-m.ValidLoss[m.Best]) > 1e-12 {
		t.Errorf("kept model's validation loss %v, best round's %v", loss, m.ValidLoss[m.Best])
	}
}

func TestGBDTDeterministic(t *testing.T) {
	// Enough rows for nodes to be partitioned in parallel.
	d := synthetic(20000, 8, true, 0.1, 3)
	p := DefaultGBDTParams()
	p.Rounds, p.Subsample, p.ColSample, p.Seed = 20, 0.7, 0.5, 42
	fit := func(threads int, seed uint64) *GBDT {
		q := p
		q.Threads, q.Seed = threads, seed
		return mustFit(t, d, nil, q)
	}
	a := fit(1, 42)
	if b := fit(1, 42); !reflect.DeepEqual(a.Trees, b.Trees) {
		t.Error("same seed gave different trees")
	}
	if b := fit(3, 42); !reflect.DeepEqual(a.Trees, b.Trees) {
		t.Error("the number of threads changed the trees")
	}
	if b := fit(1, 43); reflect.DeepEqual(a.Trees, b.Trees) {
		t.Error("a different seed gave the same trees")
	}
}

func TestGBDTWeightsMatchDuplicatedRows(t *testing.T) {
	// Few enough rows that every value has a bin of its own either way.
	base := synthetic(200, 4, true, 0.05, 4)
	weighted := *base
	weighted.Weights = make([]float64, base.Rows())
	var dup []int
	for i := range weighted.Weights {
		// Weights 1 and 2 scale float32 gradients exactly.
		weighted.Weights[i] = float64(1 + i%2)
		for range 1 + i%2 {
			dup = append(dup, i)
		}
	}
	duplicated := base.Subset(dup)
	p := DefaultGBDTParams()
	p.Rounds, p.MaxBins = 30, 255
	mw := mustFit(t, &weighted, nil, p)
	md := mustFit(t, duplicated, nil, p)
	if math.Abs(mw.BaseScore-md.BaseScore) > 1e-12 {
		t.Errorf("base scores %v and %v differ", mw.BaseScore, md.BaseScore)
	}
	row := make([]float64, len(base.Schema))
	for i := range base.Rows() {
		base.Row(i, row)
		if a, b := mw.Raw(row), md.Raw(row); math.Abs(a-b) > 1e-6 {
			t.Fatalf("row %d: weighted model %v, duplicated-rows model %v", i, a, b)
		}
	}
}

func TestGBDTTreeShape(t *testing.T) {
	d := synthetic(3000, 6, true, 0.1, 5)
	tests := []struct {
		name               string
		maxDepth, maxLeave int
	}{
		{"depth 3", 3, 0},
		{"leaves 5", 0, 5},
		{"depth 4 leaves 7", 4, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultGBDTParams()
			p.Rounds, p.MaxDepth, p.MaxLeaves = 10, tc.maxDepth, tc.maxLeave
			m := mustFit(t, d, nil, p)
			for i, tr := range m.Trees {
				leaves, depth := treeShape(&tr, 0)
				if tc.maxLeave > 0 && leaves > tc.maxLeave || tc.maxDepth > 0 && depth > tc.maxDepth {
					t.Errorf("tree %d has %d leaves and depth %d", i, leaves, depth)
				}
				if tc.maxLeave > 0 && leaves < tc.maxLeave {
					t.Errorf("tree %d has %d leaves, want the full %d on this data", i, leaves, tc.maxLeave)
				}
			}
		})
	}
}

// treeShape returns the number of leaves and the depth below node n.
func treeShape(t *Tree, n int32) (leaves, depth int) {
	if t.Feature[n] < 0 {
		return 1, 0
	}
	ll, ld := treeShape(t, t.Left[n])
	rl, rd := treeShape(t, t.Right[n])
	return ll + rl, 1 + max(ld, rd)
}

func TestGBDTLearnsAndPredicts(t *testing.T) {
	train := synthetic(4000, 8, true, 0.1, 6)
	test := synthetic(2000, 8, true, 0.1, 7)
	p := DefaultGBDTParams()
	p.Rounds, p.LearningRate = 100, 0.1
	m := mustFit(t, train, nil, p)

	z := m.PredictRaw(test, make([]float64, 3))
	row := make([]float64, len(test.Schema))
	var loss, baseLoss float64
	for i, y := range test.Labels {
		if r := m.Raw(test.Row(i, row)); r != z[i] {
			t.Fatalf("row %d: PredictRaw %v, Raw %v", i, z[i], r)
		}
		loss += LogLoss(y, z[i])
		baseLoss += LogLoss(y, m.BaseScore)
	}
	// The label model is strong; the trees must beat the base rate clearly.
	if loss > 0.85*baseLoss {
		t.Errorf("test log loss %v, base rate's %v", loss/2000, baseLoss/2000)
	}
	imp := m.Importance()
	for j := 6; j < 8; j++ {
		// x6 and x7 are noise, x0 the strongest signal.
		if imp[j] >= imp[0] {
			t.Errorf("importance %v: noise feature %d beats x0", imp, j)
		}
	}
}

func TestGBDTJSONRoundTrip(t *testing.T) {
	d := synthetic(1000, 5, true, 0.2, 8)
	p := DefaultGBDTParams()
	p.Rounds = 15
	m := mustFit(t, d, nil, p)
	buf, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back GBDT
	if err := json.Unmarshal(buf, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, &back) {
		t.Error("model changed in a JSON round trip")
	}
	back.Trees[0].Left[0] = 0
	if err := back.Validate(); err == nil {
		t.Error("Validate accepted a node that is its own child")
	}
}

func TestFitGBDTRejectsBadInput(t *testing.T) {
	good := synthetic(50, 2, false, 0, 9)
	with := func(edit func(d *Dataset)) *Dataset {
		d := good.Subset(seq(50))
		edit(d)
		return d
	}
	params := func(edit func(p *GBDTParams)) GBDTParams {
		p := DefaultGBDTParams()
		edit(&p)
		return p
	}
	tests := []struct {
		name         string
		train, valid *Dataset
		p            GBDTParams
	}{
		{"nil train", nil, nil, DefaultGBDTParams()},
		{"no labels", with(func(d *Dataset) { d.Labels = nil }), nil, DefaultGBDTParams()},
		{"NaN label", with(func(d *Dataset) { d.Labels[3] = math.NaN() }), nil, DefaultGBDTParams()},
		{"one class", with(func(d *Dataset) { clear(d.Labels) }), nil, DefaultGBDTParams()},
		{"ragged", with(func(d *Dataset) { d.Columns[1] = d.Columns[1][:10] }), nil, DefaultGBDTParams()},
		{"valid schema", good, with(func(d *Dataset) { d.Schema = Schema{{Name: "a"}, {Name: "b"}} }), DefaultGBDTParams()},
		{"valid no labels", good, with(func(d *Dataset) { d.Labels = nil }), DefaultGBDTParams()},
		{"rounds", good, nil, params(func(p *GBDTParams) { p.Rounds = 0 })},
		{"learning rate", good, nil, params(func(p *GBDTParams) { p.LearningRate = math.NaN() })},
		{"unbounded", good, nil, params(func(p *GBDTParams) { p.MaxDepth = 0 })},
		{"leaves", good, nil, params(func(p *GBDTParams) { p.MaxLeaves = 1 })},
		{"lambda", good, nil, params(func(p *GBDTParams) { p.Lambda = -1 })},
		{"subsample", good, nil, params(func(p *GBDTParams) { p.Subsample = 0 })},
		{"colsample", good, nil, params(func(p *GBDTParams) { p.ColSample = 1.5 })},
		{"bins", good, nil, params(func(p *GBDTParams) { p.MaxBins = 256 })},
		{"threads", good, nil, params(func(p *GBDTParams) { p.Threads = -1 })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := FitGBDT(tc.train, tc.valid, tc.p); err == nil {
				t.Error("FitGBDT succeeded")
			}
		})
	}
	if _, err := FitGBDT(with(func(d *Dataset) { d.Labels = nil }), nil, DefaultGBDTParams()); !errors.Is(err, ErrNoLabels) {
		t.Errorf("unlabelled data: error %v, want ErrNoLabels", err)
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
