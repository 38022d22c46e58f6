package score

import (
	"math"
	"strconv"
)

// Reason is one feature's part in a score.
type Reason struct {
	// Feature names the catalog feature; Description is its one-line
	// description and Group its group (usage, support, …).
	Feature     string `json:"feature"`
	Description string `json:"description,omitempty"`
	Group       string `json:"group"`
	// Value is the account's value, nil when missing, and Missing the
	// catalog's note of what a missing value means. Category names the
	// value of a categorical feature.
	Value    *float64 `json:"value"`
	Missing  string   `json:"missing,omitempty"`
	Category string   `json:"category,omitempty"`
	// Typical is the median over the model's reference accounts, nil when
	// unknown or for a categorical feature.
	Typical *float64 `json:"typical"`
	// Contribution is the feature's signed part in the score's log-odds.
	Contribution float64 `json:"contribution"`
}

// Effect is the direction in which a reason moves its score's
// probability.
type Effect string

// The effects.
const (
	Raises Effect = "raises"
	Lowers Effect = "lowers"
)

// Effect returns Lowers for a negative contribution and Raises otherwise.
func (r *Reason) Effect() Effect {
	if r.Contribution < 0 {
		return Lowers
	}
	return Raises
}

// On words the effect on a score of task: "raises churn risk", "lowers
// the chance to convert".
func (e Effect) On(task string) string {
	if task == TaskConversion {
		return string(e) + " the chance to convert"
	}
	return string(e) + " churn risk"
}

// What names the reason for a person: its description, else (for a score
// stored without one) its feature name.
func (r *Reason) What() string {
	if r.Description != "" {
		return r.Description
	}
	return r.Feature
}

// ValueText writes the account's value: the category of a categorical
// feature, "unknown" with the catalog's note for a missing value, else
// the number.
func (r *Reason) ValueText() string {
	switch {
	case r.Category != "":
		return r.Category
	case r.Value == nil && r.Missing != "":
		return "unknown (" + r.Missing + ")"
	case r.Value == nil:
		return "unknown"
	}
	return number(*r.Value)
}

// TypicalText writes the typical value, or "" when it is unknown.
func (r *Reason) TypicalText() string {
	if r.Typical == nil {
		return ""
	}
	return number(*r.Typical)
}

// Text is the reason in one sentence for a score of task, e.g.
// "Active days in the last 30 days: 3 (typical 18); raises churn risk".
func (r *Reason) Text(task string) string {
	s := r.What() + ": " + r.ValueText()
	if t := r.TypicalText(); t != "" {
		s += " (typical " + t + ")"
	}
	return s + "; " + r.Effect().On(task)
}

// number writes a feature value: whole numbers without decimals, others
// with two.
func number(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}
