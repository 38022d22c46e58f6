// Package demo fills a store for the demo server (churnd --demo) and the
// serving tests: a simulated SaaS history loaded into the store, and an
// active model for each task trained on it with the trainer.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/simulate"
	"github.com/openchurn/churn/training/trainer"
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
	dir, err := os.MkdirTemp("", "churn-demo-")
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
		if _, err := store.LoadFile(ctx, s, f, nil, store.LoadOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// Train builds the task's examples from the store's histories up to
// dataEnd with the trainer (observations every week for churn, day 7 of
// each trial that started in the last 11 months for conversion), trains a model of the algorithm ("auto",
// "gbdt" or "logreg") with trainer.Train, and registers it as the task's
// active model with the details document serving reads: the feature
// configuration, lead and horizon, and the trainer's result. It returns
// the registered model.
func Train(ctx context.Context, s *store.Store, task string, dataEnd time.Time, cfg features.Config, algo string) (*store.Model, error) {
	return TrainShard(ctx, s, store.Shard{}, task, dataEnd, cfg, algo)
}

// TrainShard is Train on the accounts of one shard only, so that a model
// for a large store can be trained on a sample of it.
func TrainShard(ctx context.Context, s *store.Store, shard store.Shard, task string, dataEnd time.Time, cfg features.Config, algo string) (*store.Model, error) {
	const day = 24 * time.Hour
	var (
		t      dataset.Task
		labels trainer.Labels
		about  = map[string]string{}
	)
	switch task {
	case "churn":
		c := &dataset.Churn{Lead: 7 * day, Horizon: 30 * day, Grace: 14 * day, DataEnd: dataEnd}
		sched, err := dataset.Schedule(dataEnd.AddDate(0, -11, 0), dataEnd.Add(-c.Lead-c.Horizon-c.Grace), dataset.Span{Days: 7})
		if err != nil {
			return nil, err
		}
		c.Schedule = sched
		t, labels, about["lead"], about["horizon"] = c, trainer.ChurnLabels(c, nil), "7", "30"
	case "conversion":
		c := &dataset.Conversion{TrialDay: 7, Grace: 7 * day, From: dataEnd.AddDate(0, -11, 0), DataEnd: dataEnd}
		t, labels = c, trainer.ConversionLabels(c, nil)
	default:
		return nil, fmt.Errorf("unknown task %q", task)
	}
	src := dataset.SourceFunc(func(ctx context.Context, fn func(*features.History) error) error {
		return s.Histories(ctx, shard, fn)
	})
	e, _, err := trainer.Collect(ctx, src, t, dataset.Options{Features: cfg}, labels)
	if err != nil {
		return nil, err
	}
	opt := trainer.DefaultOptions()
	opt.Fit.Algorithm, opt.Bootstrap = algo, 50
	r, err := trainer.Train(ctx, e, opt)
	if err != nil {
		return nil, fmt.Errorf("training %s: %w", task, err)
	}
	r.Artifact.Metadata.Task = task
	var buf bytes.Buffer
	if err := models.EncodeArtifact(&buf, r.Artifact); err != nil {
		return nil, err
	}
	details, err := json.Marshal(map[string]any{"task": about, "features": cfg, "result": r})
	if err != nil {
		return nil, err
	}
	m := &store.Model{Task: task, Algorithm: r.Artifact.Algorithm, WindowStart: r.WindowStart, WindowEnd: r.WindowEnd,
		TestAUC: r.Evaluation.Test.AUC, Details: details, Artifact: buf.Bytes()}
	if math.IsNaN(m.TestAUC) {
		m.TestAUC = 0
	}
	if _, err := s.RegisterModel(ctx, m, store.ActivateAlways); err != nil {
		return nil, err
	}
	return m, nil
}

// Prepare brings s to the state the demo serves from, doing each step
// only if it is not done: it simulates cfg and loads it unless the store
// holds data, and trains a model of each task on the accounts of
// trainShard unless the task has one. It calls step after each step with
// a line saying what it did.
func Prepare(ctx context.Context, s *store.Store, cfg simulate.Config, fc features.Config, algo string, trainShard store.Shard,
	step func(name, did string, elapsed time.Duration)) error {
	do := func(name string, fn func() (string, error)) error {
		start := time.Now()
		did, err := fn()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		step(name, did, time.Since(start))
		return nil
	}
	err := do("data", func() (string, error) {
		stats, err := s.Stats(ctx)
		if err != nil {
			return "", err
		}
		if stats.Rows > 0 {
			return fmt.Sprintf("store already holds %d rows; not simulating again", stats.Rows), nil
		}
		if err := Generate(ctx, s, cfg); err != nil {
			return "", err
		}
		return fmt.Sprintf("simulated and loaded %d accounts over %d months (seed %d)", cfg.Accounts, cfg.Months, cfg.Seed), nil
	})
	if err != nil {
		return err
	}
	for _, task := range []string{"churn", "conversion"} {
		err := do("train "+task, func() (string, error) {
			switch ms, err := s.Models(ctx, task); {
			case err != nil:
				return "", err
			case len(ms) > 0:
				return "a model is registered; not training again", nil
			}
			m, err := TrainShard(ctx, s, trainShard, task, cfg.End(), fc, algo)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("registered model %d (%s, test AUC %.3f)", m.Version, m.Algorithm, m.TestAUC), nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
