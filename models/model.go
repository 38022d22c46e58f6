package models

import (
	"errors"
	"fmt"
	"reflect"
)

// Model is what every fitted learner in this package provides: a raw score
// on the log-odds scale and an additive explanation of it.
//
// Implementations guarantee that, for any row accepted by Schema().CheckRow,
//
//	Raw(row) == ExpectedValue() + c[0] + c[1] + … + c[len(c)-1]
//
// up to floating-point rounding, where c = Contributions(row, nil). Callers
// that need a row checked against the schema use an Artifact, which refuses
// malformed vectors; the Model methods themselves assume a valid row.
type Model interface {
	// Schema returns the features the model was fitted on, in order.
	Schema() Schema
	// Raw returns the uncalibrated score of row on the log-odds scale.
	Raw(row []float64) float64
	// ExpectedValue returns the score the model gives when every feature
	// contributes nothing: the base value of its explanations.
	ExpectedValue() float64
	// Contributions writes the signed contribution of each feature to
	// Raw(row) into dst, which must have len(Schema()) elements or be nil,
	// and returns it. A nil dst is allocated.
	Contributions(row, dst []float64) []float64
}

// Bag averages models of one kind fitted on the same schema, typically
// with different random seeds: its raw score, expected value and
// contributions are the means of its members'. Averaging keeps
// explanations additive and lowers the variance that row and column
// sampling bring.
//
// Bag is JSON-marshalable when M is; it implements Model.
type Bag[M Model] struct {
	Members []M `json:"members"`
}

// Schema returns the members' schema.
func (b *Bag[M]) Schema() Schema { return b.Members[0].Schema() }

// Raw returns the mean raw score of the members.
func (b *Bag[M]) Raw(row []float64) float64 {
	var s float64
	for _, m := range b.Members {
		s += m.Raw(row)
	}
	return s / float64(len(b.Members))
}

// ExpectedValue returns the mean expected value of the members.
func (b *Bag[M]) ExpectedValue() float64 {
	var s float64
	for _, m := range b.Members {
		s += m.ExpectedValue()
	}
	return s / float64(len(b.Members))
}

// Contributions writes the members' mean contributions into dst,
// allocating it when nil, and returns it.
func (b *Bag[M]) Contributions(row, dst []float64) []float64 {
	n := len(b.Schema())
	if dst == nil {
		dst = make([]float64, n)
	}
	clear(dst[:n])
	tmp := make([]float64, n)
	for _, m := range b.Members {
		for j, c := range m.Contributions(row, tmp) {
			dst[j] += c
		}
	}
	for j := range dst[:n] {
		dst[j] /= float64(len(b.Members))
	}
	return dst
}

// PredictRaw writes the mean raw score of every row of d into dst,
// allocating it when nil, and returns it. Members that can score a whole
// dataset at once do so.
func (b *Bag[M]) PredictRaw(d *Dataset, dst []float64) []float64 {
	n := d.Rows()
	if dst == nil {
		dst = make([]float64, n)
	}
	clear(dst[:n])
	tmp := make([]float64, n)
	row := make([]float64, len(d.Columns))
	for _, m := range b.Members {
		if p, ok := any(m).(interface {
			PredictRaw(*Dataset, []float64) []float64
		}); ok {
			p.PredictRaw(d, tmp)
		} else {
			for i := range n {
				tmp[i] = m.Raw(d.Row(i, row))
			}
		}
		for i, r := range tmp {
			dst[i] += r
		}
	}
	for i := range dst[:n] {
		dst[i] /= float64(len(b.Members))
	}
	return dst
}

// Validate checks that the bag has members, that they share one schema,
// and that each passes its own validation, if it has one.
func (b *Bag[M]) Validate() error {
	if len(b.Members) == 0 {
		return errors.New("models: bag has no members")
	}
	for i, m := range b.Members {
		if v := reflect.ValueOf(m); !v.IsValid() || v.Kind() == reflect.Pointer && v.IsNil() {
			return fmt.Errorf("models: bag member %d is null", i)
		}
		if !m.Schema().Equal(b.Members[0].Schema()) {
			return fmt.Errorf("models: bag member %d has a different schema", i)
		}
		if v, ok := any(m).(interface{ Validate() error }); ok {
			if err := v.Validate(); err != nil {
				return fmt.Errorf("models: bag member %d: %w", i, err)
			}
		}
	}
	return nil
}
