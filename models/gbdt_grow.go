package models

import (
	"math/rand/v2"
	"slices"
)

const (
	// parallelNodeRows is the least number of rows for which a node's
	// histograms are built by several goroutines; below it the start-up
	// cost outweighs the work.
	parallelNodeRows = 2048
)

// booster holds the state of a fit between rounds: the binned training
// data, the running raw scores and scratch space allocated once.
type booster struct {
	p       GBDTParams
	threads int
	kinds   []Kind
	bins    []featureBins
	// cols is the binned training table by column, for partitioning nodes
	// on one feature; groups is the same table grouped (see groupColumns),
	// for building histograms.
	cols    [][]uint8
	groups  [][]uint32
	labels  []float64
	weights []float64
	score   []float64
	// usable lists the features with at least two bins, which can split.
	usable []int
	// feats lists the features the current tree may split on, ascending.
	// They fall in the groups featGroups, ascending, and the features of
	// featGroups[k] are feats[groupStart[k]:groupStart[k+1]].
	feats                  []int
	featGroups, groupStart []int
	// bag and oob list the rows in and out of the current tree's sample
	// when rows are subsampled.
	bag, oob []int32
	// ents[:m] holds the m rows of the current tree's sample; scratch is
	// as long and holds right-hand rows while a node is partitioned.
	ents, scratch []gradEntry
	// lefts counts the left rows of each chunk of a parallel partition.
	lefts []int
	nodes []growNode
	// open lists the nodes with a split worth making, by index in nodes.
	open []int
	// free holds histograms for reuse.
	free []histogram
	// finders and bests belong to the goroutines building histograms: a
	// split finder each, and the best splits each found for the node built
	// and the node derived (bests[2k] and bests[2k+1]).
	finders []splitFinder
	bests   []split
}

// growNode is a node of the tree being grown. Node 0 is the root and
// children come after their parents.
type growNode struct {
	// lo and hi delimit the node's rows in booster.ents.
	lo, hi int
	// g and h are the node's gradient and hessian sums.
	g, h  float64
	depth int
	// hist is the node's histogram while it may still be split.
	hist  histogram
	split split
	// left and right are the children, -1 at leaves.
	left, right int
	// goLeft tells, for each bin of the split feature, where the split
	// sends it.
	goLeft [256]bool
}

func newBooster(d *Dataset, p GBDTParams, base float64) *booster {
	threads := p.threads()
	b := &booster{
		p:       p,
		threads: threads,
		kinds:   make([]Kind, len(d.Schema)),
		labels:  d.Labels,
		weights: d.Weights,
		score:   make([]float64, d.Rows()),
		ents:    make([]gradEntry, d.Rows()),
		scratch: make([]gradEntry, d.Rows()),
		finders: make([]splitFinder, threads),
		bests:   make([]split, 2*threads),
		lefts:   make([]int, threads),
	}
	b.bins, b.cols = binDataset(d, p.MaxBins, p.Seed, threads)
	b.groups = groupColumns(b.cols, d.Rows(), threads)
	for j, f := range d.Schema {
		b.kinds[j] = f.Kind
		if b.bins[j].n >= 2 {
			b.usable = append(b.usable, j)
		}
	}
	for i := range b.score {
		b.score[i] = base
	}
	for i := range b.finders {
		b.finders[i] = newSplitFinder(p)
	}
	return b
}

// boost grows the tree of the given round, adds it to the running scores
// and returns it.
func (b *booster) boost(round int) Tree {
	rng := gbdtRand(b.p.Seed, uint64(round)+1)
	b.sampleFeatures(rng)
	m := b.gradients(rng)

	root := growNode{hi: m, left: -1, right: -1}
	for _, e := range b.ents[:m] {
		root.g += float64(e.G)
		root.h += float64(e.H)
	}
	b.nodes = append(b.nodes[:0], root)
	b.open = b.open[:0]
	if b.splittable(0) {
		b.nodes[0].hist = b.takeHist()
		b.histograms(0, -1)
		b.settle(0)
	}
	for leaves := 1; len(b.open) > 0 && (b.p.MaxLeaves == 0 || leaves < b.p.MaxLeaves); leaves++ {
		k := 0
		for i, id := range b.open {
			if b.nodes[id].split.gain > b.nodes[b.open[k]].split.gain {
				k = i
			}
		}
		id := b.open[k]
		b.open = slices.Delete(b.open, k, k+1)
		b.splitNode(id)
	}
	for _, id := range b.open {
		b.free = append(b.free, b.nodes[id].hist)
		b.nodes[id].hist = nil
	}
	t := b.tree()
	b.updateScores(&t)
	return t
}

// sampleFeatures chooses the features of the current tree.
func (b *booster) sampleFeatures(rng *rand.Rand) {
	b.feats = append(b.feats[:0], b.usable...)
	if b.p.ColSample < 1 && len(b.feats) > 0 {
		k := max(1, int(b.p.ColSample*float64(len(b.feats))))
		for i := range k {
			j := i + rng.IntN(len(b.feats)-i)
			b.feats[i], b.feats[j] = b.feats[j], b.feats[i]
		}
		b.feats = b.feats[:k]
		slices.Sort(b.feats)
	}
	b.featGroups, b.groupStart = b.featGroups[:0], b.groupStart[:0]
	for i, j := range b.feats {
		if k := j / groupWidth; len(b.featGroups) == 0 || b.featGroups[len(b.featGroups)-1] != k {
			b.featGroups = append(b.featGroups, k)
			b.groupStart = append(b.groupStart, i)
		}
	}
	b.groupStart = append(b.groupStart, len(b.feats))
}

// gradients draws the current tree's rows, fills b.ents with their
// gradients and hessians of the log loss, and returns how many there are.
func (b *booster) gradients(rng *rand.Rand) int {
	n := len(b.score)
	if b.p.Subsample >= 1 {
		gbdtParallel(b.threads, n, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				b.ents[i] = b.entry(int32(i))
			}
		})
		return n
	}
	b.bag, b.oob = b.bag[:0], b.oob[:0]
	for i := range n {
		if rng.Float64() < b.p.Subsample {
			b.bag = append(b.bag, int32(i))
		} else {
			b.oob = append(b.oob, int32(i))
		}
	}
	if len(b.bag) == 0 {
		// A tree needs a row; tiny data and a small Subsample can leave none.
		b.bag = append(b.bag, b.oob[len(b.oob)-1])
		b.oob = b.oob[:len(b.oob)-1]
	}
	gbdtParallel(b.threads, len(b.bag), func(_, lo, hi int) {
		for k := lo; k < hi; k++ {
			b.ents[k] = b.entry(b.bag[k])
		}
	})
	return len(b.bag)
}

// entry returns row i with the gradient and hessian of its weighted log
// loss at the current score: w·(p−y) and w·p·(1−p).
func (b *booster) entry(i int32) gradEntry {
	g, h := LogLossDerivatives(b.labels[i], b.score[i])
	w := 1.0
	if b.weights != nil {
		w = b.weights[i]
	}
	// XGBoost's floor on the hessian keeps confident rows from dividing by
	// zero in leaf values.
	return gradEntry{Row: i, G: float32(g * w), H: float32(max(h, 1e-16) * w)}
}

// splittable reports whether node id may be split at all.
func (b *booster) splittable(id int) bool {
	n := &b.nodes[id]
	return (b.p.MaxDepth == 0 || n.depth < b.p.MaxDepth) &&
		n.hi-n.lo >= 2 && n.h >= 2*b.p.MinChildWeight && len(b.feats) > 0
}

// settle queues node id for splitting if it has a split worth making and
// otherwise frees its histogram.
func (b *booster) settle(id int) {
	n := &b.nodes[id]
	if n.split.feature >= 0 && b.splittable(id) {
		b.open = append(b.open, id)
		return
	}
	b.free = append(b.free, n.hist)
	n.hist = nil
}

func (b *booster) takeHist() histogram {
	if k := len(b.free); k > 0 {
		h := b.free[k-1]
		b.free = b.free[:k-1]
		return h
	}
	return make(histogram, groupWidth*len(b.groups))
}

// splitNode makes the chosen split of node id and prepares its children.
// Only the child with fewer rows gets its histogram built from rows; the
// other's is its parent's minus its sibling's, computed in place in the
// parent's histogram.
func (b *booster) splitNode(id int) {
	n := &b.nodes[id]
	s := &n.split
	s.goesLeft(b.kinds[s.feature], &n.goLeft)
	mid := n.lo + b.partition(b.ents[n.lo:n.hi], b.cols[s.feature], &n.goLeft)
	l := growNode{lo: n.lo, hi: mid, g: s.gl, h: s.hl, depth: n.depth + 1, left: -1, right: -1}
	r := growNode{lo: mid, hi: n.hi, g: n.g - s.gl, h: n.h - s.hl, depth: n.depth + 1, left: -1, right: -1}
	parent := n.hist
	n.hist = nil
	n.left, n.right = len(b.nodes), len(b.nodes)+1
	small, large := n.left, n.right
	if r.hi-r.lo < l.hi-l.lo {
		small, large = large, small
	}
	b.nodes = append(b.nodes, l, r)

	switch {
	case b.splittable(large):
		b.nodes[small].hist = b.takeHist()
		b.nodes[large].hist = parent
		b.histograms(small, large)
		b.settle(small)
		b.settle(large)
	case b.splittable(small):
		b.free = append(b.free, parent)
		b.nodes[small].hist = b.takeHist()
		b.histograms(small, -1)
		b.settle(small)
	default:
		b.free = append(b.free, parent)
	}
}

// partition reorders ents so that the rows the split sends left come
// first, keeping both sides in their order, and returns how many go left.
// Large nodes are split into chunks partitioned in parallel and then
// stitched together.
func (b *booster) partition(ents []gradEntry, col []uint8, goLeft *[256]bool) int {
	scratch := b.scratch[:len(ents)]
	parts := 1
	if len(ents) >= 8*parallelNodeRows {
		parts = b.threads
	}
	lefts := b.lefts[:parts]
	gbdtParallel(parts, len(ents), func(part, lo, hi int) {
		lefts[part] = partitionRun(ents[lo:hi], scratch[lo:hi], col, goLeft)
	})
	// Chunk k's lefts are at the front of its range and its rights at the
	// front of its range of scratch. Moving lefts only ever moves them
	// towards the front, so chunk by chunk never overwrites unread rows.
	nl := 0
	for part, l := range lefts {
		lo := part * len(ents) / parts
		nl += copy(ents[nl:], ents[lo:lo+l])
	}
	at := nl
	for part, l := range lefts {
		lo, hi := part*len(ents)/parts, (part+1)*len(ents)/parts
		at += copy(ents[at:], scratch[lo:lo+hi-lo-l])
	}
	return nl
}

// partitionRun moves the entries going left to the front of ents and the
// others to the front of scratch, both in order, and returns how many went
// left. Every entry is written to both places and only the count of its
// side advances, so the loop has no branch to mispredict on rows that go
// either way at random. Writing ents[nl] never overwrites an unread entry
// because nl never passes the entry being read.
func partitionRun(ents, scratch []gradEntry, col []uint8, goLeft *[256]bool) int {
	nl, nr := 0, 0
	for _, e := range ents {
		left := 0
		if goLeft[col[e.Row]] {
			left = 1
		}
		ents[nl] = e
		scratch[nr] = e
		nl += left
		nr += 1 - left
	}
	return nl
}

// histograms builds the histogram of node built from its rows and, if
// derived ≥ 0, turns the histogram held by node derived (its parent's) into
// derived's own by subtracting built's. It then finds the best split of
// each node that may split. Groups of features are shared out among
// goroutines, each doing all three steps for its features. A group's
// histograms are built for all its features, sampled for the tree or not.
func (b *booster) histograms(built, derived int) {
	bn := &b.nodes[built]
	ents := b.ents[bn.lo:bn.hi]
	searchBuilt := b.splittable(built)
	var dn *growNode
	if derived >= 0 {
		dn = &b.nodes[derived]
	}
	workers := 1
	if len(ents) >= parallelNodeRows {
		workers = min(b.threads, len(b.featGroups))
	}
	gbdtParallel(workers, len(b.featGroups), func(part, lo, hi int) {
		groups := b.featGroups[lo:hi]
		for _, k := range groups {
			clear(bn.hist.group(k)[:])
		}
		// Two groups a pass read the node's entries half as often.
		for ; len(groups) >= 2; groups = groups[2:] {
			k0, k1 := groups[0], groups[1]
			accumulate2(bn.hist.group(k0), bn.hist.group(k1), b.groups[k0], b.groups[k1], ents)
		}
		if len(groups) == 1 {
			accumulate(bn.hist.group(groups[0]), b.groups[groups[0]], ents)
		}
		feats := b.feats[b.groupStart[lo]:b.groupStart[hi]]
		f := &b.finders[part]
		bestBuilt, bestDerived := f.noSplit(), f.noSplit()
		for _, j := range feats {
			nb := b.bins[j].n
			hb := &bn.hist[j]
			if searchBuilt {
				f.search(&bestBuilt, j, b.kinds[j], hb, nb, bn.g, bn.h)
			}
			if dn != nil {
				hd := &dn.hist[j]
				for k := 0; k <= nb; k++ {
					hd[k] = hd[k].sub(hb[k])
				}
				f.search(&bestDerived, j, b.kinds[j], hd, nb, dn.g, dn.h)
			}
		}
		b.bests[2*part], b.bests[2*part+1] = bestBuilt, bestDerived
	})
	bn.split = b.bests[0]
	if dn != nil {
		dn.split = b.bests[1]
	}
	for part := 1; part < workers; part++ {
		if b.bests[2*part].better(&bn.split) {
			bn.split = b.bests[2*part]
		}
		if dn != nil && b.bests[2*part+1].better(&dn.split) {
			dn.split = b.bests[2*part+1]
		}
	}
}

// tree converts the grown nodes into a Tree.
func (b *booster) tree() Tree {
	nn := len(b.nodes)
	t := Tree{
		Feature:     make([]int32, nn),
		Threshold:   make([]float64, nn),
		Left:        make([]int32, nn),
		Right:       make([]int32, nn),
		DefaultLeft: make([]bool, nn),
		Value:       make([]float64, nn),
		Cover:       make([]float64, nn),
		Gain:        make([]float64, nn),
	}
	categorical := false
	// Children come after their parents, so going backwards sums covers
	// bottom-up. Covers of internal nodes are the exact sums of their
	// children's so that TreeSHAP's base value adds up exactly.
	for id := nn - 1; id >= 0; id-- {
		n := &b.nodes[id]
		if n.left < 0 {
			t.Feature[id], t.Left[id], t.Right[id] = -1, -1, -1
			t.Value[id] = leafValue(n.g, n.h, b.p)
			t.Cover[id] = n.h
			continue
		}
		s := &n.split
		t.Feature[id] = int32(s.feature)
		t.Left[id], t.Right[id] = int32(n.left), int32(n.right)
		t.DefaultLeft[id] = s.defaultLeft
		t.Gain[id] = s.gain
		t.Cover[id] = t.Cover[n.left] + t.Cover[n.right]
		if b.kinds[s.feature] == Categorical {
			categorical = true
		} else {
			t.Threshold[id] = b.bins[s.feature].cuts[s.threshold-1]
		}
	}
	if categorical {
		t.CatStart = make([]int32, nn+1)
		for id := range b.nodes {
			t.CatStart[id] = int32(len(t.CatBits))
			if f := t.Feature[id]; f >= 0 && b.kinds[f] == Categorical {
				t.CatBits = appendCategorySet(t.CatBits, b.bins[f].catBin, &b.nodes[id].split.nonDefault)
			}
		}
		t.CatStart[nn] = int32(len(t.CatBits))
	}
	return t
}

// leafValue is the shrunk Newton step −η·G/(H+λ), or 0 for a node without
// weight.
func leafValue(g, h float64, p GBDTParams) float64 {
	if h+p.Lambda == 0 {
		return 0
	}
	return -p.LearningRate * g / (h + p.Lambda)
}

// appendCategorySet appends to dst the bitset of the category codes whose
// bins are in set, 32 codes a word, without trailing zero words.
func appendCategorySet(dst []uint32, catBin []uint8, set *[4]uint64) []uint32 {
	start := len(dst)
	for c, bin := range catBin {
		if bin == 0 || set[bin/64]>>(bin%64)&1 == 0 {
			continue
		}
		for len(dst) <= start+c/32 {
			dst = append(dst, 0)
		}
		dst[start+c/32] |= 1 << (c % 32)
	}
	return dst
}

// updateScores adds tree t to the running training scores: the rows of
// the sample through the leaves they were partitioned into, the others by
// walking the binned data down the grown nodes.
func (b *booster) updateScores(t *Tree) {
	m := len(b.ents)
	if b.p.Subsample < 1 {
		m = len(b.bag)
	}
	gbdtParallel(b.threads, m, func(_, lo, hi int) {
		for id := range b.nodes {
			n := &b.nodes[id]
			if n.left >= 0 {
				continue
			}
			v := t.Value[id]
			for k := max(lo, n.lo); k < min(hi, n.hi); k++ {
				b.score[b.ents[k].Row] += v
			}
		}
	})
	gbdtParallel(b.threads, len(b.oob), func(_, lo, hi int) {
		for _, i := range b.oob[lo:hi] {
			id := 0
			for n := &b.nodes[id]; n.left >= 0; n = &b.nodes[id] {
				if n.goLeft[b.cols[n.split.feature][i]] {
					id = n.left
				} else {
					id = n.right
				}
			}
			b.score[i] += t.Value[id]
		}
	})
}
