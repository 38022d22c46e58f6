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

// demoKeyName and demoRepKeyName name the keys --demo creates on every
// start, after revoking those before: only a new key can be printed,
// since the store keeps hashes.
const (
	demoKeyName    = "demo"
	demoRepKeyName = "demo rep"
)

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

// demoKeys are the secrets of the keys a demo prints: an admin key, and
// a viewer key of Rep's own book, Rep being the owner of the riskiest
// account (no rep key when no account is scored or owned).
type demoKeys struct {
	Admin, Rep, RepOwner string
}

// newDemoKeys revokes earlier demo keys and creates the new ones.
func newDemoKeys(ctx context.Context, s *store.Store) (demoKeys, error) {
	var dk demoKeys
	keys, err := s.APIKeys(ctx)
	if err != nil {
		return dk, err
	}
	now := time.Now()
	for _, k := range keys {
		if (k.Name == demoKeyName || k.Name == demoRepKeyName) && k.Active() {
			if err := s.RevokeAPIKey(ctx, k.ID, now); err != nil {
				return dk, err
			}
		}
	}
	key, rec, err := access.NewKey(access.Admin, demoKeyName, now)
	if err != nil {
		return dk, err
	}
	if err := s.CreateAPIKey(ctx, rec); err != nil {
		return dk, err
	}
	dk.Admin = key
	top, err := s.CurrentScores(ctx, score.Query{Task: serving.TaskChurn, Limit: 1})
	if err != nil || len(top) == 0 || top[0].Owner == "" {
		return dk, err
	}
	if key, rec, err = access.NewKey(access.Viewer, demoRepKeyName, now); err != nil {
		return dk, err
	}
	rec.Owner = top[0].Owner
	if err := s.CreateAPIKey(ctx, rec); err != nil {
		return dk, err
	}
	dk.Rep, dk.RepOwner = key, rec.Owner
	return dk, nil
}

// printDemo prints where the demo serves, its keys and requests to try,
// naming the riskiest account and the likeliest trial.
func printDemo(ctx context.Context, w io.Writer, s *store.Store, base string, keys demoKeys) {
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
`, base, keys.Admin, base, base, base, account, base, base, trial, base, base, base, base)
	if keys.Rep != "" {
		fmt.Fprintf(w, `
A viewer key of %s's own book, the riskiest account's rep: signed in with it,
the dashboard opens on their Today page (alerts, health drops, renewals):

  export CHURN_REP_KEY=%s
  curl -s -H "Authorization: Bearer $CHURN_REP_KEY" %s/v1/today
`, keys.RepOwner, keys.Rep, base)
	}
	fmt.Fprintln(w, "\nStop with Ctrl-C.")
}
