package saas

import (
	"math"
	"strconv"
)

// Value is a figure that is either known or absent for a stated reason.
// It marshals to a JSON number, or null when absent.
type Value struct {
	v      float64
	reason string
	known  bool
}

// Known returns the known figure v.
func Known(v float64) Value { return Value{v: v, known: true} }

// Absent returns a figure that could not be computed, and why.
func Absent(reason string) Value { return Value{reason: reason} }

// ratio returns num ÷ den, or absent with reason when den is zero.
func ratio(num, den float64, reason string) Value {
	if den == 0 {
		return Absent(reason)
	}
	return Known(num / den)
}

// Float returns the figure and whether it is known.
func (v Value) Float() (float64, bool) { return v.v, v.known }

// Reason returns why the figure is absent, or "" when it is known.
func (v Value) Reason() string { return v.reason }

// String returns the figure in the shortest form that reads back
// exactly, or "" when absent.
func (v Value) String() string {
	if !v.known {
		return ""
	}
	return strconv.FormatFloat(v.v, 'f', -1, 64)
}

// MarshalJSON encodes a known figure as a number and an absent one as
// null. A figure that is not finite (which the reports never make) is
// null too, since JSON has no spelling for it.
func (v Value) MarshalJSON() ([]byte, error) {
	if !v.known || math.IsNaN(v.v) || math.IsInf(v.v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v.v, 'f', -1, 64), nil
}

// Absences maps a report row's figure names to the reasons they are
// absent. It is nil when every figure is known.
type Absences map[string]string

// note records v's reason under name when v is absent, and returns v.
func (a *Absences) note(name string, v Value) Value {
	if !v.known {
		if *a == nil {
			*a = Absences{}
		}
		(*a)[name] = v.reason
	}
	return v
}
