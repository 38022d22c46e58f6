package score

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Reason is one feature's part in a score.
type Reason struct {
	// Feature names the catalog feature; Description is its one-line
	// description and Group its group (usage, support, …).
	Feature     string `json:"feature"`
	Description string `json:"description,omitempty"`
	Group       string `json:"group"`
	// Unit is the catalog's unit of the value ("days", "ratio", "log
	// ratio", …), which decides how the value is rounded for a person.
	Unit string `json:"unit,omitempty"`
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

// Good reports whether the effect is good news for a score of task: a
// lower churn risk, or a higher chance to convert.
func (e Effect) Good(task string) bool {
	return (e == Raises) == (task == TaskConversion)
}

// News is "good" or "bad": how the reason reads for a score of task, for
// colouring it.
func (r *Reason) News(task string) string {
	if r.Effect().Good(task) {
		return "good"
	}
	return "bad"
}

// What names the reason for a person: its description without the
// formula a catalog description may end with (", as ln(…)"), else (for a
// score stored without one) its feature name.
func (r *Reason) What() string {
	if r.Description == "" {
		return r.Feature
	}
	if i := strings.Index(r.Description, ", as "); i > 0 {
		return r.Description[:i]
	}
	return r.Description
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
	return r.number(*r.Value)
}

// TypicalText writes the typical value, or "" when it is unknown.
func (r *Reason) TypicalText() string {
	if r.Typical == nil {
		return ""
	}
	return r.number(*r.Typical)
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

// Fact words a context reason (a fact no one can change, such as the
// days to renewal or the plan) as a sentence for a score of task whose
// risk window is windowDays long (0 when unknown), e.g. "Renews in 25
// days, inside the 37-day risk window; raises churn risk".
func (r *Reason) Fact(task string, windowDays int) string {
	return r.fact(windowDays) + "; " + r.Effect().On(task)
}

func (r *Reason) fact(windowDays int) string {
	if r.Value == nil {
		return r.What() + ": " + r.ValueText()
	}
	x := *r.Value
	days := int(math.Round(x))
	switch r.Feature {
	case "days_to_renewal":
		s := "Renews in " + plural(days, "day")
		if windowDays > 0 && days <= windowDays {
			s += fmt.Sprintf(", inside the %d-day risk window", windowDays)
		} else if windowDays > 0 {
			s += fmt.Sprintf(", after the %d-day risk window", windowDays)
		}
		return s
	case "tenure_days":
		if days < 60 {
			return "Customer for " + plural(days, "day")
		}
		return "Customer for " + plural(int(math.Round(x/30.4)), "month")
	case "trial_day":
		return fmt.Sprintf("Day %d of the trial", days)
	case "trial_days_left":
		return plural(days, "day") + " left in the trial"
	case "seats":
		return "Pays for " + plural(days, "seat")
	case "mrr":
		return "MRR " + r.ValueText()
	case "plan":
		return "On the " + r.ValueText() + " plan"
	case "segment":
		return "In the " + r.ValueText() + " segment"
	}
	return r.What() + ": " + r.ValueText()
}

// plural writes n and noun, adding an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// number writes a value as a person reads it, by its unit: a ratio as a
// whole percent, a log ratio as the percent change it stands for, a flag
// as yes or no, a 1–5 rating with one decimal, and other figures whole
// from 10 up and with at most one decimal below.
func (r *Reason) number(x float64) string {
	switch r.Unit {
	case "ratio":
		return strconv.FormatFloat(math.Round(100*x), 'f', 0, 64) + "%"
	case "log ratio":
		change := math.Round(100 * math.Expm1(x))
		if change > 0 {
			return "+" + strconv.FormatFloat(change, 'f', 0, 64) + "%"
		}
		return strconv.FormatFloat(change, 'f', 0, 64) + "%"
	case "flag":
		if x != 0 {
			return "yes"
		}
		return "no"
	case "score 1-5":
		return strconv.FormatFloat(math.Round(10*x)/10, 'f', -1, 64)
	}
	if math.Abs(x) >= 10 {
		return strconv.FormatFloat(math.Round(x), 'f', 0, 64)
	}
	return strconv.FormatFloat(math.Round(10*x)/10, 'f', -1, 64)
}
