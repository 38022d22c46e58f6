package models_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/openchurn/churn/models"
)

// bagArtifact fits a bag of three small GBDTs on mixedData.
func bagArtifact(t testing.TB) (*models.Artifact, *models.Dataset) {
	t.Helper()
	data := mixedData(1000, 8)
	p := models.DefaultGBDTParams()
	p.Rounds, p.Subsample, p.ColSample = 30, 0.8, 0.8
	bag := &models.Bag[*models.GBDT]{}
	for s := range 3 {
		p.Seed = uint64(s)
		m, err := models.FitGBDT(data, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		bag.Members = append(bag.Members, m)
	}
	return &models.Artifact{Algorithm: models.AlgorithmGBDTBag, Model: bag, Params: p}, data
}

func TestBagAveragesMembers(t *testing.T) {
	a, data := bagArtifact(t)
	bag := a.Model.(*models.Bag[*models.GBDT])
	raw := bag.PredictRaw(data, nil)
	row := make([]float64, len(data.Schema))
	for i := range 50 {
		data.Row(i, row)
		var mean float64
		for _, m := range bag.Members {
			mean += m.Raw(row) / 3
		}
		sum := bag.ExpectedValue()
		for _, c := range bag.Contributions(row, nil) {
			sum += c
		}
		if r := bag.Raw(row); math.Abs(r-mean) > 1e-12 || math.Abs(raw[i]-r) > 1e-12 || math.Abs(sum-r) > 1e-9 {
			t.Fatalf("row %d: Raw %v, PredictRaw %v, member mean %v, expected value + contributions %v", i, r, raw[i], mean, sum)
		}
	}
}

func TestBagArtifactRoundTrip(t *testing.T) {
	a, data := bagArtifact(t)
	b, err := models.DecodeArtifact(bytes.NewReader(encode(t, a)))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := a.PredictDataset(data, nil)
	got, err := b.PredictDataset(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			t.Fatalf("row %d: %v after round trip, %v before", i, got[i], want[i])
		}
	}
	if _, ok := b.Params.(models.GBDTParams); !ok {
		t.Errorf("params decoded as %T, want GBDTParams", b.Params)
	}
}

func TestBagValidate(t *testing.T) {
	a, _ := bagArtifact(t)
	bag := a.Model.(*models.Bag[*models.GBDT])
	other := mixedData(200, 9)
	other.Schema = other.Schema[:2]
	other.Columns = other.Columns[:2]
	stranger, err := models.FitGBDT(other, nil, models.DefaultGBDTParams())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		members []*models.GBDT
		ok      bool
	}{
		{"fitted", bag.Members, true},
		{"empty", nil, false},
		{"null member", []*models.GBDT{bag.Members[0], nil}, false},
		{"different schema", []*models.GBDT{bag.Members[0], stranger}, false},
	} {
		b := &models.Bag[*models.GBDT]{Members: tc.members}
		if err := b.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
