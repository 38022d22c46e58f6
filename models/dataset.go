package models

import (
	"errors"
	"fmt"
	"math"
)

// Kind says how a feature's values are to be read.
type Kind int

const (
	// Numeric features hold real values; NaN marks a missing value.
	Numeric Kind = iota
	// Categorical features hold dictionary codes 0, 1, …, len(Categories)-1
	// stored as float64; NaN marks a missing value.
	Categorical
)

// String returns "numeric" or "categorical".
func (k Kind) String() string {
	switch k {
	case Numeric:
		return "numeric"
	case Categorical:
		return "categorical"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Feature describes one input column of a model.
type Feature struct {
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Group names the family the feature belongs to (usage, support,
	// sentiment, commercial, trial, firmographic). Explanations are summed
	// by group. It may be empty.
	Group string `json:"group,omitempty"`
	// Categories is the dictionary of a categorical feature: code i stands
	// for Categories[i]. It is nil for numeric features.
	Categories []string `json:"categories,omitempty"`
}

// Schema is the ordered list of features a model was fitted on. A vector
// given to a model must have exactly these features in this order.
type Schema []Feature

// Names returns the feature names in order.
func (s Schema) Names() []string {
	names := make([]string, len(s))
	for i, f := range s {
		names[i] = f.Name
	}
	return names
}

// Equal reports whether s and o name the same features, of the same kinds
// and categories, in the same order.
func (s Schema) Equal(o Schema) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		a, b := s[i], o[i]
		if a.Name != b.Name || a.Kind != b.Kind || len(a.Categories) != len(b.Categories) {
			return false
		}
		for j := range a.Categories {
			if a.Categories[j] != b.Categories[j] {
				return false
			}
		}
	}
	return true
}

// CheckRow returns an error unless row has one value per feature of s and
// every categorical value is a known code or NaN.
func (s Schema) CheckRow(row []float64) error {
	if len(row) != len(s) {
		return fmt.Errorf("models: vector has %d values, schema has %d features", len(row), len(s))
	}
	for j, f := range s {
		if f.Kind != Categorical || math.IsNaN(row[j]) {
			continue
		}
		v := row[j]
		if v < 0 || v >= float64(len(f.Categories)) || v != math.Trunc(v) {
			return fmt.Errorf("models: feature %q: %v is not a category code (have %d categories)", f.Name, v, len(f.Categories))
		}
	}
	return nil
}

// Dataset is a dense, column-major table of features with optional binary
// labels and sample weights.
//
// Columns[j][i] is the value of feature j in row i. Missing values are NaN.
// Categorical columns hold dictionary codes as described by Schema[j].
type Dataset struct {
	Schema  Schema
	Columns [][]float64
	// Labels holds 0 or 1 per row. It is nil for data that is only scored.
	Labels []float64
	// Weights holds a non-negative weight per row, or is nil for unit weights.
	Weights []float64
}

// Rows returns the number of rows.
func (d *Dataset) Rows() int {
	if len(d.Columns) == 0 {
		return len(d.Labels)
	}
	return len(d.Columns[0])
}

// Row copies row i into dst, which must have len(d.Schema) elements, and
// returns it. A nil dst is allocated.
func (d *Dataset) Row(i int, dst []float64) []float64 {
	if dst == nil {
		dst = make([]float64, len(d.Columns))
	}
	for j, col := range d.Columns {
		dst[j] = col[i]
	}
	return dst
}

// Weight returns the weight of row i: 1 when the dataset has no weights.
func (d *Dataset) Weight(i int) float64 {
	if d.Weights == nil {
		return 1
	}
	return d.Weights[i]
}

// Validate checks that the dataset is rectangular, that labels are 0 or 1,
// that weights are finite and non-negative, and that categorical codes are
// in range.
func (d *Dataset) Validate() error {
	if err := d.check(); err != nil {
		return fmt.Errorf("models: %w", err)
	}
	return nil
}

// check is Validate without the package's prefix, for the learners,
// which add their own.
func (d *Dataset) check() error {
	if len(d.Columns) != len(d.Schema) {
		return fmt.Errorf("dataset has %d columns but %d features", len(d.Columns), len(d.Schema))
	}
	n := d.Rows()
	for j, col := range d.Columns {
		if len(col) != n {
			return fmt.Errorf("column %q has %d rows, want %d", d.Schema[j].Name, len(col), n)
		}
		if d.Schema[j].Kind != Categorical {
			continue
		}
		limit := float64(len(d.Schema[j].Categories))
		for i, v := range col {
			if !math.IsNaN(v) && (v < 0 || v >= limit || v != math.Trunc(v)) {
				return fmt.Errorf("column %q row %d: %v is not a category code", d.Schema[j].Name, i, v)
			}
		}
	}
	if d.Labels != nil {
		if len(d.Labels) != n {
			return fmt.Errorf("%d labels for %d rows", len(d.Labels), n)
		}
		for i, y := range d.Labels {
			if y != 0 && y != 1 {
				return fmt.Errorf("label of row %d is %v, want 0 or 1", i, y)
			}
		}
	}
	if d.Weights != nil {
		if len(d.Weights) != n {
			return fmt.Errorf("%d weights for %d rows", len(d.Weights), n)
		}
		for i, w := range d.Weights {
			if !(w >= 0) || math.IsInf(w, 0) {
				return fmt.Errorf("weight of row %d is %v, want finite and non-negative", i, w)
			}
		}
	}
	return nil
}

// Subset returns a new dataset holding the given rows, in that order.
func (d *Dataset) Subset(rows []int) *Dataset {
	out := &Dataset{Schema: d.Schema, Columns: make([][]float64, len(d.Columns))}
	for j, col := range d.Columns {
		c := make([]float64, len(rows))
		for k, i := range rows {
			c[k] = col[i]
		}
		out.Columns[j] = c
	}
	if d.Labels != nil {
		out.Labels = make([]float64, len(rows))
		for k, i := range rows {
			out.Labels[k] = d.Labels[i]
		}
	}
	if d.Weights != nil {
		out.Weights = make([]float64, len(rows))
		for k, i := range rows {
			out.Weights[k] = d.Weights[i]
		}
	}
	return out
}

// ErrNoLabels is returned, wrapped, by learners given a dataset without
// labels.
var ErrNoLabels = errors.New("dataset has no labels")

// checkTrainingData checks that d is a valid, labelled dataset.
func checkTrainingData(d *Dataset) error {
	if d == nil {
		return errors.New("dataset is nil")
	}
	if err := d.check(); err != nil {
		return err
	}
	if d.Labels == nil {
		return ErrNoLabels
	}
	return nil
}
