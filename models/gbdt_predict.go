package models

import (
	"errors"
	"fmt"
	"math"
)

// Tree is one regression tree of a GBDT, flattened into parallel arrays
// indexed by node. Node 0 is the root, and children have larger indices
// than their parents.
//
// An internal node n sends a row with value x of feature Feature[n] to
// Left[n] or Right[n]:
//   - a missing value (NaN) goes left if DefaultLeft[n];
//   - on a numeric feature, x goes left if x < Threshold[n];
//   - on a categorical feature, a code in the node's category set goes to
//     the side missing values do not take, and every other code, including
//     codes unseen in training, goes with missing values.
type Tree struct {
	// Feature is the split feature of each internal node and -1 at leaves.
	Feature []int32 `json:"feature"`
	// Threshold is the split value of numeric nodes and 0 elsewhere.
	Threshold []float64 `json:"threshold"`
	// Left and Right are the children of internal nodes and -1 at leaves.
	Left  []int32 `json:"left"`
	Right []int32 `json:"right"`
	// DefaultLeft says where missing values go.
	DefaultLeft []bool `json:"default_left"`
	// Value is the leaf value, learning rate included, and 0 at internal
	// nodes.
	Value []float64 `json:"value"`
	// Cover is the training hessian sum of the rows reaching each node; an
	// internal node's cover is the sum of its children's.
	Cover []float64 `json:"cover"`
	// Gain is the split gain of each internal node and 0 at leaves.
	Gain []float64 `json:"gain"`
	// CatStart and CatBits hold the category sets: node n's set is the
	// bitset CatBits[CatStart[n]:CatStart[n+1]], code c being bit c%32 of
	// word c/32. The range is empty for all but categorical nodes.
	// CatStart has one element per node plus one, and both are nil in a
	// tree without categorical splits.
	CatStart []int32  `json:"cat_start,omitempty"`
	CatBits  []uint32 `json:"cat_bits,omitempty"`
}

// next returns the child of internal node n that value x goes to.
func (t *Tree) next(n int32, x float64) int32 {
	var left bool
	switch {
	case x != x:
		left = t.DefaultLeft[n]
	case t.CatStart != nil && t.CatStart[n] < t.CatStart[n+1]:
		set := t.CatBits[t.CatStart[n]:t.CatStart[n+1]]
		c := uint(int(x))
		in := c/32 < uint(len(set)) && set[c/32]>>(c%32)&1 == 1
		left = t.DefaultLeft[n] != in
	default:
		left = x < t.Threshold[n]
	}
	if left {
		return t.Left[n]
	}
	return t.Right[n]
}

// leaf returns the leaf that row reaches.
func (t *Tree) leaf(row []float64) int32 {
	n := int32(0)
	for f := t.Feature[0]; f >= 0; f = t.Feature[n] {
		n = t.next(n, row[f])
	}
	return n
}

// expected returns the cover-weighted mean of the leaf values below node n.
func (t *Tree) expected(n int32) float64 {
	if t.Feature[n] < 0 {
		return t.Value[n]
	}
	l, r := t.Left[n], t.Right[n]
	return (t.Cover[l]*t.expected(l) + t.Cover[r]*t.expected(r)) / t.Cover[n]
}

// Raw returns the log-odds the model gives row, which must have
// len(Schema()) values and pass Schema().CheckRow.
func (m *GBDT) Raw(row []float64) float64 {
	z := m.BaseScore
	for i := range m.Trees {
		t := &m.Trees[i]
		z += t.Value[t.leaf(row)]
	}
	return z
}

// PredictRaw writes the log-odds of every row of d into dst, which is
// reused if it has room for d.Rows() values, and returns it resized to
// d.Rows(). Rows are scored in parallel on Params.Threads goroutines. d must
// have the model's schema (Schema().Equal(d.Schema)) and valid category
// codes.
func (m *GBDT) PredictRaw(d *Dataset, dst []float64) []float64 {
	n := d.Rows()
	if cap(dst) < n {
		dst = make([]float64, n)
	}
	dst = dst[:n]
	for i := range dst {
		dst[i] = m.BaseScore
	}
	addTreeScores(dst, d.Columns, m.Trees, m.Params.threads())
	return dst
}

// predictBlock is the number of rows scored together: their values are
// copied into a row-major buffer that stays in L1 while every tree walks
// them level by level.
const predictBlock = 64

// addTreeScores adds the values of trees for every row of the column-major
// data cols to dst.
func addTreeScores(dst []float64, cols [][]float64, trees []Tree, threads int) {
	f := flatten(trees)
	nf := len(cols)
	blocks := (len(dst) + predictBlock - 1) / predictBlock
	gbdtParallel(threads, blocks, func(_, lo, hi int) {
		buf := make([]float64, predictBlock*max(nf, 1))
		var at [predictBlock]int32
		for blk := lo; blk < hi; blk++ {
			start := blk * predictBlock
			rows := min(predictBlock, len(dst)-start)
			for j, col := range cols {
				for r, x := range col[start : start+rows] {
					buf[r*nf+j] = x
				}
			}
			out := dst[start : start+rows]
			for t, root := range f.roots {
				at := at[:rows]
				for r := range at {
					at[r] = root
				}
				// Walking all rows one level at a time gives the processor
				// independent work to overlap; leaves loop onto themselves.
				for range f.depth[t] {
					f.step(at, buf, nf)
				}
				for r, n := range at {
					out[r] += f.value[n]
				}
			}
		}
	})
}

// flatForest holds trees for fast scoring of many rows. All nodes share
// one set of arrays, numbered so that the children of a node are adjacent:
// a step goes to child[n] if the row goes left and child[n]+1 otherwise,
// which compiles without a branch. Leaves are nodes that send every row
// back to themselves, so a walk can take a fixed number of steps without
// testing for leaves.
type flatForest struct {
	// feature is the split feature, or ^feature for a categorical split.
	feature     []int32
	threshold   []float64
	defaultLeft []bool
	child       []int32
	value       []float64
	// tree and local locate the original node, for categorical splits.
	tree, local []int32
	trees       []Tree
	roots       []int32
	depth       []int
}

func flatten(trees []Tree) *flatForest {
	total := 0
	for i := range trees {
		total += len(trees[i].Feature)
	}
	f := &flatForest{
		feature:     make([]int32, total),
		threshold:   make([]float64, total),
		defaultLeft: make([]bool, total),
		child:       make([]int32, total),
		value:       make([]float64, total),
		tree:        make([]int32, total),
		local:       make([]int32, total),
		trees:       trees,
	}
	order := make([]int32, 0, total)
	off := int32(0)
	for i := range trees {
		t := &trees[i]
		f.roots = append(f.roots, off)
		f.depth = append(f.depth, t.depth(0))
		// Breadth-first order numbers the two children of a node in a row.
		order = append(order[:0], 0)
		for k := 0; k < len(order); k++ {
			n, at := order[k], off+int32(k)
			f.tree[at], f.local[at], f.value[at] = int32(i), n, t.Value[n]
			feat := t.Feature[n]
			if feat < 0 {
				// x < +Inf for every number, and NaN defaults left: either
				// way a row stays at the leaf.
				f.threshold[at], f.defaultLeft[at], f.child[at] = math.Inf(1), true, at
				continue
			}
			if t.CatStart != nil && t.CatStart[n] < t.CatStart[n+1] {
				feat = ^feat
			}
			f.feature[at], f.threshold[at], f.defaultLeft[at] = feat, t.Threshold[n], t.DefaultLeft[n]
			f.child[at] = off + int32(len(order))
			order = append(order, t.Left[n], t.Right[n])
		}
		off += int32(len(order))
	}
	return f
}

// step moves every row r of the row-major block buf, with nf values a
// row, from node at[r] one level down.
func (f *flatForest) step(at []int32, buf []float64, nf int) {
	for r, n := range at {
		feat := f.feature[n]
		var left bool
		if feat < 0 {
			left = f.categoricalLeft(n, buf[r*nf+int(^feat)])
		} else {
			x := buf[r*nf+int(feat)]
			left = x < f.threshold[n]
			if x != x {
				left = f.defaultLeft[n]
			}
		}
		var right int32
		if !left {
			right = 1
		}
		at[r] = f.child[n] + right
	}
}

// categoricalLeft reports whether the categorical split at node n sends x
// left, deferring to the tree the node came from.
func (f *flatForest) categoricalLeft(n int32, x float64) bool {
	t, l := &f.trees[f.tree[n]], f.local[n]
	return t.next(l, x) == t.Left[l]
}

// depth returns the depth of the subtree below node n.
func (t *Tree) depth(n int32) int {
	if t.Feature[n] < 0 {
		return 0
	}
	return 1 + max(t.depth(t.Left[n]), t.depth(t.Right[n]))
}

// Validate checks that the model is well formed, as a model decoded from
// JSON may not be: that every tree's arrays agree in length, that children
// come after their parents and split features exist, and that leaf values
// and covers are finite. A model that passes can score rows without
// panicking.
func (m *GBDT) Validate() error {
	if math.IsNaN(m.BaseScore) || math.IsInf(m.BaseScore, 0) {
		return errors.New("models: gbdt base score is not finite")
	}
	for i := range m.Trees {
		if err := m.Trees[i].validate(len(m.Features)); err != nil {
			return fmt.Errorf("models: gbdt tree %d: %w", i, err)
		}
	}
	return nil
}

func (t *Tree) validate(features int) error {
	nn := len(t.Feature)
	if nn == 0 {
		return errors.New("no nodes")
	}
	for _, l := range [...]int{len(t.Threshold), len(t.Left), len(t.Right), len(t.DefaultLeft), len(t.Value), len(t.Cover), len(t.Gain)} {
		if l != nn {
			return fmt.Errorf("array of %d elements for %d nodes", l, nn)
		}
	}
	if t.CatStart != nil && len(t.CatStart) != nn+1 {
		return fmt.Errorf("%d category set offsets for %d nodes", len(t.CatStart), nn)
	}
	for n := range nn {
		if !(t.Cover[n] >= 0) || math.IsInf(t.Cover[n], 0) || math.IsNaN(t.Value[n]) || math.IsInf(t.Value[n], 0) {
			return fmt.Errorf("node %d: cover %v or value %v out of range", n, t.Cover[n], t.Value[n])
		}
		if t.CatStart != nil && (t.CatStart[n] < 0 || t.CatStart[n] > t.CatStart[n+1] || int(t.CatStart[n+1]) > len(t.CatBits)) {
			return fmt.Errorf("node %d: bad category set offsets", n)
		}
		f := t.Feature[n]
		if f < 0 {
			continue
		}
		if int(f) >= features {
			return fmt.Errorf("node %d splits on feature %d of %d", n, f, features)
		}
		if l, r := int(t.Left[n]), int(t.Right[n]); l <= n || r <= n || l >= nn || r >= nn {
			return fmt.Errorf("node %d has children %d and %d", n, l, r)
		}
		if t.Cover[n] == 0 {
			return fmt.Errorf("internal node %d has no cover", n)
		}
	}
	return nil
}
