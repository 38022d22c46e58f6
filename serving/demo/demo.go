// Package demo fills a store for the demo server (churnd --demo) and the
// serving tests: a simulated SaaS history loaded into the store, and an
// active model for each task trained on it with the trainer.
package demo

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
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
		if _, err := store.LoadFile(ctx, s, f, nil, load.Options{}); err != nil {
			return err
		}
	}
	return nil
}

// Train trains a model of task on the store's histories up to dataEnd
// with trainer.TrainAndRegister and registers it as the task's active
// model. The demo observes churn every week of the last 11 months, and
// conversion on day 7 of each trial that started in them with a grace of
// 7 days; the learner is algo ("auto", "gbdt" or "logreg"), its metrics'
// intervals from 50 bootstrap resamples.
func Train(ctx context.Context, s *store.Store, task string, dataEnd time.Time, cfg features.Config, algo string) (*trainer.RegisteredModel, error) {
	return TrainShard(ctx, s, store.Shard{}, task, dataEnd, cfg, algo)
}

// TrainShard is Train on the accounts of one shard only, so that a model
// for a large store can be trained on a sample of it.
func TrainShard(ctx context.Context, s *store.Store, shard store.Shard, task string, dataEnd time.Time, cfg features.Config, algo string) (*trainer.RegisteredModel, error) {
	spec := trainer.DefaultSpec(task)
	spec.DataEnd, spec.From, spec.Features, spec.Activation = dataEnd, dataEnd.AddDate(0, -11, 0), cfg, trainer.ActivateAlways
	spec.Options.Fit.Algorithm, spec.Options.Bootstrap = algo, 50
	switch task {
	case trainer.TaskChurn:
		spec.Every = dataset.Span{Days: 7}
	case trainer.TaskConversion:
		spec.Grace = 7 * 24 * time.Hour
	}
	t, err := trainer.TrainAndRegister(ctx, s, s.Source(shard), spec)
	if err != nil {
		return nil, err
	}
	return t.Model, nil
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
