package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/demo"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/simulate"
)

// demoKeyName names the admin key --demo creates on every start, after
// revoking the one before: only a new key can be printed, since the store
// keeps hashes.
const demoKeyName = "demo"

// prepareDemo brings the store to a servable state, each step only if it
// is not done: simulate and load a history, train both models (see
// demo.Prepare), and score every account as of the history's end. Each
// step logs one line.
func prepareDemo(ctx context.Context, s *store.Store, scorer *serving.Scorer, eng *alerts.Engine, fc features.Config, o options) error {
	cfg := simulate.Config{Accounts: o.demoAccounts, Months: o.demoMonths, Seed: o.demoSeed}
	step := func(name, did string, elapsed time.Duration) {
		slog.InfoContext(ctx, "demo step", "step", name, "did", did, "elapsed", elapsed.Round(time.Millisecond))
	}
	if err := demo.Prepare(ctx, s, cfg, fc, o.demoAlgo, store.Shard{}, step); err != nil {
		return err
	}
	start := time.Now()
	done := true
	for _, task := range serving.Tasks {
		n, err := s.CountScores(ctx, task)
		if err != nil {
			return err
		}
		done = done && n > 0
	}
	if done {
		step("score", "scores are stored; not scoring again", time.Since(start))
		return nil
	}
	rep, err := (&serving.Batch{Store: s, Scorer: scorer, Alerts: eng, Tasks: serving.Tasks, AsOf: cfg.End()}).Run(ctx)
	if err != nil {
		return fmt.Errorf("score: %w", err)
	}
	step("score", fmt.Sprintf("%d churn and %d conversion scores as of %s, %d alerts", rep.Scored[serving.TaskChurn],
		rep.Scored[serving.TaskConversion], cfg.End().Format(time.DateOnly), rep.Alerts), time.Since(start))
	return nil
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
	key, rec, err := access.NewKey(access.Admin, demoKeyName, time.Now())
	if err != nil {
		return "", err
	}
	return key, s.CreateAPIKey(ctx, rec)
}

// printDemo prints where the demo serves, its key and requests to try,
// naming the riskiest account and the likeliest trial.
func printDemo(ctx context.Context, w io.Writer, s *store.Store, base, key string) {
	pick := func(task string) string {
		top, err := s.CurrentScores(ctx, score.Query{Task: task, Limit: 1})
		if err != nil || len(top) == 0 {
			return "A0000001"
		}
		return top[0].AccountID
	}
	account, trial := pick(serving.TaskChurn), pick(serving.TaskConversion)
	fmt.Fprintf(w, `churnd demo is serving at %s
Open it in a browser for the dashboard and sign in with this API key
(admin; shown once, a new one on every start):

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
