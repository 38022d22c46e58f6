package models_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/openchurn/churn/models"
)

func TestSumByGroup(t *testing.T) {
	schema := models.Schema{
		{Name: "active_days", Group: "usage"},
		{Name: "tickets", Group: "support"},
		{Name: "seats"},
		{Name: "dau_mau", Group: "usage"},
	}
	for _, tc := range []struct {
		name    string
		contrib []float64
		want    []models.GroupContribution
	}{
		{"mixed signs", []float64{0.5, -1, 0.25, -0.125}, []models.GroupContribution{{"usage", 0.375}, {"support", -1}, {models.OtherGroup, 0.25}}},
		{"all zero", []float64{0, 0, 0, 0}, []models.GroupContribution{{"usage", 0}, {"support", 0}, {models.OtherGroup, 0}}},
	} {
		if got := models.SumByGroup(schema, tc.contrib); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: SumByGroup = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTopContributions(t *testing.T) {
	schema := models.Schema{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}}
	contrib := []float64{0.5, -2, 0, -0.5}
	for _, tc := range []struct {
		n    int
		want []models.FeatureContribution
	}{
		{2, []models.FeatureContribution{{"b", -2}, {"a", 0.5}}},
		{10, []models.FeatureContribution{{"b", -2}, {"a", 0.5}, {"d", -0.5}}},
		{0, []models.FeatureContribution{}},
	} {
		got := models.TopContributions(schema, contrib, tc.n)
		if len(got) != len(tc.want) || (len(got) > 0 && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("TopContributions(n=%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestRankContributions(t *testing.T) {
	for _, tc := range []struct {
		contrib []float64
		want    []int
	}{
		{[]float64{0.5, -2, 0, -0.5}, []int{1, 0, 3}}, // a tie keeps schema order
		{[]float64{0, 0}, nil},
		{[]float64{-1e-300, 3, -3}, []int{1, 2, 0}},
	} {
		if got := models.RankContributions(tc.contrib); !slices.Equal(got, tc.want) {
			t.Errorf("RankContributions(%v) = %v, want %v", tc.contrib, got, tc.want)
		}
	}
}
