package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/api"
	"github.com/openchurn/churn/serving/demo"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/simulate"
)

// demoKeyName names the admin key --demo creates on every start, after
// revoking the one before: only a new key can be printed, since the store
// keeps hashes.
const demoKeyName = "demo"

// prepareDemo brings the store to a servable state, each step only if it
// is not done: simulate and load a history, train both models, and score
// every account as of the history's end. Each step logs one line.
func prepareDemo(ctx context.Context, s *store.Store, scorer *serving.Scorer, eng *alerts.Engine, o options) error {
	cfg := simulate.Config{Accounts: o.demoAccounts, Months: o.demoMonths, Seed: o.demoSeed}
	if scorer.Features.CatalogueSize == 0 {
		scorer.Features = demo.Features()
	}
	step := func(name string, fn func() (string, error)) error {
		start := time.Now()
		what, err := fn()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		slog.InfoContext(ctx, "demo step", "step", name, "did", what, "elapsed", time.Since(start).Round(time.Millisecond))
		return nil
	}
	err := step("data", func() (string, error) {
		stats, err := s.Stats(ctx)
		if err != nil {
			return "", err
		}
		if stats.Rows > 0 {
			return fmt.Sprintf("store already holds %d rows; not simulating again", stats.Rows), nil
		}
		if err := demo.Generate(ctx, s, cfg); err != nil {
			return "", err
		}
		return fmt.Sprintf("simulated and loaded %d accounts over %d months (seed %d)", cfg.Accounts, cfg.Months, cfg.Seed), nil
	})
	if err != nil {
		return err
	}
	for _, task := range serving.Tasks {
		err := step("train "+task, func() (string, error) {
			switch ms, err := s.Models(ctx, task); {
			case err != nil:
				return "", err
			case len(ms) > 0:
				return "a model is registered; not training again", nil
			}
			m, err := demo.Train(ctx, s, task, cfg.End(), scorer.Features, o.demoAlgo)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("registered model %d (%s, test AUC %.3f)", m.Version, m.Algorithm, m.TestAUC), nil
		})
		if err != nil {
			return err
		}
	}
	return step("score", func() (string, error) {
		done := true
		for _, task := range serving.Tasks {
			n, err := s.CountScores(ctx, task)
			if err != nil {
				return "", err
			}
			done = done && n > 0
		}
		if done {
			return "scores are stored; not scoring again", nil
		}
		rep, err := (&serving.Batch{Store: s, Scorer: scorer, Alerts: eng, Tasks: serving.Tasks, AsOf: cfg.End()}).Run(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d churn and %d conversion scores as of %s, %d alerts", rep.Scored[serving.TaskChurn],
			rep.Scored[serving.TaskConversion], cfg.End().Format(time.DateOnly), rep.Alerts), nil
	})
}

// newDemoKey revokes earlier demo keys and creates a new admin key.
func newDemoKey(ctx context.Context, s *store.Store) (string, error) {
	keys, err := s.APIKeys(ctx)
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		if k.Name == demoKeyName && k.RevokedAt.IsZero() {
			if err := s.RevokeAPIKey(ctx, k.ID, time.Now()); err != nil {
				return "", err
			}
		}
	}
	key, rec, err := api.NewKey(api.RoleAdmin, demoKeyName, time.Now())
	if err != nil {
		return "", err
	}
	return key, s.CreateAPIKey(ctx, rec)
}

// printDemo prints where the demo serves, its key and requests to try,
// naming the riskiest account and the likeliest trial.
func printDemo(ctx context.Context, w io.Writer, s *store.Store, base, key string) {
	pick := func(task string) string {
		top, err := s.CurrentScores(ctx, store.ScoreQuery{Task: task, Limit: 1})
		if err != nil || len(top) == 0 {
			return "A0000001"
		}
		return top[0].AccountID
	}
	account, trial := pick(serving.TaskChurn), pick(serving.TaskConversion)
	fmt.Fprintf(w, `churnd demo is serving at %s
API key (admin; shown once, a new one on every start):

  export CHURN_KEY=%s

Try:
  curl -s %s/healthz
  curl -s -H "Authorization: Bearer $CHURN_KEY" "%s/v1/accounts?limit=5"
  curl -s -H "Authorization: Bearer $CHURN_KEY" %s/v1/accounts/%s
  curl -s -H "Authorization: Bearer $CHURN_KEY" "%s/v1/trials?pql=true&limit=5"
  curl -s -H "Authorization: Bearer $CHURN_KEY" %s/v1/trials/%s
  curl -s -H "Authorization: Bearer $CHURN_KEY" "%s/v1/alerts?status=open&limit=5"
  curl -s -H "Authorization: Bearer $CHURN_KEY" %s/v1/metrics/saas
  curl -s -H "Authorization: Bearer $CHURN_KEY" %s/v1/models
  curl -s %s/openapi.yaml

Stop with Ctrl-C.
`, base, key, base, base, base, account, base, base, trial, base, base, base, base)
}
