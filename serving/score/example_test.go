package score_test

import (
	"fmt"

	"github.com/openchurn/churn/serving/score"
)

// A reason holds figures; its wording is built from them for the task of
// its score.
func ExampleReason_Text() {
	value, typical := 3.0, 18.0
	r := score.Reason{Feature: "active_days_30d", Description: "Days with any usage in the last 30 days", Group: "usage",
		Value: &value, Typical: &typical, Contribution: 0.8}
	fmt.Println(r.Effect())
	fmt.Println(r.Effect().On(score.TaskConversion))
	fmt.Println(r.Text(score.TaskChurn))
	// Output:
	// raises
	// raises the chance to convert
	// Days with any usage in the last 30 days: 3 (typical 18); raises churn risk
}
