package trainer

import (
	"context"
	"fmt"
	"time"

	"github.com/openchurn/churn/training/dataset"
)

// Census is what a task's default training plan (DefaultSpec, planned
// against the data's extent) would learn from: its observation dates,
// and the labelled rows and accounts of a sweep of the data, before the
// split into training, validation and test.
type Census struct {
	Task string `json:"task"`
	// From and To bound the plan's observation dates; DataEnd is the day
	// after the latest record.
	From    time.Time `json:"from"`
	To      time.Time `json:"to,omitzero"`
	DataEnd time.Time `json:"data_end"`
	// Rows counts the labelled rows, Positives those labelled 1 (a churn
	// in the label window; a conversion).
	Rows      int64 `json:"rows"`
	Positives int64 `json:"positives"`
	// Accounts counts the accounts with a labelled row, and
	// PositiveAccounts those with a positive one.
	Accounts         int64 `json:"accounts"`
	PositiveAccounts int64 `json:"positive_accounts"`
	// TestFrom is where the default test slice begins (HoldoutWindow of
	// the rows), and TestRows and TestPositives count its rows: what the
	// activation guard (DefaultGuard) judges.
	TestFrom      time.Time `json:"test_from,omitzero"`
	TestRows      int64     `json:"test_rows"`
	TestPositives int64     `json:"test_positives"`
}

// TakeCensus plans DefaultSpec of churn and of conversion against ext and
// sweeps src with each, counting the rows and accounts that the default
// training run would hold. It returns no census for data without records.
func TakeCensus(ctx context.Context, ext Extent, src dataset.Source) ([]Census, error) {
	if ext.Last.IsZero() {
		return nil, nil
	}
	var out []Census
	for _, task := range []string{TaskChurn, TaskConversion} {
		p, err := DefaultSpec(task).Plan(ext)
		if err != nil {
			return nil, fmt.Errorf("census of %s: %w", task, err)
		}
		c := Census{Task: task, From: p.Record.From, To: p.Record.To, DataEnd: p.Record.DataEnd}
		var (
			asOf   []time.Time
			labels []float64
		)
		_, err = dataset.Sweep(ctx, src, p.Task, dataset.Options{Features: p.Record.Features}, func(b *dataset.Batch) error {
			if len(b.Labels) == 0 {
				return nil
			}
			c.Accounts++
			positive := false
			for k, y := range b.Labels {
				asOf, labels = append(asOf, b.Vectors[k].AsOf), append(labels, y)
				c.Rows++
				if y == 1 {
					c.Positives++
					positive = true
				}
			}
			if positive {
				c.PositiveAccounts++
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("census of %s: %w", task, err)
		}
		if c.Rows > 0 {
			c.TestFrom = HoldoutWindow(&Examples{AsOf: asOf}, DefaultOptions().TestFraction).Cut
			for i, t := range asOf {
				if !t.Before(c.TestFrom) {
					c.TestRows++
					if labels[i] == 1 {
						c.TestPositives++
					}
				}
			}
		}
		out = append(out, c)
	}
	return out, nil
}
