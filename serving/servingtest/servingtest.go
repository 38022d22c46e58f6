// Package servingtest prepares stores for the serving tests: a simulated
// history loaded into the store and an active model for each task, fitted
// quickly on it.
package servingtest

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/simulate"
)

// Features is the feature configuration of simulated histories: the
// simulator's product catalogue and its key features.
func Features() features.Config {
	var keys []string
	for _, f := range simulate.Features {
		if f.Key {
			keys = append(keys, f.Name)
		}
	}
	return features.Config{CatalogueSize: len(simulate.Features), KeyFeatures: keys}
}

// Generate simulates cfg into a temporary folder and loads it into s.
func Generate(ctx context.Context, s *store.Store, cfg simulate.Config) error {
	dir, err := os.MkdirTemp("", "servingtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if _, err := simulate.Generate(ctx, cfg, dir, ""); err != nil {
		return err
	}
	files, err := store.ExportFiles([]string{dir}, "")
	if err != nil {
		return err
	}
	for _, f := range files {
		if _, err := s.LoadFile(ctx, f, nil); err != nil {
			return err
		}
	}
	return nil
}

// Train fits a ridge logistic regression for task on the store's
// histories up to dataEnd and registers it as the task's active model. It
// is a quick stand-in for the trainer, for tests that need any valid
// active model; it returns the registered model.
func Train(ctx context.Context, s *store.Store, task string, dataEnd time.Time, cfg features.Config) (*store.Model, error) {
	var t dataset.Task
	switch task {
	case "churn":
		sched, err := dataset.Schedule(dataEnd.AddDate(0, -5, 0), dataEnd.AddDate(0, -1, -14), dataset.Span{Months: 1})
		if err != nil {
			return nil, err
		}
		t = &dataset.Churn{Schedule: sched, Lead: 7 * 24 * time.Hour, Horizon: 30 * 24 * time.Hour, DataEnd: dataEnd}
	case "conversion":
		t = &dataset.Conversion{TrialDay: 5, Grace: 7 * 24 * time.Hour, DataEnd: dataEnd}
	default:
		return nil, fmt.Errorf("unknown task %q", task)
	}
	schema, err := cfg.Schema()
	if err != nil {
		return nil, err
	}
	d := &models.Dataset{Schema: schema, Columns: make([][]float64, len(schema))}
	src := dataset.SourceFunc(func(ctx context.Context, fn func(*features.History) error) error {
		return s.Histories(ctx, store.Shard{}, fn)
	})
	_, err = dataset.Sweep(ctx, src, t, dataset.Options{Features: cfg}, func(b *dataset.Batch) error {
		for i, v := range b.Vectors {
			for j, x := range v.Values {
				d.Columns[j] = append(d.Columns[j], x)
			}
			d.Labels = append(d.Labels, b.Labels[i])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	lr, err := models.FitLogReg(d, models.DefaultLogRegParams())
	if err != nil {
		return nil, fmt.Errorf("fitting %s on %d rows: %w", task, d.Rows(), err)
	}
	a := &models.Artifact{Algorithm: models.AlgorithmLogReg, Model: lr, Metadata: models.Metadata{Task: task, Rows: d.Rows()}}
	var buf bytes.Buffer
	if err := models.EncodeArtifact(&buf, a); err != nil {
		return nil, err
	}
	m := &store.Model{Task: task, Algorithm: a.Algorithm, WindowEnd: dataEnd, TestAUC: math.NaN(), Artifact: buf.Bytes()}
	if _, err := s.RegisterModel(ctx, m, store.ActivateAlways); err != nil {
		return nil, err
	}
	return m, nil
}
