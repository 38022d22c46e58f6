package models

import (
	"errors"
	"fmt"
	"math"
)

// AlgorithmBlend is a Blend of a GBDT bag and a logistic regression; its
// params are BlendParams.
const AlgorithmBlend = "blend"

// Blend is a weighted mean of a bag of trees and a logistic regression
// fitted on the same schema: its raw score, expected value and
// contributions are Weight times the trees' plus 1 − Weight times the
// regression's. The combination is linear in the members' raw scores, so
// the explanation stays exact: TreeSHAP values and coefficient terms,
// weighted, sum to the blend's raw score.
//
// Blend is JSON-marshalable; it implements Model.
type Blend struct {
	Trees  *Bag[*GBDT] `json:"trees"`
	Linear *LogReg     `json:"linear"`
	// Weight is the trees' share, in [0, 1].
	Weight float64 `json:"weight"`
}

// BlendParams are the members' parameters.
type BlendParams struct {
	Trees  GBDTParams   `json:"trees"`
	Linear LogRegParams `json:"linear"`
}

// Schema returns the members' schema.
func (b *Blend) Schema() Schema { return b.Linear.Schema() }

// Raw returns the weighted mean of the members' raw scores.
func (b *Blend) Raw(row []float64) float64 {
	return b.Weight*b.Trees.Raw(row) + (1-b.Weight)*b.Linear.Raw(row)
}

// ExpectedValue returns the weighted mean of the members' expected values.
func (b *Blend) ExpectedValue() float64 {
	return b.Weight*b.Trees.ExpectedValue() + (1-b.Weight)*b.Linear.ExpectedValue()
}

// Contributions writes the weighted mean of the members' contributions
// into dst, allocating it when nil, and returns it.
func (b *Blend) Contributions(row, dst []float64) []float64 {
	n := len(b.Schema())
	dst = b.Trees.Contributions(row, dst)
	lin := b.Linear.Contributions(row, make([]float64, n))
	for j := range dst[:n] {
		dst[j] = b.Weight*dst[j] + (1-b.Weight)*lin[j]
	}
	return dst
}

// PredictRaw writes the blend's raw score of every row of d into dst,
// allocating it when nil, and returns it.
func (b *Blend) PredictRaw(d *Dataset, dst []float64) []float64 {
	dst = b.Trees.PredictRaw(d, dst)
	lin := b.Linear.PredictRaw(d, nil)
	for i := range dst[:d.Rows()] {
		dst[i] = b.Weight*dst[i] + (1-b.Weight)*lin[i]
	}
	return dst
}

// Validate checks the weight and the members, and that they share one
// schema.
func (b *Blend) Validate() error {
	switch {
	case b.Trees == nil || b.Linear == nil:
		return errors.New("models: blend lacks a member")
	case math.IsNaN(b.Weight) || b.Weight < 0 || b.Weight > 1:
		return fmt.Errorf("models: blend weight %v is not in [0, 1]", b.Weight)
	}
	if err := b.Trees.Validate(); err != nil {
		return err
	}
	if err := b.Linear.Validate(); err != nil {
		return err
	}
	if !b.Trees.Schema().Equal(b.Linear.Schema()) {
		return errors.New("models: blend members have different schemas")
	}
	return nil
}
