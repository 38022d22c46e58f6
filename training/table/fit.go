package table

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/training/metrics"
)

// Auto asks Fit to try every learner and keep the best.
const Auto = "auto"

// Options configures Fit.
type Options struct {
	// Algorithm is Auto, models.AlgorithmGBDT or models.AlgorithmLogReg.
	Algorithm string
	// Folds is the number of cross-fitting folds; at least 2.
	Folds int
	// Seed fixes the fold assignment.
	Seed uint64
	// GBDT and LogReg are the learners' parameters. GBDT.Rounds is the
	// most rounds a fold may grow; early stopping picks fewer.
	GBDT   models.GBDTParams
	LogReg models.LogRegParams
	// LogRegLambdas are the penalties logistic regression is evaluated
	// with, each as a learner of its own; empty tries LogReg.Lambda alone.
	// The penalty a table needs varies by decades with its rows, features
	// and base rate, but a small validation set would pick one by chance,
	// so LogReg.Lambda, when listed, is the reference: another penalty is
	// tried only when the validation rows hold minTuneClass positives and
	// negatives, and kept only if it lowers the validation log loss by
	// more than the standard error of the row-by-row difference (see
	// clearlyBetter); then the one of lowest log loss among those is.
	LogRegLambdas []float64
	// Bag is the number of tree ensembles, differing only in their seed,
	// whose scores are averaged (models.Bag). 1 fits a single GBDT.
	Bag int
	// WideCategories is the number of categories above which a
	// categorical feature is screened: the learner is cross-fitted once
	// more with the feature masked (all missing), and the mask is kept if
	// it lowers the out-of-fold log loss. Greedy partitions of many
	// categories overfit small tables. 0 disables screening.
	WideCategories int
	// Screen lists groups of features that are screened as a whole after
	// the wide categorical features: the learner is evaluated once more
	// with every feature of the group masked, and the mask is kept if it
	// lowers the validation log loss. Many weak features of one kind
	// (per-event counts, say) dilute the few strong ones of a small
	// table; where they carry signal, the mask is refused.
	Screen []FeatureGroup
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
}

// DefaultOptions returns the settings `churnctl train` uses: auto
// selection over five folds; trees as models.DefaultGBDTParams but with
// 80% row and column sampling, bagged over five seeds; ridge logistic
// regression with the penalty of DefaultLogRegLambdas that validates
// clearly best;
// screening of categorical features with more than 16 categories.
func DefaultOptions() Options {
	gbdt := models.DefaultGBDTParams()
	gbdt.Subsample, gbdt.ColSample = 0.8, 0.8
	return Options{
		Algorithm:      Auto,
		Folds:          5,
		Seed:           7,
		GBDT:           gbdt,
		LogReg:         models.DefaultLogRegParams(),
		LogRegLambdas:  DefaultLogRegLambdas,
		Bag:            5,
		WideCategories: 16,
	}
}

// minTuneClass is the weight of positive and of negative validation rows
// below which a learner's parameter is not tuned but left at its
// reference: as many as the trainer asks of a test set before it trusts
// a comparison (trainer.DefaultGuard).
const minTuneClass = 50

// DefaultLogRegLambdas are the ridge penalties DefaultOptions tries:
// models.DefaultLogRegParams' mild 10⁻³, the reference, and every decade
// above it to 1, the stronger shrinkage that small or wide tables need.
var DefaultLogRegLambdas = []float64{1e-3, 1e-2, 1e-1, 1}

// FeatureGroup names features screened together (Options.Screen).
type FeatureGroup struct {
	Name     string
	Features []string
}

// Candidate describes one learner as cross-fitting evaluated it.
type Candidate struct {
	// Algorithm is the artifact algorithm the learner produces.
	Algorithm   string                   `json:"algorithm"`
	Calibration models.CalibrationMethod `json:"calibration"`
	// Validation holds the out-of-fold metrics of calibrated probabilities.
	Validation metrics.Summary `json:"validation"`
	// Rounds is the number of boosting rounds of the final model, for trees.
	Rounds int `json:"rounds,omitempty"`
	// Masked lists the features screening masked, and MaskedGroups the
	// groups of Options.Screen among them.
	Masked       []string `json:"masked,omitempty"`
	MaskedGroups []string `json:"masked_groups,omitempty"`
	// FitSeconds is the wall time spent evaluating this learner, screening
	// included.
	FitSeconds float64 `json:"fit_seconds"`
	// TreeWeight is, for a blend, the trees' share of its raw score.
	TreeWeight float64 `json:"tree_weight,omitempty"`
	// Lambda is, for logistic regression and a blend, the regression's
	// penalty (see Options.LogRegLambdas).
	Lambda float64 `json:"lambda,omitempty"`
}

// Result is the outcome of Fit.
type Result struct {
	// Artifact holds the final model, refitted on all rows, with its
	// calibration and validation metrics in Metadata.
	Artifact *models.Artifact
	// Chosen is the candidate the artifact was built from; Candidates
	// lists all that were evaluated, in the order tried.
	Chosen     Candidate
	Candidates []Candidate
}

// scorer is a fitted model that can score a whole dataset.
type scorer interface {
	models.Model
	PredictRaw(d *models.Dataset, dst []float64) []float64
}

// learner fits one algorithm. With valid non-nil it fits for
// cross-fitting and may use valid for early stopping; with valid nil it
// fits the final model, and rounds, when positive, fixes the number of
// boosting rounds. It returns the model, its parameters and the number of
// boosting rounds it kept (0 for linear models).
type learner struct {
	algorithm string
	fit       func(train, valid *models.Dataset, rounds int) (m scorer, params any, kept float64, err error)
}

func (o Options) learners() ([]learner, error) {
	gbdt := learner{models.AlgorithmGBDT, func(train, valid *models.Dataset, rounds int) (scorer, any, float64, error) {
		p := o.GBDT
		if rounds > 0 {
			p.Rounds, p.EarlyStoppingRounds = rounds, 0
		}
		m, err := models.FitGBDT(train, valid, p)
		if err != nil {
			return nil, nil, 0, err
		}
		return m, p, float64(m.BestIteration() + 1), nil
	}}
	if o.Bag > 1 {
		gbdt = learner{models.AlgorithmGBDTBag, func(train, valid *models.Dataset, rounds int) (scorer, any, float64, error) {
			p := o.GBDT
			if rounds > 0 {
				p.Rounds, p.EarlyStoppingRounds = rounds, 0
			}
			bag := &models.Bag[*models.GBDT]{}
			var kept float64
			for s := range o.Bag {
				p.Seed = o.GBDT.Seed + uint64(s)
				m, err := models.FitGBDT(train, valid, p)
				if err != nil {
					return nil, nil, 0, err
				}
				bag.Members = append(bag.Members, m)
				kept += float64(m.BestIteration()+1) / float64(o.Bag)
			}
			p.Seed = o.GBDT.Seed
			return bag, p, kept, nil
		}}
	}
	var logregs []learner
	// The reference penalty first: fit compares the others with it.
	lambdas := []float64{o.LogReg.Lambda}
	if len(o.LogRegLambdas) > 0 && !slices.Contains(o.LogRegLambdas, o.LogReg.Lambda) {
		lambdas = nil
	}
	for _, l := range o.LogRegLambdas {
		if l != o.LogReg.Lambda {
			lambdas = append(lambdas, l)
		}
	}
	for _, lambda := range lambdas {
		p := o.LogReg
		p.Lambda = lambda
		logregs = append(logregs, learner{models.AlgorithmLogReg, func(train, _ *models.Dataset, _ int) (scorer, any, float64, error) {
			m, err := models.FitLogReg(train, p)
			return m, p, 0, err
		}})
	}
	switch o.Algorithm {
	case Auto:
		return append([]learner{gbdt}, logregs...), nil
	case models.AlgorithmGBDT:
		return []learner{gbdt}, nil
	case models.AlgorithmLogReg:
		return logregs, nil
	}
	return nil, fmt.Errorf("table: unknown algorithm %q (want %s, %s or %s)", o.Algorithm, Auto, models.AlgorithmGBDT, models.AlgorithmLogReg)
}

// Fit evaluates the learners named by opt on d by cross-fitting, keeps the
// one of lowest calibrated out-of-fold log loss, and returns it refitted
// on all of d as an artifact. The package documentation describes the
// procedure.
func Fit(ctx context.Context, d *models.Dataset, opt Options) (*Result, error) {
	if err := check(d, opt); err != nil {
		return nil, err
	}
	folds := StratifiedFolds(d.Labels, opt.Folds, opt.Seed)
	for k, f := range folds {
		if len(f) == 0 {
			return nil, fmt.Errorf("table: fold %d of %d is empty: %d rows are too few", k+1, opt.Folds, d.Rows())
		}
	}
	p := plan{scored: make([]int, d.Rows()), calFolds: folds, refit: true,
		about: fmt.Sprintf("%d-fold stratified out-of-fold, seed %d", opt.Folds, opt.Seed)}
	for i := range p.scored {
		p.scored[i] = i
	}
	for k, f := range folds {
		p.parts = append(p.parts, part{fit: complement(folds, k), score: f})
	}
	return fit(ctx, d, p, opt)
}

// FitHoldout is Fit for data with an order that a random split would
// break, such as time: every learner is fitted once on the train rows,
// and the valid rows, which it never sees, stop its trees early, choose
// and fit its calibration and rank it against the other learners. The
// chosen model is kept as fitted on the train rows, not refitted, so the
// calibration describes the very model returned. The calibration method
// is chosen by cross-fitting it over opt.Folds stratified folds of the
// valid rows, and the validation metrics are those out-of-fold
// calibrated figures.
func FitHoldout(ctx context.Context, d *models.Dataset, train, valid []int, opt Options) (*Result, error) {
	if err := check(d, opt); err != nil {
		return nil, err
	}
	if len(train) == 0 || len(valid) == 0 {
		return nil, fmt.Errorf("table: %d train and %d validation rows: both must be non-empty", len(train), len(valid))
	}
	calFolds := StratifiedFolds(pick(d.Labels, valid), opt.Folds, opt.Seed)
	for k, f := range calFolds {
		if len(f) == 0 {
			return nil, fmt.Errorf("table: calibration fold %d of %d is empty: %d validation rows are too few", k+1, opt.Folds, len(valid))
		}
	}
	p := plan{parts: []part{{fit: train, score: valid}}, scored: valid, calFolds: calFolds,
		about: fmt.Sprintf("held-out validation rows, calibration chosen over %d folds of them, seed %d", opt.Folds, opt.Seed)}
	return fit(ctx, d, p, opt)
}

// check validates the options and the data shared by Fit and FitHoldout.
func check(d *models.Dataset, opt Options) error {
	if _, err := opt.learners(); err != nil {
		return err
	}
	if opt.Folds < 2 {
		return fmt.Errorf("table: %d folds, want at least 2", opt.Folds)
	}
	if err := d.Validate(); err != nil {
		return fmt.Errorf("table: %w", err)
	}
	if d.Labels == nil {
		return models.ErrNoLabels
	}
	return nil
}

// A plan says how learners are evaluated: each part fits on some rows and
// scores others, held out.
type plan struct {
	parts []part
	// scored lists every row a part scores, each once, in the order the
	// raw scores are kept; calFolds are folds of positions in scored,
	// over which the calibration method is chosen.
	scored   []int
	calFolds [][]int
	// refit says the winner is refitted on all rows; otherwise the plan
	// has one part, whose model is kept.
	refit bool
	// about describes the validation for the artifact's metadata.
	about string
}

// part is one fit of a plan.
type part struct{ fit, score []int }

// fit evaluates opt's learners under plan p and builds the artifact of
// the best.
func fit(ctx context.Context, d *models.Dataset, p plan, opt Options) (*Result, error) {
	learners, err := opt.learners()
	if err != nil {
		return nil, err
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res := &Result{}
	// evals holds the best evaluation of each algorithm, in the order
	// first tried: the learners of one algorithm differ in a parameter,
	// and the first of them is the reference the others must beat clearly.
	var evals, refs []*evaluation
	y, w := pick(d.Labels, p.scored), pick(d.Weights, p.scored)
	var pos, total float64
	for i := range y {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		pos, total = pos+wi*y[i], total+wi
	}
	tune := pos >= minTuneClass && total-pos >= minTuneClass
	for _, l := range learners {
		k := slices.IndexFunc(evals, func(b *evaluation) bool { return b.candidate.Algorithm == l.algorithm })
		if k >= 0 && !tune {
			continue
		}
		e, err := screen(ctx, d, p, l, opt, log)
		if err != nil {
			return nil, err
		}
		switch {
		case k < 0:
			evals, refs = append(evals, e), append(refs, e)
		case e.candidate.Validation.LogLoss < evals[k].candidate.Validation.LogLoss &&
			clearlyBetter(y, w, e.probs, refs[k].probs):
			evals[k] = e
		}
	}
	if opt.Algorithm == Auto {
		b, err := blend(d, p, evals[0], evals[1])
		if err != nil {
			return nil, err
		}
		log.Info("candidate evaluated", "algorithm", b.candidate.Algorithm, "calibration", b.candidate.Calibration, "tree_weight", b.candidate.TreeWeight,
			"auc", b.candidate.Validation.AUC, "log_loss", b.candidate.Validation.LogLoss)
		evals = append(evals, b)
	}
	var best *evaluation
	for _, e := range evals {
		res.Candidates = append(res.Candidates, e.candidate)
		if best == nil || e.candidate.Validation.LogLoss < best.candidate.Validation.LogLoss {
			best = e
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m, params, err := best.final(p.refit)
	if err != nil {
		return nil, err
	}
	res.Chosen = best.candidate
	v := best.candidate.Validation
	extra := map[string]string{
		"validation":  p.about,
		"calibration": string(best.candidate.Calibration),
	}
	if len(best.candidate.Masked) > 0 {
		extra["masked"] = strings.Join(best.candidate.Masked, ",")
	}
	if len(best.candidate.MaskedGroups) > 0 {
		extra["masked_groups"] = strings.Join(best.candidate.MaskedGroups, ",")
	}
	rows := d.Rows()
	if !p.refit {
		rows = len(p.parts[0].fit)
	}
	res.Artifact = &models.Artifact{
		Algorithm:   best.candidate.Algorithm,
		Model:       m,
		Params:      params,
		Calibration: best.calibrator,
		Metadata: models.Metadata{
			Rows:    rows,
			Metrics: map[string]float64{"auc": v.AUC, "pr_auc": v.PRAUC, "log_loss": v.LogLoss, "brier": v.Brier, "ece": v.ECE},
			Extra:   extra,
		},
	}
	log.Info("chosen model", "algorithm", res.Chosen.Algorithm, "calibration", res.Chosen.Calibration, "log_loss", v.LogLoss, "auc", v.AUC)
	return res, nil
}

// evaluation is a learner's cross-fitted evaluation on data, with the
// calibrator fitted on all its out-of-fold scores.
type evaluation struct {
	candidate  Candidate
	learner    learner
	data       *models.Dataset
	calibrator *models.Calibrator
	// model and params are those of the last part's fit, which a plan
	// without refit keeps.
	model  scorer
	params any
	// raw holds the out-of-fold raw scores of the plan's scored rows, and
	// probs their calibrated out-of-fold probabilities.
	raw, probs []float64
	// members are a blend's trees and regression, nil for a learner.
	members [2]*evaluation
}

// final returns the model the evaluation stands for: refitted on all rows
// when refit is set, else as fitted on the plan's one part.
func (e *evaluation) final(refit bool) (models.Model, any, error) {
	if e.members[0] == nil {
		if !refit {
			return e.model, e.params, nil
		}
		m, params, _, err := e.learner.fit(e.data, nil, e.candidate.Rounds)
		if err != nil {
			return nil, nil, fmt.Errorf("table: %s, final fit: %w", e.candidate.Algorithm, err)
		}
		return m, params, nil
	}
	trees, tp, err := e.members[0].final(refit)
	if err != nil {
		return nil, nil, err
	}
	linear, lp, err := e.members[1].final(refit)
	if err != nil {
		return nil, nil, err
	}
	bag, ok := trees.(*models.Bag[*models.GBDT])
	if !ok {
		bag = &models.Bag[*models.GBDT]{Members: []*models.GBDT{trees.(*models.GBDT)}}
	}
	b := &models.Blend{Trees: bag, Linear: linear.(*models.LogReg), Weight: e.candidate.TreeWeight}
	return b, models.BlendParams{Trees: tp.(models.GBDTParams), Linear: lp.(models.LogRegParams)}, nil
}

// blendWeights are the trees' shares a blend tries; 0 and 1 are the
// learners alone, evaluated already.
var blendWeights = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}

// blend evaluates the weighted means of the out-of-fold raw scores of
// trees and regression, calibrated as each learner's are, and returns the
// weight of lowest calibrated log loss as an evaluation. The weight is
// chosen on the same held-out scores that evaluate it: one parameter,
// against the learners' thousands.
func blend(d *models.Dataset, p plan, trees, linear *evaluation) (*evaluation, error) {
	start := time.Now()
	y, w := pick(d.Labels, p.scored), pick(d.Weights, p.scored)
	var best *evaluation
	raw := make([]float64, len(p.scored))
	for _, tw := range blendWeights {
		for i := range raw {
			raw[i] = tw*trees.raw[i] + (1-tw)*linear.raw[i]
		}
		cal, method, probs, err := chooseCalibration(raw, y, w, p.calFolds)
		if err != nil {
			return nil, fmt.Errorf("table: blend: %w", err)
		}
		v := metrics.Evaluate(y, probs, w)
		if best != nil && v.LogLoss >= best.candidate.Validation.LogLoss {
			continue
		}
		best = &evaluation{calibrator: cal, raw: slices.Clone(raw), members: [2]*evaluation{trees, linear},
			candidate: Candidate{Algorithm: models.AlgorithmBlend, Calibration: method, Validation: v, Rounds: trees.candidate.Rounds,
				Masked: union(trees.candidate.Masked, linear.candidate.Masked), MaskedGroups: union(trees.candidate.MaskedGroups, linear.candidate.MaskedGroups),
				TreeWeight: tw, Lambda: linear.candidate.Lambda}}
	}
	best.candidate.FitSeconds = time.Since(start).Seconds() + trees.candidate.FitSeconds + linear.candidate.FitSeconds
	return best, nil
}

// clearlyBetter reports whether probabilities p have a lower log loss on
// labels y with weights w (nil for 1) than ref by more than one standard
// error of the mean row-by-row difference: a margin that chance alone
// seldom gives, however few the rows.
func clearlyBetter(y, w, p, ref []float64) bool {
	loss := func(y, p float64) float64 {
		p = min(max(p, metrics.LogLossEpsilon), 1-metrics.LogLossEpsilon)
		if y > 0.5 {
			return -math.Log(p)
		}
		return -math.Log(1 - p)
	}
	var sw, sw2, mean float64
	d := make([]float64, len(y))
	for i := range y {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		d[i] = loss(y[i], ref[i]) - loss(y[i], p[i])
		sw, sw2, mean = sw+wi, sw2+wi*wi, mean+wi*d[i]
	}
	if sw <= 0 {
		return false
	}
	mean /= sw
	var v float64
	for i := range d {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		v += wi * (d[i] - mean) * (d[i] - mean)
	}
	// The variance of a weighted mean is the weighted variance over the
	// effective number of rows, (Σw)²/Σw².
	se := math.Sqrt(v / sw * sw2 / (sw * sw))
	return mean > se
}

// union returns the sorted distinct strings of a and b, nil when none.
func union(a, b []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(a), b...))))
}

// screen cross-fits l on d and then, one by one, with every categorical
// feature of more than opt.WideCategories categories masked on top of the
// masks kept so far, keeping a mask when it lowers the out-of-fold log
// loss; then likewise with each group of opt.Screen masked as a whole.
func screen(ctx context.Context, d *models.Dataset, p plan, l learner, opt Options, log *slog.Logger) (*evaluation, error) {
	start := time.Now()
	best, err := evaluate(ctx, d, p, l)
	if err != nil {
		return nil, err
	}
	// try evaluates l with the columns cols masked on top of best's masks,
	// and keeps the result when it validates better.
	try := func(what string, cols []int) (bool, error) {
		masked := *best.data
		masked.Columns = slices.Clone(masked.Columns)
		missing := make([]float64, d.Rows())
		for i := range missing {
			missing[i] = math.NaN()
		}
		for _, j := range cols {
			masked.Columns[j] = missing
		}
		e, err := evaluate(ctx, &masked, p, l)
		if err != nil {
			return false, err
		}
		kept := e.candidate.Validation.LogLoss < best.candidate.Validation.LogLoss
		log.Info("screened features", "algorithm", l.algorithm, "masked", what, "features", len(cols),
			"log_loss", best.candidate.Validation.LogLoss, "masked_log_loss", e.candidate.Validation.LogLoss, "kept", kept)
		if kept {
			e.candidate.Masked, e.candidate.MaskedGroups = best.candidate.Masked, best.candidate.MaskedGroups
			best = e
		}
		return kept, nil
	}
	for j, f := range d.Schema {
		if opt.WideCategories <= 0 || f.Kind != models.Categorical || len(f.Categories) <= opt.WideCategories {
			continue
		}
		kept, err := try(f.Name, []int{j})
		if err != nil {
			return nil, err
		}
		if kept {
			best.candidate.Masked = append(slices.Clone(best.candidate.Masked), f.Name)
		}
	}
	at := make(map[string]int, len(d.Schema))
	for j, f := range d.Schema {
		at[f.Name] = j
	}
	for _, g := range opt.Screen {
		var cols []int
		var names []string
		for _, name := range g.Features {
			if j, ok := at[name]; ok {
				cols, names = append(cols, j), append(names, name)
			}
		}
		if len(cols) == 0 {
			continue
		}
		kept, err := try(g.Name, cols)
		if err != nil {
			return nil, err
		}
		if kept {
			best.candidate.Masked = union(best.candidate.Masked, names)
			best.candidate.MaskedGroups = append(slices.Clone(best.candidate.MaskedGroups), g.Name)
		}
	}
	best.candidate.FitSeconds = time.Since(start).Seconds()
	c := best.candidate
	log.Info("candidate evaluated", "algorithm", c.Algorithm, "lambda", c.Lambda, "calibration", c.Calibration, "masked", c.Masked,
		"auc", c.Validation.AUC, "log_loss", c.Validation.LogLoss, "brier", c.Validation.Brier, "seconds", c.FitSeconds)
	return best, nil
}

// evaluate scores the rows of plan p with models that did not see them,
// and chooses and fits the calibration on those scores.
func evaluate(ctx context.Context, d *models.Dataset, p plan, l learner) (*evaluation, error) {
	e := &evaluation{learner: l, data: d}
	at := make(map[int]int, len(p.scored)) // row → position in scored
	for k, i := range p.scored {
		at[i] = k
	}
	raw := make([]float64, len(p.scored))
	var rounds float64
	for k, pt := range p.parts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		vd := d.Subset(pt.score)
		m, params, kept, err := l.fit(d.Subset(pt.fit), vd, 0)
		if err != nil {
			return nil, fmt.Errorf("table: %s, fold %d: %w", l.algorithm, k+1, err)
		}
		for i, r := range m.PredictRaw(vd, nil) {
			raw[at[pt.score[i]]] = r
		}
		rounds += kept / float64(len(p.parts))
		e.model, e.params = m, params
	}
	y, w := pick(d.Labels, p.scored), pick(d.Weights, p.scored)
	cal, method, probs, err := chooseCalibration(raw, y, w, p.calFolds)
	if err != nil {
		return nil, fmt.Errorf("table: %s: %w", l.algorithm, err)
	}
	e.calibrator, e.raw, e.probs = cal, raw, probs
	e.candidate = Candidate{
		Algorithm:   l.algorithm,
		Calibration: method,
		Validation:  metrics.Evaluate(y, probs, w),
		Rounds:      int(math.Round(rounds)),
	}
	if lp, ok := e.params.(models.LogRegParams); ok {
		e.candidate.Lambda = lp.Lambda
	}
	return e, nil
}

// chooseCalibration evaluates Platt and isotonic calibration of the
// out-of-fold scores raw by cross-fitting over the same folds, picks the
// one of lower log loss, and returns it fitted on all scores together
// with its out-of-fold probabilities.
func chooseCalibration(raw, y, w []float64, folds [][]int) (*models.Calibrator, models.CalibrationMethod, []float64, error) {
	var (
		bestFit   func(raw, y, w []float64) (*models.Calibrator, error)
		bestName  models.CalibrationMethod
		bestProbs []float64
		bestLoss  = math.Inf(1)
	)
	for _, c := range []struct {
		name models.CalibrationMethod
		fit  func(raw, y, w []float64) (*models.Calibrator, error)
	}{
		{models.CalibrationPlatt, models.FitPlatt},
		{models.CalibrationIsotonic, models.FitIsotonic},
	} {
		probs := make([]float64, len(raw))
		for k, fold := range folds {
			rest := complement(folds, k)
			cal, err := c.fit(pick(raw, rest), pick(y, rest), pick(w, rest))
			if err != nil {
				return nil, "", nil, fmt.Errorf("%s calibration: %w", c.name, err)
			}
			for _, i := range fold {
				probs[i] = cal.Probability(raw[i])
			}
		}
		if loss := metrics.LogLoss(y, probs, w); loss < bestLoss {
			bestFit, bestName, bestProbs, bestLoss = c.fit, c.name, probs, loss
		}
	}
	cal, err := bestFit(raw, y, w)
	if err != nil {
		return nil, "", nil, fmt.Errorf("%s calibration: %w", bestName, err)
	}
	return cal, bestName, bestProbs, nil
}

// complement returns the rows of every fold but k, in ascending order.
func complement(folds [][]int, k int) []int {
	var rows []int
	for j, f := range folds {
		if j != k {
			rows = append(rows, f...)
		}
	}
	slices.Sort(rows)
	return rows
}

// pick returns x at the given rows, or nil for nil x.
func pick(x []float64, rows []int) []float64 {
	if x == nil {
		return nil
	}
	out := make([]float64, len(rows))
	for k, i := range rows {
		out[k] = x[i]
	}
	return out
}
