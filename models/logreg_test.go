package models_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/openchurn/churn/models"
)

// logitData simulates n rows of a logistic model: numeric features
// x_j ~ N(mean[j], sd[j]) and labels y ~ Bernoulli(σ(intercept + Σ β_j x_j)).
// A fraction missing of the feature values, drawn after the labels, is NaN.
func logitData(n int, intercept float64, beta, mean, sd []float64, missing float64, seed uint64) *models.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &models.Dataset{Labels: make([]float64, n)}
	for j := range beta {
		d.Schema = append(d.Schema, models.Feature{Name: "x" + string(rune('a'+j)), Kind: models.Numeric})
		d.Columns = append(d.Columns, make([]float64, n))
	}
	for i := range n {
		z := intercept
		for j, b := range beta {
			x := mean[j] + sd[j]*rng.NormFloat64()
			d.Columns[j][i] = x
			z += b * x
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			d.Labels[i] = 1
		}
		for j := range beta {
			if rng.Float64() < missing {
				d.Columns[j][i] = math.NaN()
			}
		}
	}
	return d
}

// rawScale converts a model's standardised coefficients of numeric
// features back to the scale of the inputs.
func rawScale(m *models.LogReg) (intercept float64, beta []float64) {
	intercept = m.Intercept
	for _, t := range m.Terms {
		b := t.Coef[0] / t.Scale[0]
		beta = append(beta, b)
		intercept -= b * t.Mean[0]
	}
	return intercept, beta
}

func TestFitLogRegRecoversCoefficients(t *testing.T) {
	beta := []float64{1.5, -2, 0.5}
	mean := []float64{3, -1, 10}
	sd := []float64{1, 0.5, 4}
	const intercept = -11.5 // centres the linear predictor near zero
	train := logitData(40000, intercept, beta, mean, sd, 0, 1)
	for _, tc := range []struct {
		name   string
		params models.LogRegParams
	}{
		{"ridge L-BFGS", models.LogRegParams{Lambda: 1e-6, MaxIterations: 500, Tolerance: 1e-8}},
		{"elastic net FISTA", models.LogRegParams{Lambda: 1e-6, L1Ratio: 0.5, MaxIterations: 5000, Tolerance: 1e-7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := models.FitLogReg(train, tc.params)
			if err != nil {
				t.Fatal(err)
			}
			b0, b := rawScale(m)
			// With 40000 rows the standard errors are about 0.02 for the
			// coefficients and 0.2 for the intercept.
			if math.Abs(b0-intercept) > 0.4 {
				t.Errorf("intercept = %.3f, want %.3f", b0, intercept)
			}
			for j := range beta {
				if math.Abs(b[j]-beta[j]) > 0.06 {
					t.Errorf("beta[%d] = %.3f, want %.3f", j, b[j], beta[j])
				}
			}
		})
	}
}

func TestFitLogRegL1ZeroesIrrelevantFeatures(t *testing.T) {
	beta := []float64{2, -1.5, 1, 0, 0, 0, 0, 0}
	mean := make([]float64, len(beta))
	sd := []float64{1, 1, 1, 1, 2, 0.5, 3, 1}
	train := logitData(5000, 0.3, beta, mean, sd, 0, 2)
	for _, l1Ratio := range []float64{1, 0.8} {
		m, err := models.FitLogReg(train, models.LogRegParams{Lambda: 0.03, L1Ratio: l1Ratio, MaxIterations: 5000, Tolerance: 1e-8})
		if err != nil {
			t.Fatal(err)
		}
		for j, b := range beta {
			c := m.Coefficients(j)[0]
			if (b == 0) != (c == 0) {
				t.Errorf("L1Ratio %v: feature %d: coefficient %v, true %v", l1Ratio, j, c, b)
			}
		}
	}
	// The same data under ridge leaves every coefficient non-zero.
	m, err := models.FitLogReg(train, models.DefaultLogRegParams())
	if err != nil {
		t.Fatal(err)
	}
	for j := range beta {
		if m.Coefficients(j)[0] == 0 {
			t.Errorf("ridge: feature %d coefficient is exactly zero", j)
		}
	}
}

// mixedData has a numeric feature with missing values and a categorical
// feature with three categories whose effects are known.
func mixedData(n int, seed uint64) *models.Dataset {
	rng := rand.New(rand.NewPCG(seed, 2))
	effect := []float64{-1, 0, 1.5}
	d := &models.Dataset{
		Schema: models.Schema{
			{Name: "usage", Kind: models.Numeric, Group: "usage"},
			{Name: "plan", Kind: models.Categorical, Group: "commercial", Categories: []string{"free", "pro", "enterprise"}},
			{Name: "tickets", Kind: models.Numeric, Group: "support"},
		},
		Columns: [][]float64{make([]float64, n), make([]float64, n), make([]float64, n)},
		Labels:  make([]float64, n),
	}
	for i := range n {
		u, c, k := rng.NormFloat64(), rng.IntN(3), float64(rng.IntN(5))
		d.Columns[0][i], d.Columns[1][i], d.Columns[2][i] = u, float64(c), k
		if rng.Float64() < 1/(1+math.Exp(-(u+effect[c]-0.3*k))) {
			d.Labels[i] = 1
		}
		if rng.Float64() < 0.1 {
			d.Columns[0][i] = math.NaN()
		}
		if rng.Float64() < 0.05 {
			d.Columns[1][i] = math.NaN()
		}
	}
	return d
}

func TestLogRegCategoricalAndMissing(t *testing.T) {
	train := mixedData(20000, 3)
	m, err := models.FitLogReg(train, models.DefaultLogRegParams())
	if err != nil {
		t.Fatal(err)
	}
	// Category effects are recovered up to a common shift: compare the
	// differences to the reference category on the log-odds scale.
	row := []float64{0, 0, 2}
	base := m.Raw(row)
	for c, want := range []float64{0, 1, 2.5} {
		row[1] = float64(c)
		if got := m.Raw(row) - base; math.Abs(got-want) > 0.15 {
			t.Errorf("category %d effect = %.3f, want %.3f", c, got, want)
		}
	}
	// A missing value is imputed with the training mean: it contributes 0.
	contrib := m.Contributions([]float64{math.NaN(), math.NaN(), 1}, nil)
	if contrib[0] != 0 || contrib[1] != 0 || contrib[2] == 0 {
		t.Errorf("contributions with missing values = %v, want [0 0 non-zero]", contrib)
	}
}

func TestLogRegContributionsAddUpToRaw(t *testing.T) {
	train := mixedData(2000, 4)
	m, err := models.FitLogReg(train, models.DefaultLogRegParams())
	if err != nil {
		t.Fatal(err)
	}
	row := make([]float64, len(train.Schema))
	contrib := make([]float64, len(train.Schema))
	var mean float64
	for i := range train.Rows() {
		train.Row(i, row)
		m.Contributions(row, contrib)
		s := m.ExpectedValue()
		for _, c := range contrib {
			s += c
		}
		if raw := m.Raw(row); s != raw {
			t.Fatalf("row %d: expected value + contributions = %v, raw = %v", i, s, raw)
		}
		mean += contrib[0] + contrib[1] + contrib[2]
	}
	// Centring makes contributions average zero over the training data.
	if mean /= float64(train.Rows()); math.Abs(mean) > 1e-9 {
		t.Errorf("mean total contribution = %v, want 0", mean)
	}
}

func TestFitLogRegErrors(t *testing.T) {
	good := logitData(100, 0, []float64{1}, []float64{0}, []float64{1}, 0, 5)
	oneClass := logitData(10, 0, []float64{1}, []float64{0}, []float64{1}, 0, 5)
	for i := range oneClass.Labels {
		oneClass.Labels[i] = 1
	}
	unlabelled := &models.Dataset{Schema: good.Schema, Columns: good.Columns}
	for _, tc := range []struct {
		name   string
		data   *models.Dataset
		params func(*models.LogRegParams)
		want   string
	}{
		{"negative lambda", good, func(p *models.LogRegParams) { p.Lambda = -1 }, "Lambda"},
		{"l1 ratio above one", good, func(p *models.LogRegParams) { p.L1Ratio = 1.5 }, "L1Ratio"},
		{"no iterations", good, func(p *models.LogRegParams) { p.MaxIterations = 0 }, "MaxIterations"},
		{"one class", oneClass, func(*models.LogRegParams) {}, "both classes"},
		{"no labels", unlabelled, func(*models.LogRegParams) {}, "no labels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := models.DefaultLogRegParams()
			tc.params(&p)
			_, err := models.FitLogReg(tc.data, p)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
