package table_test

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/training/metrics"
	"github.com/openchurn/churn/training/table"
)

// interactions simulates a churn table whose label depends on an
// interaction that a linear model cannot express, plus a categorical
// feature of many categories that is pure noise.
func interactions(n int, seed uint64) *models.Dataset {
	rng := rand.New(rand.NewPCG(seed, 9))
	noise := make([]string, 40)
	for c := range noise {
		noise[c] = string(rune('A'+c%26)) + string(rune('a'+c/26))
	}
	d := &models.Dataset{
		Schema: models.Schema{
			{Name: "usage", Kind: models.Numeric},
			{Name: "tickets", Kind: models.Numeric},
			{Name: "region", Kind: models.Categorical, Categories: noise},
		},
		Columns: [][]float64{make([]float64, n), make([]float64, n), make([]float64, n)},
		Labels:  make([]float64, n),
	}
	for i := range n {
		u, k := rng.NormFloat64(), rng.NormFloat64()
		d.Columns[0][i], d.Columns[1][i], d.Columns[2][i] = u, k, float64(rng.IntN(len(noise)))
		z := -1.0
		if u < 0 && k > 0 { // low usage and many tickets
			z = 2
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			d.Labels[i] = 1
		}
	}
	return d
}

func TestFit(t *testing.T) {
	train, test := interactions(1500, 1), interactions(1500, 2)
	for _, tc := range []struct {
		algorithm string
		want      string
		minAUC    float64
	}{
		{table.Auto, models.AlgorithmBlend, 0.72}, // the Bayes rate allows about 0.74
		{models.AlgorithmGBDT, models.AlgorithmGBDTBag, 0.72},
		{models.AlgorithmLogReg, models.AlgorithmLogReg, 0.6},
	} {
		t.Run(tc.algorithm, func(t *testing.T) {
			opt := table.DefaultOptions()
			opt.Algorithm = tc.algorithm
			res, err := table.Fit(context.Background(), train, opt)
			if err != nil {
				t.Fatal(err)
			}
			a := res.Artifact
			if a.Algorithm != tc.want || res.Chosen.Algorithm != tc.want {
				t.Errorf("algorithm = %s, want %s", a.Algorithm, tc.want)
			}
			if tc.algorithm == table.Auto {
				checkAuto(t, res)
			}
			if a.Metadata.Metrics["log_loss"] != res.Chosen.Validation.LogLoss {
				t.Errorf("metadata metrics %v differ from validation %+v", a.Metadata.Metrics, res.Chosen.Validation)
			}
			p, err := a.PredictDataset(test, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := metrics.Evaluate(test.Labels, p, nil)
			if got.AUC < tc.minAUC {
				t.Errorf("held-out AUC %.3f, want at least %.2f", got.AUC, tc.minAUC)
			}
			// Out-of-fold validation estimates held-out quality honestly.
			if v := res.Chosen.Validation; math.Abs(v.AUC-got.AUC) > 0.03 || math.Abs(v.LogLoss-got.LogLoss) > 0.03 {
				t.Errorf("validation %+v far from held-out %+v", v, got)
			}
			var buf bytes.Buffer
			if err := models.EncodeArtifact(&buf, a); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFitScreensNoisyWideCategorical(t *testing.T) {
	opt := table.DefaultOptions()
	opt.Algorithm = models.AlgorithmGBDT
	res, err := table.Fit(context.Background(), interactions(1500, 3), opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Chosen.Masked; len(got) != 1 || got[0] != "region" {
		t.Errorf("masked %v, want [region]", got)
	}
	// A masked feature contributes nothing to any score.
	row := []float64{-1, 1, 5}
	if c := res.Artifact.Model.Contributions(row, nil); c[2] != 0 {
		t.Errorf("contribution of masked feature = %v, want 0", c[2])
	}
}

// TestFitScreensGroupsAndPenalties checks group screening and the choice
// of the ridge penalty on a small linear table with many noise columns:
// logistic regression masks the group of noise as a whole but not a group
// holding the signal, and keeps a penalty of the grid.
func TestFitScreensGroupsAndPenalties(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	const n, noisy = 400, 60
	d := &models.Dataset{Labels: make([]float64, n)}
	var noise, signal []string
	for j := range 2 + noisy {
		name := "noise" + strings.Repeat("x", j)
		if j < 2 {
			name = []string{"usage", "tickets"}[j]
			signal = append(signal, name)
		} else {
			noise = append(noise, name)
		}
		d.Schema = append(d.Schema, models.Feature{Name: name, Kind: models.Numeric})
		col := make([]float64, n)
		for i := range col {
			col[i] = rng.NormFloat64()
		}
		d.Columns = append(d.Columns, col)
	}
	for i := range n {
		if rng.Float64() < 1/(1+math.Exp(-(-1-1.5*d.Columns[0][i]+d.Columns[1][i]))) {
			d.Labels[i] = 1
		}
	}
	opt := table.DefaultOptions()
	opt.Algorithm = models.AlgorithmLogReg
	opt.Screen = []table.FeatureGroup{{Name: "signal", Features: signal}, {Name: "noise", Features: append(noise, "absent")}}
	res, err := table.Fit(context.Background(), d, opt)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Chosen
	if len(c.MaskedGroups) != 1 || c.MaskedGroups[0] != "noise" || len(c.Masked) != noisy {
		t.Errorf("masked groups %v and %d features, want [noise] and its %d features", c.MaskedGroups, len(c.Masked), noisy)
	}
	if res.Artifact.Metadata.Extra["masked_groups"] != "noise" {
		t.Errorf("artifact extra %v, want masked_groups noise", res.Artifact.Metadata.Extra)
	}
	if !slices.Contains(table.DefaultLogRegLambdas, c.Lambda) || res.Artifact.Params.(models.LogRegParams).Lambda != c.Lambda {
		t.Errorf("lambda %v (artifact %+v), want one of %v, the artifact's", c.Lambda, res.Artifact.Params, table.DefaultLogRegLambdas)
	}
	row := make([]float64, len(d.Schema))
	row[0], row[5] = -1, 3
	if contrib := res.Artifact.Model.Contributions(row, nil); contrib[5] != 0 || contrib[0] == 0 {
		t.Errorf("contributions of usage %v and a masked noise column %v; want non-zero and 0", contrib[0], contrib[5])
	}
	// A single penalty is the one used.
	opt.Screen, opt.LogRegLambdas = nil, []float64{0.5}
	if res, err = table.Fit(context.Background(), d, opt); err != nil {
		t.Fatal(err)
	}
	if res.Chosen.Lambda != 0.5 {
		t.Errorf("lambda %v, want 0.5", res.Chosen.Lambda)
	}
}

func TestFitErrors(t *testing.T) {
	tiny := interactions(3, 4)
	for _, tc := range []struct {
		name string
		data *models.Dataset
		opt  func(*table.Options)
		want string
	}{
		{"unknown algorithm", tiny, func(o *table.Options) { o.Algorithm = "forest" }, "unknown algorithm"},
		{"one fold", tiny, func(o *table.Options) { o.Folds = 1 }, "at least 2"},
		{"too few rows", tiny, func(*table.Options) {}, "too few"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := table.DefaultOptions()
			tc.opt(&opt)
			_, err := table.Fit(context.Background(), tc.data, opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestFitHoldout(t *testing.T) {
	d := interactions(3000, 5)
	// The first 2000 rows train and the next 500 validate; the last 500
	// are never shown to FitHoldout and test it.
	train, valid, test := seq(0, 2000), seq(2000, 2500), seq(2500, 3000)
	opt := table.DefaultOptions()
	opt.Bag = 1
	res, err := table.FitHoldout(context.Background(), d, train, valid, opt)
	if err != nil {
		t.Fatal(err)
	}
	a := res.Artifact
	if a.Metadata.Rows != len(train) {
		t.Errorf("artifact trained on %d rows, want %d", a.Metadata.Rows, len(train))
	}
	checkAuto(t, res)
	// Trees beat the linear model on an interaction, and the blend leans
	// on them.
	trees, linear, blend := res.Candidates[0], res.Candidates[1], res.Candidates[2]
	if trees.Validation.LogLoss >= linear.Validation.LogLoss || blend.TreeWeight < 0.5 {
		t.Errorf("trees %+v, linear %+v, blend %+v; want trees better than the linear model, and weighing at least half", trees, linear, blend)
	}
	td := d.Subset(test)
	p, err := a.PredictDataset(td, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := metrics.Evaluate(td.Labels, p, nil)
	if v := res.Chosen.Validation; got.AUC < 0.72 || math.Abs(v.AUC-got.AUC) > 0.06 {
		t.Errorf("test %+v, validation %+v", got, v)
	}
	if _, err := table.FitHoldout(context.Background(), d, train, nil, opt); err == nil {
		t.Error("FitHoldout accepted no validation rows")
	}
}

// seq returns the integers in [from, to).
func seq(from, to int) []int {
	s := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// checkAuto checks that auto evaluated the trees, the regression and
// their blend, in that order, and kept the one of lowest validation log
// loss; that a blend's weight is strictly between 0 and 1; and that the
// artifact's explanations stay exact.
func checkAuto(t *testing.T, res *table.Result) {
	t.Helper()
	var algos []string
	best := res.Candidates[0]
	for _, c := range res.Candidates {
		algos = append(algos, c.Algorithm)
		if c.Validation.LogLoss < best.Validation.LogLoss {
			best = c
		}
	}
	if len(algos) != 3 || algos[1] != models.AlgorithmLogReg || algos[2] != models.AlgorithmBlend {
		t.Fatalf("auto evaluated %v, want trees, logreg and blend", algos)
	}
	if res.Chosen.Algorithm != best.Algorithm || res.Artifact.Algorithm != best.Algorithm {
		t.Errorf("chose %s, but %s has the lowest validation log loss", res.Chosen.Algorithm, best.Algorithm)
	}
	if w := res.Candidates[2].TreeWeight; w <= 0 || w >= 1 {
		t.Errorf("blend weight %v, want in (0, 1)", w)
	}
	m := res.Artifact.Model
	row := make([]float64, len(m.Schema()))
	sum := m.ExpectedValue()
	for _, c := range m.Contributions(row, nil) {
		sum += c
	}
	if r := m.Raw(row); math.Abs(r-sum) > 1e-9 {
		t.Errorf("raw %v, expected value + contributions %v", r, sum)
	}
}
