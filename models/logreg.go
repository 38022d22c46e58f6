package models

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// LogRegParams configures FitLogReg.
//
// The fitted coefficients β (on standardised inputs) and intercept b minimise
//
//	Σᵢ wᵢ·ℓ(yᵢ, b + xᵢ·β) / Σᵢ wᵢ  +  Lambda·((1−L1Ratio)/2·‖β‖² + L1Ratio·‖β‖₁)
//
// where ℓ is the log loss. The intercept is not penalised. Because the loss
// is a weighted mean, Lambda does not need rescaling with the number of
// rows; scikit-learn's C corresponds to Lambda = 1/(C·n) with L1Ratio 0.
type LogRegParams struct {
	// Lambda is the penalty strength; it must be non-negative.
	Lambda float64 `json:"lambda"`
	// L1Ratio mixes the penalties: 0 is ridge (L2), 1 is lasso (L1), and
	// values between are the elastic net. With L1Ratio 0 the problem is
	// smooth and is solved by gonum's L-BFGS; otherwise by FISTA, an
	// accelerated proximal-gradient method that sets coefficients exactly
	// to zero.
	L1Ratio float64 `json:"l1_ratio"`
	// MaxIterations bounds the optimiser's major iterations.
	MaxIterations int `json:"max_iterations"`
	// Tolerance is the convergence threshold: on the gradient's infinity
	// norm for L-BFGS, and on the largest coefficient change per step for
	// FISTA.
	Tolerance float64 `json:"tolerance"`
}

// DefaultLogRegParams returns a mild ridge penalty suited to tables of a
// few thousand rows.
func DefaultLogRegParams() LogRegParams {
	return LogRegParams{Lambda: 1e-3, L1Ratio: 0, MaxIterations: 2000, Tolerance: 1e-6}
}

func (p LogRegParams) validate() error {
	switch {
	case !(p.Lambda >= 0) || math.IsInf(p.Lambda, 0):
		return fmt.Errorf("params: Lambda %v must be finite and non-negative", p.Lambda)
	case !(p.L1Ratio >= 0 && p.L1Ratio <= 1):
		return fmt.Errorf("params: L1Ratio %v must be in [0, 1]", p.L1Ratio)
	case p.MaxIterations <= 0:
		return fmt.Errorf("params: MaxIterations %d must be positive", p.MaxIterations)
	case !(p.Tolerance > 0):
		return fmt.Errorf("params: Tolerance %v must be positive", p.Tolerance)
	}
	return nil
}

// LogRegTerm holds the design columns of one feature: a single column for a
// numeric feature, one indicator column per category for a categorical one.
// Column k enters the linear predictor as Coef[k]·(x − Mean[k])/Scale[k].
type LogRegTerm struct {
	Mean  []float64 `json:"mean"`
	Scale []float64 `json:"scale"`
	Coef  []float64 `json:"coef"`
}

// LogReg is a fitted logistic regression on standardised inputs.
//
// Every design column is centred on its weighted training mean and divided
// by its training standard deviation. A missing value (NaN) is imputed with
// the training mean, so it standardises to zero and contributes nothing;
// this is also how a categorical feature's missing or unseen category is
// treated. Categorical features are one-hot encoded inside the model, and
// the indicator columns are standardised like numeric ones.
//
// LogReg is JSON-marshalable; it implements Model.
type LogReg struct {
	Features  Schema       `json:"schema"`
	Intercept float64      `json:"intercept"`
	Terms     []LogRegTerm `json:"terms"`
	// Iterations is the number of major iterations the optimiser took.
	Iterations int `json:"iterations"`
}

var _ Model = (*LogReg)(nil)

// FitLogReg fits a penalised logistic regression to train, which must have
// labels of both classes and positive total weight.
func FitLogReg(train *Dataset, p LogRegParams) (*LogReg, error) {
	m, err := fitLogReg(train, p)
	if err != nil {
		return nil, fmt.Errorf("models: fitting logreg: %w", err)
	}
	return m, nil
}

func fitLogReg(train *Dataset, p LogRegParams) (*LogReg, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if err := checkTrainingData(train); err != nil {
		return nil, fmt.Errorf("training data: %w", err)
	}
	m := &LogReg{Features: train.Schema, Terms: standardise(train)}
	prob, err := newLogitProblem(train, m.Terms, p)
	if err != nil {
		return nil, err
	}
	theta := make([]float64, 1+prob.cols)
	// Starting from the prior log-odds makes the intercept right at once.
	theta[0] = math.Log(prob.pos / (prob.total - prob.pos))
	if p.L1Ratio == 0 {
		m.Iterations, err = prob.minimiseLBFGS(theta, p)
	} else {
		m.Iterations, err = prob.minimiseFISTA(theta, p)
	}
	if err != nil {
		return nil, err
	}
	m.Intercept = theta[0]
	k := 1
	for i := range m.Terms {
		t := &m.Terms[i]
		k += copy(t.Coef, theta[k:k+len(t.Coef)])
	}
	return m, nil
}

// standardise computes the weighted mean and standard deviation of every
// design column over the rows where its feature is present. A constant or
// empty column gets scale 1, so it standardises to zero.
func standardise(d *Dataset) []LogRegTerm {
	terms := make([]LogRegTerm, len(d.Schema))
	for j, f := range d.Schema {
		width := 1
		if f.Kind == Categorical {
			width = len(f.Categories)
		}
		sum := make([]float64, width)
		sumSq := make([]float64, width)
		var total float64
		for i, v := range d.Columns[j] {
			if math.IsNaN(v) {
				continue
			}
			w := d.Weight(i)
			total += w
			if f.Kind == Categorical {
				sum[int(v)] += w // indicator², so sumSq equals sum
				sumSq[int(v)] += w
				continue
			}
			sum[0] += w * v
			sumSq[0] += w * v * v
		}
		t := LogRegTerm{Mean: make([]float64, width), Scale: make([]float64, width), Coef: make([]float64, width)}
		for k := range width {
			t.Scale[k] = 1
			if total == 0 {
				continue
			}
			mean := sum[k] / total
			t.Mean[k] = mean
			if sd := math.Sqrt(math.Max(sumSq[k]/total-mean*mean, 0)); sd > 1e-12*math.Max(1, math.Abs(mean)) {
				t.Scale[k] = sd
			}
		}
		terms[j] = t
	}
	return terms
}

// Schema returns the features the model was fitted on.
func (m *LogReg) Schema() Schema { return m.Features }

// ExpectedValue returns the intercept. Every design column is centred on
// its training mean and missing values are imputed with it, so each
// feature's contribution averages zero over the training data.
func (m *LogReg) ExpectedValue() float64 { return m.Intercept }

// Raw returns the log-odds Intercept + Σ contributions for row, which must
// satisfy m.Schema().CheckRow. The sum is taken feature by feature in
// schema order, starting from the intercept.
func (m *LogReg) Raw(row []float64) float64 {
	s := m.Intercept
	for j := range m.Terms {
		s += m.term(j, row[j])
	}
	return s
}

// Contributions writes coefficient × standardised value for each feature
// of row into dst, summed over the indicator columns of a categorical
// feature, and returns dst. A nil dst is allocated.
func (m *LogReg) Contributions(row, dst []float64) []float64 {
	if dst == nil {
		dst = make([]float64, len(m.Terms))
	}
	for j := range m.Terms {
		dst[j] = m.term(j, row[j])
	}
	return dst
}

// PredictRaw writes the raw score of every row of d into dst, allocating it
// when nil, and returns it. d must have the model's schema.
func (m *LogReg) PredictRaw(d *Dataset, dst []float64) []float64 {
	n := d.Rows()
	if dst == nil {
		dst = make([]float64, n)
	}
	row := make([]float64, len(d.Columns))
	for i := range n {
		dst[i] = m.Raw(d.Row(i, row))
	}
	return dst
}

// Coefficients returns a copy of the coefficients of feature j's design
// columns, on the standardised scale.
func (m *LogReg) Coefficients(j int) []float64 {
	return append([]float64(nil), m.Terms[j].Coef...)
}

// term is feature j's contribution for value x.
func (m *LogReg) term(j int, x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	t := &m.Terms[j]
	if m.Features[j].Kind == Numeric {
		return t.Coef[0] * ((x - t.Mean[0]) / t.Scale[0])
	}
	var s float64
	for k, c := range t.Coef {
		var ind float64
		if float64(k) == x {
			ind = 1
		}
		s += c * ((ind - t.Mean[k]) / t.Scale[k])
	}
	return s
}

// Validate checks that the model is internally consistent: one term per
// feature, of the right width, with finite parameters and positive scales.
// It is run on every model decoded from an artifact.
func (m *LogReg) Validate() error {
	if len(m.Terms) != len(m.Features) {
		return fmt.Errorf("models: logreg has %d terms for %d features", len(m.Terms), len(m.Features))
	}
	if !finite(m.Intercept) {
		return errors.New("models: logreg intercept is not finite")
	}
	for j, f := range m.Features {
		t := m.Terms[j]
		width := 1
		if f.Kind == Categorical {
			width = len(f.Categories)
		} else if f.Kind != Numeric {
			return fmt.Errorf("models: logreg feature %q has unknown kind %v", f.Name, f.Kind)
		}
		if len(t.Mean) != width || len(t.Scale) != width || len(t.Coef) != width {
			return fmt.Errorf("models: logreg feature %q: term widths %d/%d/%d, want %d", f.Name, len(t.Mean), len(t.Scale), len(t.Coef), width)
		}
		for k := range width {
			if !finite(t.Mean[k]) || !finite(t.Coef[k]) || !(t.Scale[k] > 0) || math.IsInf(t.Scale[k], 0) {
				return fmt.Errorf("models: logreg feature %q column %d has invalid parameters", f.Name, k)
			}
		}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// logitProblem is the standardised design matrix with the labels and
// normalised weights, ready for an optimiser. The parameter vector is
// θ = (b, β₁, …, β_cols).
type logitProblem struct {
	x      []float64 // rows × cols, row-major, standardised
	y, w   []float64 // labels and weights normalised to sum to 1
	rows   int
	cols   int
	l2, l1 float64 // Lambda·(1−L1Ratio) and Lambda·L1Ratio
	// pos and total are the raw positive and total weights.
	pos, total float64
	z          []float64 // scratch: linear predictor per row
}

func newLogitProblem(d *Dataset, terms []LogRegTerm, p LogRegParams) (*logitProblem, error) {
	cols := 0
	for _, t := range terms {
		cols += len(t.Coef)
	}
	n := d.Rows()
	prob := &logitProblem{
		x: make([]float64, n*cols), y: d.Labels, w: make([]float64, n),
		rows: n, cols: cols, l2: p.Lambda * (1 - p.L1Ratio), l1: p.Lambda * p.L1Ratio,
		z: make([]float64, n),
	}
	for i := range n {
		w := d.Weight(i)
		prob.w[i] = w
		prob.total += w
		prob.pos += w * d.Labels[i]
	}
	if prob.pos <= 0 || prob.pos >= prob.total {
		return nil, fmt.Errorf("needs positive weight on both classes (positive %v of %v)", prob.pos, prob.total)
	}
	floats.Scale(1/prob.total, prob.w)
	// Fill the design matrix column by column.
	c := 0
	for j, t := range terms {
		col := d.Columns[j]
		for k := range t.Coef {
			for i, v := range col {
				var z float64
				switch {
				case math.IsNaN(v):
				case d.Schema[j].Kind == Numeric:
					z = (v - t.Mean[k]) / t.Scale[k]
				default:
					var ind float64
					if int(v) == k {
						ind = 1
					}
					z = (ind - t.Mean[k]) / t.Scale[k]
				}
				prob.x[i*cols+c] = z
			}
			c++
		}
	}
	return prob, nil
}

// smooth returns the weighted mean log loss plus the L2 penalty at θ and,
// when grad is non-nil, writes its gradient.
func (p *logitProblem) smooth(theta, grad []float64) float64 {
	b, beta := theta[0], theta[1:]
	var loss float64
	for i := range p.rows {
		z := b + floats.Dot(p.x[i*p.cols:(i+1)*p.cols], beta)
		p.z[i] = z
		loss += p.w[i] * LogLoss(p.y[i], z)
	}
	loss += p.l2 / 2 * floats.Dot(beta, beta)
	if grad == nil {
		return loss
	}
	for k := range grad {
		grad[k] = 0
	}
	g := grad[1:]
	for i := range p.rows {
		d, _ := LogLossDerivatives(p.y[i], p.z[i])
		r := p.w[i] * d
		grad[0] += r
		floats.AddScaled(g, r, p.x[i*p.cols:(i+1)*p.cols])
	}
	floats.AddScaled(g, p.l2, beta)
	return loss
}

// minimiseLBFGS solves the smooth (pure L2) problem in place, starting
// from theta, and returns the number of major iterations.
func (p *logitProblem) minimiseLBFGS(theta []float64, params LogRegParams) (int, error) {
	problem := optimize.Problem{
		Func: func(x []float64) float64 { return p.smooth(x, nil) },
		Grad: func(grad, x []float64) { p.smooth(x, grad) },
	}
	settings := &optimize.Settings{
		GradientThreshold: params.Tolerance,
		MajorIterations:   params.MaxIterations,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-12, Relative: 1e-12, Iterations: 20},
	}
	start := p.smooth(theta, nil)
	res, err := optimize.Minimize(problem, theta, settings, &optimize.LBFGS{})
	// A line search that fails after the objective went down means the
	// optimiser has reached the limits of float64 near the minimum: that is
	// convergence, not a failure.
	if errors.Is(err, optimize.ErrLinesearcherFailure) && res != nil && res.F < start {
		err = nil
	}
	if err != nil {
		return 0, fmt.Errorf("L-BFGS: %w", err)
	}
	copy(theta, res.X)
	return res.MajorIterations, nil
}

// minimiseFISTA solves the problem with an L1 term in place by accelerated
// proximal gradient with backtracking and adaptive restart, starting from
// theta, and returns the number of iterations.
func (p *logitProblem) minimiseFISTA(theta []float64, params LogRegParams) (int, error) {
	n := len(theta)
	x := theta // current iterate
	xPrev := make([]float64, n)
	y := make([]float64, n) // extrapolated point
	xNew := make([]float64, n)
	g := make([]float64, n)
	copy(y, x)
	step := 1.0 // 1/L; the loss on standardised inputs has L near 1
	t := 1.0
	objPrev := math.Inf(1)
	for it := 1; it <= params.MaxIterations; it++ {
		fy := p.smooth(y, g)
		for {
			p.proxStep(xNew, y, g, step)
			fNew := p.smooth(xNew, nil)
			// Sufficient decrease of the quadratic upper bound.
			var lin, sq float64
			for k := range n {
				d := xNew[k] - y[k]
				lin += g[k] * d
				sq += d * d
			}
			if fNew <= fy+lin+sq/(2*step)+1e-15*math.Abs(fy) {
				break
			}
			step /= 2
			if step < 1e-20 {
				return it, errors.New("FISTA: step size underflow")
			}
		}
		obj := p.smooth(xNew, nil) + p.l1*floats.Norm(xNew[1:], 1)
		var change, size float64
		for k := range n {
			change = math.Max(change, math.Abs(xNew[k]-x[k]))
			size = math.Max(size, math.Abs(xNew[k]))
		}
		copy(xPrev, x)
		copy(x, xNew)
		if change <= params.Tolerance*math.Max(1, size) {
			return it, nil
		}
		tNext := (1 + math.Sqrt(1+4*t*t)) / 2
		momentum := (t - 1) / tNext
		t = tNext
		if obj > objPrev {
			// Adaptive restart: momentum overshot, so drop it.
			t, momentum = 1, 0
		}
		objPrev = obj
		for k := range n {
			y[k] = x[k] + momentum*(x[k]-xPrev[k])
		}
	}
	return params.MaxIterations, nil
}

// proxStep writes the proximal gradient step from y with gradient g and
// step size step into dst: a plain gradient step for the intercept and
// soft-thresholding for the coefficients.
func (p *logitProblem) proxStep(dst, y, g []float64, step float64) {
	dst[0] = y[0] - step*g[0]
	thresh := step * p.l1
	for k := 1; k < len(dst); k++ {
		v := y[k] - step*g[k]
		switch {
		case v > thresh:
			dst[k] = v - thresh
		case v < -thresh:
			dst[k] = v + thresh
		default:
			dst[k] = 0
		}
	}
}
