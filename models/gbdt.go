package models

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// GBDTParams configures FitGBDT. The regularisation follows XGBoost's
// binary:logistic objective with tree_method=hist: a split of a node whose
// rows have gradient sum G and hessian sum H into halves (Gₗ, Hₗ) and
// (Gᵣ, Hᵣ) gains
//
//	Gₗ²/(Hₗ+Lambda) + Gᵣ²/(Hᵣ+Lambda) − G²/(H+Lambda)
//
// and a leaf takes the value −LearningRate·G/(H+Lambda).
type GBDTParams struct {
	// Rounds is the largest number of boosting rounds, one tree each; at
	// least 1.
	Rounds int `json:"rounds"`
	// LearningRate (shrinkage, XGBoost's eta) scales every leaf value. It
	// must be in (0, 1].
	LearningRate float64 `json:"learning_rate"`
	// MaxDepth bounds the depth of every tree; the root has depth 0, so a
	// tree has at most 2^MaxDepth leaves. 0 means no depth limit and then
	// needs MaxLeaves > 0.
	MaxDepth int `json:"max_depth"`
	// MaxLeaves bounds the number of leaves of every tree; 0 means no limit.
	// Trees grow best-first (the leaf whose best split gains most is split
	// next), which without a leaf limit yields the same tree as growing
	// level by level.
	MaxLeaves int `json:"max_leaves"`
	// MinChildWeight is the least hessian sum a child may have. It must be
	// non-negative.
	MinChildWeight float64 `json:"min_child_weight"`
	// Lambda is the L2 penalty on leaf values; non-negative.
	Lambda float64 `json:"lambda"`
	// MinSplitGain is the gain (as defined above) a split must exceed; it
	// is non-negative. Unlike XGBoost's gamma it is applied while growing,
	// not by pruning afterwards.
	MinSplitGain float64 `json:"min_split_gain"`
	// Subsample is the fraction of training rows each tree is fitted on,
	// drawn independently per row; in (0, 1].
	Subsample float64 `json:"subsample"`
	// ColSample is the fraction of features each tree may split on; in
	// (0, 1]. At least one feature is always drawn.
	ColSample float64 `json:"colsample"`
	// MaxBins is the largest number of bins per feature for present values;
	// in [2, 255]. Missing values have a bin of their own on top.
	MaxBins int `json:"max_bins"`
	// EarlyStoppingRounds stops fitting when the validation log loss has
	// not improved for this many rounds; the trees after the best round
	// are dropped. 0 disables early stopping, as does a nil validation set.
	EarlyStoppingRounds int `json:"early_stopping_rounds"`
	// Threads is the number of goroutines to fit and predict with; 0 means
	// runtime.GOMAXPROCS(0). The fitted model does not depend on it.
	Threads int `json:"threads"`
	// Seed makes row and column sampling and the choice of rows to bin
	// from reproducible.
	Seed uint64 `json:"seed"`
}

// DefaultGBDTParams returns general-purpose settings: 500 rounds of
// learning rate 0.05 and depth 6 with early stopping after 50 rounds
// without improvement, and XGBoost's default regularisation
// (MinChildWeight 1, Lambda 1, no sampling, 255 bins).
func DefaultGBDTParams() GBDTParams {
	return GBDTParams{
		Rounds:              500,
		LearningRate:        0.05,
		MaxDepth:            6,
		MinChildWeight:      1,
		Lambda:              1,
		Subsample:           1,
		ColSample:           1,
		MaxBins:             255,
		EarlyStoppingRounds: 50,
	}
}

func (p GBDTParams) validate() error {
	nonNegative := func(x float64) bool { return x >= 0 && !math.IsInf(x, 0) }
	switch {
	case p.Rounds < 1:
		return fmt.Errorf("params: Rounds %d must be at least 1", p.Rounds)
	case !(p.LearningRate > 0 && p.LearningRate <= 1):
		return fmt.Errorf("params: LearningRate %v must be in (0, 1]", p.LearningRate)
	case p.MaxDepth < 0:
		return fmt.Errorf("params: MaxDepth %d must be non-negative", p.MaxDepth)
	case p.MaxLeaves < 0 || p.MaxLeaves == 1:
		return fmt.Errorf("params: MaxLeaves %d must be 0 (no limit) or at least 2", p.MaxLeaves)
	case p.MaxDepth == 0 && p.MaxLeaves == 0:
		return errors.New("params: MaxDepth and MaxLeaves are both 0 (unbounded trees)")
	case !nonNegative(p.MinChildWeight):
		return fmt.Errorf("params: MinChildWeight %v must be finite and non-negative", p.MinChildWeight)
	case !nonNegative(p.Lambda):
		return fmt.Errorf("params: Lambda %v must be finite and non-negative", p.Lambda)
	case !nonNegative(p.MinSplitGain):
		return fmt.Errorf("params: MinSplitGain %v must be finite and non-negative", p.MinSplitGain)
	case !(p.Subsample > 0 && p.Subsample <= 1):
		return fmt.Errorf("params: Subsample %v must be in (0, 1]", p.Subsample)
	case !(p.ColSample > 0 && p.ColSample <= 1):
		return fmt.Errorf("params: ColSample %v must be in (0, 1]", p.ColSample)
	case p.MaxBins < 2 || p.MaxBins > 255:
		return fmt.Errorf("params: MaxBins %d must be in [2, 255]", p.MaxBins)
	case p.EarlyStoppingRounds < 0:
		return fmt.Errorf("params: EarlyStoppingRounds %d must be non-negative", p.EarlyStoppingRounds)
	case p.Threads < 0:
		return fmt.Errorf("params: Threads %d must be non-negative", p.Threads)
	}
	return nil
}

func (p GBDTParams) threads() int {
	if p.Threads == 0 {
		return runtime.GOMAXPROCS(0)
	}
	return p.Threads
}

// GBDT is a fitted ensemble of gradient-boosted regression trees for binary
// classification. Its raw score is on the log-odds scale:
//
//	Raw(x) = BaseScore + Σₜ Trees[t].Value[leaf reached by x in tree t]
//
// GBDT is JSON-marshalable and implements Model. Its exported fields are
// meant for serialisation; a model decoded from JSON should be checked with
// Validate before use.
type GBDT struct {
	// Features is the schema of the training data.
	Features Schema `json:"schema"`
	// Params are the parameters the model was fitted with.
	Params GBDTParams `json:"params"`
	// BaseScore is the initial raw score: the log-odds of the weighted rate
	// of positive labels in the training data.
	BaseScore float64 `json:"base_score"`
	// Trees holds the kept trees in boosting order.
	Trees []Tree `json:"trees"`
	// Expected is the value returned by ExpectedValue.
	Expected float64 `json:"expected_value"`
	// Best is the value returned by BestIteration.
	Best int `json:"best_iteration"`
	// ValidLoss holds the weighted validation log loss after each round
	// fitted, including rounds dropped by early stopping. It is empty when
	// no validation set was given.
	ValidLoss []float64 `json:"valid_loss,omitempty"`

	// shap holds the quadTree of each tree (nil for those explained by
	// Algorithm 2), made by the first Contributions.
	shap atomic.Pointer[[]quadTree]
}

var _ Model = (*GBDT)(nil)

// Schema returns the features the model was fitted on, in order.
func (m *GBDT) Schema() Schema { return m.Features }

// ExpectedValue returns the base value of Contributions: BaseScore plus,
// for every tree, the mean of its leaf values weighted by their training
// cover (hessian sum). This is the model's mean raw score over the training
// distribution as TreeSHAP sees it.
func (m *GBDT) ExpectedValue() float64 { return m.Expected }

// BestIteration returns the zero-based index of the last boosting round
// kept: the round of least validation loss under early stopping, and
// otherwise the last round. The model holds BestIteration()+1 trees.
func (m *GBDT) BestIteration() int { return m.Best }

// Importance returns, for every feature, the total gain of the splits on it
// over all trees, in a newly allocated slice of len(Schema()) elements.
func (m *GBDT) Importance() []float64 {
	imp := make([]float64, len(m.Features))
	for i := range m.Trees {
		t := &m.Trees[i]
		for n, f := range t.Feature {
			if f >= 0 {
				imp[f] += t.Gain[n]
			}
		}
	}
	return imp
}

// expectedValue computes the value reported by ExpectedValue from the trees.
func (m *GBDT) expectedValue() float64 {
	e := m.BaseScore
	for i := range m.Trees {
		e += m.Trees[i].expected(0)
	}
	return e
}

// FitGBDT fits gradient-boosted trees for the binary log loss to train,
// which must have labels of both classes (by weight). If valid is not nil
// it must have the same schema and labels, and it drives early stopping.
// Sample weights of both datasets are honoured.
func FitGBDT(train, valid *Dataset, p GBDTParams) (*GBDT, error) {
	m, err := fitGBDT(train, valid, p)
	if err != nil {
		return nil, fmt.Errorf("models: fitting gbdt: %w", err)
	}
	return m, nil
}

func fitGBDT(train, valid *Dataset, p GBDTParams) (*GBDT, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if err := checkTrainingData(train); err != nil {
		return nil, fmt.Errorf("training data: %w", err)
	}
	n := train.Rows()
	if n == 0 || n > math.MaxInt32 {
		return nil, fmt.Errorf("training data has %d rows, want between 1 and %d", n, math.MaxInt32)
	}
	if valid != nil {
		if err := checkTrainingData(valid); err != nil {
			return nil, fmt.Errorf("validation data: %w", err)
		}
		if !valid.Schema.Equal(train.Schema) {
			return nil, errors.New("validation data schema differs from training data schema")
		}
	}
	var pos, total float64
	for i, y := range train.Labels {
		w := train.Weight(i)
		pos += w * y
		total += w
	}
	if !(pos > 0 && pos < total) {
		return nil, fmt.Errorf("training labels need weight on both classes (positive weight %v of %v)", pos, total)
	}

	m := &GBDT{Features: train.Schema, Params: p, BaseScore: math.Log(pos / (total - pos))}
	b := newBooster(train, p, m.BaseScore)
	var vs *validScorer
	if valid != nil {
		vs = newValidScorer(valid, m.BaseScore, p.threads())
	}
	best, bestLoss := 0, math.Inf(1)
	for round := 0; round < p.Rounds; round++ {
		m.Trees = append(m.Trees, b.boost(round))
		m.Best = round
		if vs == nil {
			continue
		}
		loss := vs.add(&m.Trees[round])
		m.ValidLoss = append(m.ValidLoss, loss)
		if loss < bestLoss {
			best, bestLoss = round, loss
		}
		if p.EarlyStoppingRounds > 0 && round-best >= p.EarlyStoppingRounds {
			break
		}
	}
	if vs != nil && p.EarlyStoppingRounds > 0 {
		m.Best = best
		m.Trees = m.Trees[:best+1]
	}
	m.Expected = m.expectedValue()
	return m, nil
}

// checkGBDTData validates d and requires it to carry labels.

// validScorer keeps the running raw scores of a validation set.
type validScorer struct {
	d       *Dataset
	score   []float64
	threads int
}

func newValidScorer(d *Dataset, base float64, threads int) *validScorer {
	score := make([]float64, d.Rows())
	for i := range score {
		score[i] = base
	}
	return &validScorer{d: d, score: score, threads: threads}
}

// add adds tree t to the scores and returns the weighted log loss.
func (v *validScorer) add(t *Tree) float64 {
	addTreeScores(v.score, v.d.Columns, []Tree{*t}, v.threads)
	var loss, total float64
	for i, z := range v.score {
		w := v.d.Weight(i)
		loss += w * LogLoss(v.d.Labels[i], z)
		total += w
	}
	if total == 0 {
		return 0
	}
	return loss / total
}

// gbdtParallel splits [0, n) into at most threads contiguous ranges and
// calls fn on each from its own goroutine, returning when all are done.
// Ranges are given their index so callers can keep per-range state.
func gbdtParallel(threads, n int, fn func(part, lo, hi int)) {
	if threads > n {
		threads = n
	}
	if threads <= 1 {
		if n > 0 {
			fn(0, 0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for t := range threads {
		lo, hi := t*n/threads, (t+1)*n/threads
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(t, lo, hi)
		}()
	}
	wg.Wait()
}

// newRand returns a generator for the given seed and purpose, so that the
// streams for different purposes and rounds are independent.
func gbdtRand(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream*0x9e3779b97f4a7c15+1))
}
