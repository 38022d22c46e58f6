package models

import (
	"math"
	"slices"
)

// Contributions writes the exact TreeSHAP value of every feature for row
// into dst, which must have len(Schema()) elements or be nil (then it is
// allocated), and returns it. The values satisfy
//
//	ExpectedValue() + Σⱼ dst[j] = Raw(row)
//
// up to rounding. They are the Shapley values of the game whose value for
// a set S of features is the expected raw score when the features in S are
// fixed to row's values and the others are integrated out over each tree's
// training cover (Lundberg, Erion and Lee, 2018). Missing values and
// categories follow the same branches as in Raw.
//
// A tree with at most 8 distinct features on a path costs O(nodes) (see
// shapQuadrature), against O(leaves × d²) for Algorithm 2 of the paper
// with d distinct features on a path, which explains the other trees.
// The first call notes the trees' paths, so the trees must not change
// afterwards.
func (m *GBDT) Contributions(row, dst []float64) []float64 {
	if dst == nil {
		dst = make([]float64, len(m.Features))
	} else {
		clear(dst)
	}
	trees := m.shap.Load()
	if trees == nil {
		trees = quadTrees(m.Trees)
		if !m.shap.CompareAndSwap(nil, trees) {
			trees = m.shap.Load()
		}
	}
	q := shapQuadrature{row: row, phi: dst}
	s := treeShap{row: row, phi: dst}
	for i := range m.Trees {
		t := &m.Trees[i]
		if pos := (*trees)[i]; pos != nil {
			q.t, q.q = t, pos
			q.visit(0, quad{1, 1, 1, 1})
			continue
		}
		s.t = t
		s.recurse(0, 0, 0, 1, 1, -1)
	}
	return dst
}

// A leaf with value v, on whose path the d distinct features j have
// cover fractions zⱼ (the product over their splits on the path) and
// oⱼ = 1 when every split on j sends the row towards the leaf, else 0,
// adds to φᵢ
//
//	v·(oᵢ−zᵢ)·Σ_{S⊆U∖{i}} |S|!(d−|S|−1)!/d! · Πⱼ∈S oⱼ · Πⱼ∈U∖S∖{i} zⱼ
//	  = v·(oᵢ−zᵢ)·∫₀¹ Πⱼ≠ᵢ fⱼ(t) dt,  fⱼ(t) = zⱼ(1−t) + oⱼt,
//
// since ∫₀¹ t^s (1−t)^(d−1−s) dt = s!(d−1−s)!/d!. The integrand is a
// polynomial of degree d−1 < 8, so Gauss–Legendre quadrature on 4 nodes
// gives it exactly. Let R(t) be the product of every fⱼ(t) on the path;
// the leaves below the edge of a split on feature i that split on i no
// further then add (oᵢ−zᵢ)·Σ_q w_q·Σ_ℓ v_ℓ R_ℓ(t_q)/fᵢ(t_q) to φᵢ, which
// a walk that carries R down and sums v·R up computes in O(1) a node
// (the approach of Linear TreeSHAP, Yu et al., 2022, with quadrature in
// place of its polynomial arithmetic).

// quad holds a value at each quadrature node.
type quad [4]float64

// The Gauss–Legendre rule of 4 nodes on [0, 1], exact for polynomials of
// degree up to 7.
var quadNodes, quadWeights = gaussLegendre(4)

// maxQuadFeatures is the most distinct features on a path of a tree
// explained by quadrature.
const maxQuadFeatures = 8

// quadTree is what the walk needs of a tree explained by quadrature, one
// quadNode per node.
type quadTree []quadNode

// quadNode holds what the walk needs at a node that does not depend on
// the row explained. At an internal node, pos is the position of its
// split feature among the distinct features of the path from the root to
// it, in order of first split, with quadFirst set at the feature's first
// split on the path, and numeric says the split compares a threshold. As
// the child of a split on feature i, with z its cover fraction for i and
// fᵢ(t) = z(1−t) + oᵢt, the other fields are, at each quadrature node,
// the factors that turn R at the parent into R at the node, and the
// weights that turn the node's Σ v·R/… into its part of φᵢ:
//
//	hot   fᵢ/f′ᵢ with oᵢ = 1, where f′ᵢ is the factor of the feature's
//	      previous split on the path (1 for none), with o′ᵢ = 1
//	cold  fᵢ/f′ᵢ with oᵢ = 0 and o′ᵢ = 1
//	again fᵢ/f′ᵢ with oᵢ = o′ᵢ = 0, which is z/z′
//	coefHot (1−z)·w_q/fᵢ(t_q) with oᵢ = 1 (see quadCoefCold for oᵢ = 0)
//
// Precomputed once per tree, they leave the walk no division.
type quadNode struct {
	pos       uint8
	numeric   bool
	again     float64
	hot, cold quad
	coefHot   quad
}

const quadFirst = 0x80

// shapQuadrature explains trees by quadrature.
type shapQuadrature struct {
	t    *Tree
	q    quadTree
	row  []float64
	phi  []float64
	path [maxQuadFeatures]quadStep
}

// quadStep is a distinct feature on the path to the visited node: whether
// every split on it so far sends the row towards the node, and the sum of
// v·R over the leaves below its splits further down than the visited
// node's nearest one.
type quadStep struct {
	o      bool
	deeper quad
}

// visit returns Σ v·R over the leaves below the internal node n, R being
// r at n, and adds the parts of the splits below n to phi. A leaf child
// is summed on the spot, which spares half the calls.
func (s *shapQuadrature) visit(n int32, r quad) quad {
	t := s.t
	f := t.Feature[n]
	qn := &s.q[n]
	p, first := qn.pos&^quadFirst, qn.pos&quadFirst != 0
	e := &s.path[p]
	o0, deeper := true, quad{}
	if !first {
		o0, deeper = e.o, e.deeper
	}
	var hot int32
	switch x := s.row[f]; {
	case !qn.numeric:
		hot = t.next(n, x)
	case x < t.Threshold[n]:
		hot = t.Left[n]
	case x != x && t.DefaultLeft[n]:
		hot = t.Left[n]
	default:
		hot = t.Right[n]
	}
	var sum quad
	for _, c := range [2]int32{t.Left[n], t.Right[n]} {
		qc := &s.q[c]
		o := o0 && c == hot
		var rc quad
		coef := &quadCoefCold
		switch {
		case o:
			rc, coef = quad{r[0] * qc.hot[0], r[1] * qc.hot[1], r[2] * qc.hot[2], r[3] * qc.hot[3]}, &qc.coefHot
		case o0:
			rc = quad{r[0] * qc.cold[0], r[1] * qc.cold[1], r[2] * qc.cold[2], r[3] * qc.cold[3]}
		default:
			a := qc.again
			rc = quad{r[0] * a, r[1] * a, r[2] * a, r[3] * a}
		}
		var below, part quad
		if t.Feature[c] < 0 {
			v := t.Value[c]
			below = quad{v * rc[0], v * rc[1], v * rc[2], v * rc[3]}
			part = below
		} else {
			e.o, e.deeper = o, quad{}
			below = s.visit(c, rc)
			part = quad{below[0] - e.deeper[0], below[1] - e.deeper[1], below[2] - e.deeper[2], below[3] - e.deeper[3]}
		}
		s.phi[f] += coef[0]*part[0] + coef[1]*part[1] + coef[2]*part[2] + coef[3]*part[3]
		sum = quad{sum[0] + below[0], sum[1] + below[1], sum[2] + below[2], sum[3] + below[3]}
	}
	if !first {
		e.o = o0
		e.deeper = quad{deeper[0] + sum[0], deeper[1] + sum[1], deeper[2] + sum[2], deeper[3] + sum[3]}
	}
	return sum
}

// quadCoefCold is (oᵢ−z)·w_q/fᵢ(t_q) = −w_q/(1−t_q) with oᵢ = 0, the same
// at every split.
var quadCoefCold = func() (c quad) {
	for k, x := range quadNodes {
		c[k] = -quadWeights[k] / (1 - x)
	}
	return c
}()

// minQuadCover bounds below the product of the cover fractions of a
// path's distinct features in trees explained by quadrature, so that R
// (a product of at most 8 such fractions and 8 factors of at least
// 0.069, the smallest node's distance to 0 or 1) stays far from
// underflow. A NaN fraction, of a node without cover, fails it too.
var minQuadCover = math.Ldexp(1, -400)

// gaussLegendre returns the nodes and weights of the Gauss–Legendre rule
// of len(quad) nodes on [0, 1], found by Newton's method on the Legendre
// polynomial Pₙ from the usual initial guesses.
func gaussLegendre(n int) (nodes, weights quad) {
	for i := range n {
		x := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(n) + 0.5))
		var dp float64
		for range 100 {
			p0, p1 := 1.0, x
			for k := 2; k <= n; k++ {
				p0, p1 = p1, (float64(2*k-1)*x*p1-float64(k-1)*p0)/float64(k)
			}
			dp = float64(n) * (x*p1 - p0) / (x*x - 1)
			dx := p1 / dp
			x -= dx
			if math.Abs(dx) < 1e-16 {
				break
			}
		}
		// From [−1, 1] to [0, 1].
		nodes[i], weights[i] = (1-x)/2, 1/((1-x*x)*dp*dp)
	}
	return nodes, weights
}

// quadTrees returns, for every tree, its quadTree, or nil for the trees
// Algorithm 2 explains: single leaves, and those with paths of more than
// maxQuadFeatures distinct features or smaller cover than minQuadCover.
func quadTrees(trees []Tree) *[]quadTree {
	out := make([]quadTree, len(trees))
	var path []shapStep
	for i := range trees {
		t := &trees[i]
		q, ok := make(quadTree, len(t.Feature)), t.Feature[0] >= 0
		var walk func(n int32)
		walk = func(n int32) {
			f := t.Feature[n]
			if f < 0 {
				cover := 1.0
				for _, s := range path {
					cover *= s.z
				}
				ok = ok && cover >= minQuadCover
				return
			}
			depth := len(path)
			p := slices.IndexFunc(path, func(s shapStep) bool { return s.feature == f })
			first := p < 0
			if first {
				if p = depth; p == maxQuadFeatures {
					ok = false
					return
				}
				path = append(path, shapStep{feature: f, z: 1})
				q[n].pos = quadFirst
			}
			q[n].pos |= uint8(p)
			q[n].numeric = t.CatStart == nil || t.CatStart[n] == t.CatStart[n+1]
			z0 := path[p].z
			for _, c := range [2]int32{t.Left[n], t.Right[n]} {
				if !ok {
					return
				}
				// The product in Algorithm 2's order, so z is the same float.
				z := t.Cover[c] / t.Cover[n] * z0
				qc := &q[c]
				qc.again = z / z0
				for k, x := range quadNodes {
					prev := 1.0 // f′ with o′ = 1; 1 at the feature's first split
					if !first {
						prev = z0*(1-x) + x
					}
					hot, cold := z*(1-x)+x, z*(1-x)
					qc.hot[k], qc.cold[k] = hot/prev, cold/prev
					qc.coefHot[k] = (1 - z) * quadWeights[k] / hot
				}
				path[p].z = z
				walk(c)
			}
			path[p].z = z0
			path = path[:depth]
		}
		walk(0)
		if ok {
			out[i] = q
		}
	}
	return &out
}

// shapStep is a distinct feature on a path and the product z of the
// cover fractions of its splits.
type shapStep struct {
	feature int32
	z       float64
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
