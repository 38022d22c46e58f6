package models_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/openchurn/churn/models"
)

// blendArtifact blends the bag of bagArtifact with a logistic regression
// on the same data, the trees weighing 0.3.
func blendArtifact(t testing.TB) (*models.Artifact, *models.Dataset) {
	t.Helper()
	bagged, data := bagArtifact(t)
	lin, err := models.FitLogReg(data, models.DefaultLogRegParams())
	if err != nil {
		t.Fatal(err)
	}
	b := &models.Blend{Trees: bagged.Model.(*models.Bag[*models.GBDT]), Linear: lin, Weight: 0.3}
	return &models.Artifact{Algorithm: models.AlgorithmBlend, Model: b,
		Params: models.BlendParams{Trees: bagged.Params.(models.GBDTParams), Linear: models.DefaultLogRegParams()}}, data
}

// TestBlendExplainsExactly checks that the blend's raw score is the
// weighted mean of its members' and that its expected value and
// contributions sum to it.
func TestBlendExplainsExactly(t *testing.T) {
	a, data := blendArtifact(t)
	b := a.Model.(*models.Blend)
	raw := b.PredictRaw(data, nil)
	row := make([]float64, len(data.Schema))
	for i := range 100 {
		data.Row(i, row)
		want := 0.3*b.Trees.Raw(row) + 0.7*b.Linear.Raw(row)
		sum := b.ExpectedValue()
		for _, c := range b.Contributions(row, nil) {
			sum += c
		}
		if r := b.Raw(row); math.Abs(r-want) > 1e-12 || math.Abs(raw[i]-r) > 1e-12 || math.Abs(sum-r) > 1e-9 {
			t.Fatalf("row %d: Raw %v, PredictRaw %v, weighted members %v, expected value + contributions %v", i, r, raw[i], want, sum)
		}
	}
}

func TestBlendArtifactRoundTrip(t *testing.T) {
	a, data := blendArtifact(t)
	got, err := models.DecodeArtifact(bytes.NewReader(encode(t, a)))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := a.PredictDataset(data, nil)
	p, err := got.PredictDataset(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Float64bits(p[i]) != math.Float64bits(want[i]) {
			t.Fatalf("row %d: %v after round trip, %v before", i, p[i], want[i])
		}
	}
	if _, ok := got.Params.(models.BlendParams); !ok {
		t.Errorf("params decoded as %T, want BlendParams", got.Params)
	}
}

func TestBlendValidate(t *testing.T) {
	a, _ := blendArtifact(t)
	b := *a.Model.(*models.Blend)
	for _, tc := range []struct {
		name  string
		blend models.Blend
		ok    bool
	}{
		{"fitted", b, true},
		{"weight above 1", models.Blend{Trees: b.Trees, Linear: b.Linear, Weight: 1.5}, false},
		{"weight NaN", models.Blend{Trees: b.Trees, Linear: b.Linear, Weight: math.NaN()}, false},
		{"no trees", models.Blend{Linear: b.Linear, Weight: 0.5}, false},
		{"no regression", models.Blend{Trees: b.Trees, Weight: 0.5}, false},
	} {
		if err := tc.blend.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
