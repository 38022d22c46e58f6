package features

import (
	"math"
	"time"
)

// Vector is one account's features as of one time, in catalog order
// (Config.Catalog). Missing values are NaN; categorical values are codes
// into the feature's Categories.
type Vector struct {
	AccountID string
	// AsOf is the time the vector looks from: only records known strictly
	// before it were read.
	AsOf time.Time
	// Version is the CatalogVersion the vector was built by.
	Version string
	Values  []float64
}

// Value returns the named feature's value, or NaN when the catalog has no
// such feature.
func (v *Vector) Value(name string) float64 {
	if i := FeatureIndex(name); i >= 0 && i < len(v.Values) {
		return v.Values[i]
	}
	return math.NaN()
}

// Paying reports whether the account was a paying customer at AsOf: its
// latest billing change before AsOf leaves it with a positive MRR. A churn
// sets MRR to zero; an account without billing data is never paying.
func (v *Vector) Paying() bool {
	return len(v.Values) >= numFeatures && v.Values[fMRR] > 0
}

// InTrial reports whether the account was in a running trial at AsOf:
// started, not converted, and with days left.
func (v *Vector) InTrial() bool {
	return len(v.Values) >= numFeatures && v.Values[fTrialDaysLeft] > 0
}
