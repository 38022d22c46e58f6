package models

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
