package models

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// OtherGroup is the group under which SumByGroup reports features whose
// Group is empty.
const OtherGroup = "other"

// GroupContribution is the summed contribution of one feature group.
type GroupContribution struct {
	Group string  `json:"group"`
	Value float64 `json:"value"`
}

// SumByGroup adds up per-feature contributions, as returned by
// Model.Contributions, by the features' Group, and returns one total per
// group in the order the groups first appear in schema. Features without a
// group are summed under OtherGroup. The totals add up to the sum of
// contributions, so with the model's ExpectedValue they still add up to
// the raw score.
//
// SumByGroup panics if contributions does not have one value per feature,
// which is a programming error.
func SumByGroup(schema Schema, contributions []float64) []GroupContribution {
	if len(contributions) != len(schema) {
		panic(fmt.Sprintf("models: SumByGroup: %d contributions for %d features", len(contributions), len(schema)))
	}
	var out []GroupContribution
	index := make(map[string]int)
	for j, f := range schema {
		g := cmp.Or(f.Group, OtherGroup)
		k, ok := index[g]
		if !ok {
			k = len(out)
			index[g] = k
			out = append(out, GroupContribution{Group: g})
		}
		out[k].Value += contributions[j]
	}
	return out
}

// FeatureContribution is the contribution of one feature to a score.
type FeatureContribution struct {
	Feature string  `json:"feature"`
	Value   float64 `json:"value"`
}

// TopContributions returns the n features with the largest absolute
// contributions, largest first; ties keep schema order. Features that
// contribute exactly zero are left out, so fewer than n may be returned;
// n ≤ 0 returns none.
// It panics if contributions does not have one value per feature.
func TopContributions(schema Schema, contributions []float64, n int) []FeatureContribution {
	if len(contributions) != len(schema) {
		panic(fmt.Sprintf("models: TopContributions: %d contributions for %d features", len(contributions), len(schema)))
	}
	ranked := RankContributions(contributions)
	out := make([]FeatureContribution, min(max(n, 0), len(ranked)))
	for k := range out {
		j := ranked[k]
		out[k] = FeatureContribution{Feature: schema[j].Name, Value: contributions[j]}
	}
	return out
}

// RankContributions returns the positions of the features that contribute
// other than exactly zero, by decreasing absolute contribution; ties keep
// schema order. It is the order of TopContributions, for callers that
// want the features' positions rather than their names.
func RankContributions(contributions []float64) []int {
	var out []int
	for j, c := range contributions {
		if c != 0 {
			out = append(out, j)
		}
	}
	slices.SortStableFunc(out, func(a, b int) int {
		return cmp.Compare(math.Abs(contributions[b]), math.Abs(contributions[a]))
	})
	return out
}
