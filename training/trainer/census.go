package trainer

import (
	"context"
	"fmt"
	"time"

	"github.com/openchurn/churn/features"
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
// sweeps src once for both, counting the rows and accounts that each
// task's default training run would hold. It returns no census for data
// without records.
func TakeCensus(ctx context.Context, ext Extent, src dataset.Source) ([]Census, error) {
	if ext.Last.IsZero() {
		return nil, nil
	}
	names := []string{TaskChurn, TaskConversion}
	out := make([]Census, len(names))
	tasks := make([]dataset.Task, len(names))
	cfgs := make([]features.Config, len(names))
	for k, name := range names {
		p, err := DefaultSpec(name).Plan(ext)
		if err != nil {
			return nil, fmt.Errorf("census of %s: %w", name, err)
		}
		out[k] = Census{Task: name, From: p.Record.From, To: p.Record.To, DataEnd: p.Record.DataEnd}
		tasks[k], cfgs[k] = p.Task, p.Record.Features
	}
	// The observation dates and labels of each task's rows, for its test
	// slice.
	asOf := make([][]time.Time, len(names))
	labels := make([][]float64, len(names))
	_, err := dataset.SweepTasks(ctx, src, tasks, cfgs, 0, func(k int, b *dataset.Batch) error {
		c := &out[k]
		c.Accounts++
		positive := false
		for i, y := range b.Labels {
			asOf[k], labels[k] = append(asOf[k], b.Vectors[i].AsOf), append(labels[k], y)
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
		return nil, fmt.Errorf("census: %w", err)
	}
	for k := range out {
		c := &out[k]
		if c.Rows == 0 {
			continue
		}
		c.TestFrom = HoldoutWindow(&Examples{AsOf: asOf[k]}, DefaultOptions().TestFraction).Cut
		for i, t := range asOf[k] {
			if !t.Before(c.TestFrom) {
				c.TestRows++
				if labels[k][i] == 1 {
					c.TestPositives++
				}
			}
		}
	}
	return out, nil
}
