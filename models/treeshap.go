package models

// Contributions writes the exact TreeSHAP value of every feature for row
// into dst, which must have len(Schema()) elements or be nil (then it is
// allocated), and returns it. The values satisfy
//
//	ExpectedValue() + Σⱼ dst[j] = Raw(row)
//
// up to rounding. They are the Shapley values of the game whose value for
// a set S of features is the expected raw score when the features in S are
// fixed to row's values and the others are integrated out over each tree's
// training cover (Lundberg, Erion and Lee, 2018, Algorithm 2). Missing
// values and categories follow the same branches as in Raw.
func (m *GBDT) Contributions(row, dst []float64) []float64 {
	if dst == nil {
		dst = make([]float64, len(m.Features))
	} else {
		clear(dst)
	}
	s := treeShap{row: row, phi: dst}
	for i := range m.Trees {
		s.t = &m.Trees[i]
		s.recurse(0, 0, 0, 1, 1, -1)
	}
	return dst
}

// pathElem is an element of the path of unique features from the root to
// the current node, with the fractions of the "off" (zero) and "on" (one)
// paths flowing through it and the weight of subsets of its size.
type pathElem struct {
	feature   int32
	zero, one float64
	weight    float64
}

// treeShap holds the state of Contributions for one tree. The paths of
// all recursion levels live in one buffer: a level's path starts right
// after its parent's.
type treeShap struct {
	t    *Tree
	row  []float64
	phi  []float64
	path []pathElem
}

// recurse visits node n, whose parent's path of depth+1 elements starts at
// path[parent], extending it by the parent's split feature with the given
// zero and one fractions.
func (s *treeShap) recurse(n int32, parent, depth int, zero, one float64, feature int32) {
	start := parent + depth + 1
	if need := start + depth + 1; len(s.path) < need {
		s.path = append(s.path, make([]pathElem, need-len(s.path))...)
	}
	copy(s.path[start:start+depth], s.path[parent:parent+depth])
	path := s.path[start : start+depth+1]
	extendPath(path, depth, zero, one, feature)

	t := s.t
	f := t.Feature[n]
	if f < 0 {
		for i := 1; i <= depth; i++ {
			w := unwoundPathSum(path, depth, i)
			e := &path[i]
			s.phi[e.feature] += w * (e.one - e.zero) * t.Value[n]
		}
		return
	}
	hot := t.next(n, s.row[f])
	cold := t.Left[n]
	if hot == cold {
		cold = t.Right[n]
	}
	inZero, inOne := 1.0, 1.0
	// A feature met again on the path is merged with its first occurrence.
	for i := 1; i <= depth; i++ {
		if path[i].feature == f {
			inZero, inOne = path[i].zero, path[i].one
			unwindPath(path, depth, i)
			depth--
			break
		}
	}
	cover := t.Cover[n]
	s.recurse(hot, start, depth+1, t.Cover[hot]/cover*inZero, inOne, f)
	s.recurse(cold, start, depth+1, t.Cover[cold]/cover*inZero, 0, f)
}

// extendPath appends a feature with the given fractions to path[:depth]
// and updates the subset weights.
func extendPath(path []pathElem, depth int, zero, one float64, feature int32) {
	w := 0.0
	if depth == 0 {
		w = 1
	}
	path[depth] = pathElem{feature: feature, zero: zero, one: one, weight: w}
	d1 := float64(depth + 1)
	for i := depth - 1; i >= 0; i-- {
		path[i+1].weight += one * path[i].weight * float64(i+1) / d1
		path[i].weight = zero * path[i].weight * float64(depth-i) / d1
	}
}

// unwindPath undoes extendPath for element i of path[:depth+1].
func unwindPath(path []pathElem, depth, i int) {
	one, zero := path[i].one, path[i].zero
	next := path[depth].weight
	d1 := float64(depth + 1)
	for k := depth - 1; k >= 0; k-- {
		if one != 0 {
			w := path[k].weight
			path[k].weight = next * d1 / (float64(k+1) * one)
			next = w - path[k].weight*zero*float64(depth-k)/d1
		} else {
			path[k].weight = path[k].weight * d1 / (zero * float64(depth-k))
		}
	}
	for k := i; k < depth; k++ {
		path[k].feature, path[k].zero, path[k].one = path[k+1].feature, path[k+1].zero, path[k+1].one
	}
}

// unwoundPathSum returns the total subset weight path[:depth+1] would
// have without element i, without modifying it.
func unwoundPathSum(path []pathElem, depth, i int) float64 {
	one, zero := path[i].one, path[i].zero
	next := path[depth].weight
	d1 := float64(depth + 1)
	total := 0.0
	for k := depth - 1; k >= 0; k-- {
		if one != 0 {
			w := next * d1 / (float64(k+1) * one)
			total += w
			next = path[k].weight - w*zero*float64(depth-k)/d1
		} else if zero != 0 {
			total += path[k].weight / zero * d1 / float64(depth-k)
		}
	}
	return total
}
