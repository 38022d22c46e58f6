package dashboard_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/api"
	"github.com/openchurn/churn/serving/dashboard"
	"github.com/openchurn/churn/serving/demo"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/simulate"
	"github.com/openchurn/churn/training/trainer"
)

// fixture is a churnd --demo-style server on loopback, shared by the
// package's tests: a small simulated history, both models trained, scores
// as of several weeks (so that trends have points and score-change alerts
// fire), and a key of each role.
type fixture struct {
	URL     string
	Handler http.Handler
	Store   *store.Store
	Keys    map[access.Role]string // secrets by role
	// Owner is the owner of the most open alerts, and OwnerKey the secret
	// of a viewer key whose book is Owner's.
	Owner, OwnerKey string
}

var (
	fixtureOnce sync.Once
	shared      *fixture
	fixtureErr  error
	fixtureDir  string
)

// trendWeeks is how many weekly batch runs the fixture scores.
const trendWeeks = 12

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// demoServer returns the shared fixture, building it on first use.
func demoServer(t testing.TB) *fixture {
	t.Helper()
	fixtureOnce.Do(func() { shared, fixtureErr = newFixture() })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return shared
}

func newFixture() (*fixture, error) {
	start := time.Now()
	var err error
	if fixtureDir, err = os.MkdirTemp("", "churn-dashboard-test-"); err != nil {
		return nil, err
	}
	f, err := serveDemo(filepath.Join(fixtureDir, "churn.db"), 300, nil)
	if err != nil {
		return nil, err
	}
	slog.Info("dashboard test fixture ready", "url", f.URL, "elapsed", time.Since(start).Round(time.Millisecond))
	return f, nil
}

// serveDemo serves the store at path on loopback, after filling it, when
// it is new, with a simulated history of accounts, a logistic model of
// each task and trendWeeks weekly batch runs; then pad, when not nil, may
// add to it.
func serveDemo(path string, accounts int, pad func(*store.Store) error) (*fixture, error) {
	ctx := context.Background()
	_, statErr := os.Stat(path)
	s, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		return nil, err
	}
	cfg := simulate.Config{Accounts: accounts, Months: 12, Seed: 11}
	fc := demo.Features()
	scorer := &serving.Scorer{Registry: s, Reference: s, Bands: serving.DefaultBands()}
	eng := &alerts.Engine{Store: s, Rules: alerts.DefaultRules()}
	if statErr != nil { // a new store
		if err := demo.Generate(ctx, s, cfg); err != nil {
			return nil, err
		}
		for _, task := range serving.Tasks {
			if _, err := demo.Train(ctx, s, task, cfg.End(), fc, "logreg"); err != nil {
				return nil, err
			}
		}
		for w := trendWeeks - 1; w >= 0; w-- {
			asOf := cfg.End().AddDate(0, 0, -7*w)
			rep, err := (&serving.Batch{Store: s, Scorer: scorer, Alerts: eng, Tasks: serving.Tasks, AsOf: asOf}).Run(ctx)
			if err != nil {
				return nil, err
			}
			if len(rep.Failed) > 0 {
				return nil, fmt.Errorf("batch as of %v: %d accounts failed", asOf, len(rep.Failed))
			}
		}
		// A candidate beside the active models, so that admins have
		// something to activate: the churn model registered again.
		m, err := s.Model(ctx, 1)
		if err != nil {
			return nil, err
		}
		candidate := &trainer.RegisteredModel{Task: m.Task, Algorithm: m.Algorithm, WindowStart: m.WindowStart, WindowEnd: m.WindowEnd,
			TestAUC: m.TestAUC, Record: m.Record, Artifact: m.Artifact}
		if _, err := s.RegisterModel(ctx, candidate, trainer.ActivateNever); err != nil {
			return nil, err
		}
		if pad != nil {
			if err := pad(s); err != nil {
				return nil, err
			}
		}
	}
	f := &fixture{Store: s, Keys: map[access.Role]string{}}
	for _, role := range []access.Role{access.Viewer, access.Admin} {
		key, rec, err := access.NewKey(role, string(role)+"-test", time.Now())
		if err != nil {
			return nil, err
		}
		if err := s.CreateAPIKey(ctx, rec); err != nil {
			return nil, err
		}
		f.Keys[role] = key
	}
	if f.Owner, f.OwnerKey, err = ownerKey(ctx, s); err != nil {
		return nil, err
	}
	srv := api.New(s, scorer, eng, api.Options{Logger: slog.New(slog.DiscardHandler)})
	if err := dashboard.Mount(srv, s, dashboard.Options{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		return nil, err
	}
	f.Handler = srv.Handler()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		if err := http.Serve(ln, f.Handler); err != nil && !errors.Is(err, net.ErrClosed) {
			slog.Error("fixture server stopped", "err", err)
		}
	}()
	f.URL = "http://" + ln.Addr().String()
	return f, nil
}

// openAlert returns an open alert of the fixture, the first of the open
// inbox's first page.
func (f *fixture) openAlert(t testing.TB) alerts.Alert {
	t.Helper()
	as, err := f.Store.Alerts(context.Background(), alerts.Query{Status: alerts.StatusOpen, Sort: alerts.SortSeverityARR, Limit: 1})
	if err != nil || len(as) == 0 {
		t.Fatalf("the fixture has no open alert: %v", err)
	}
	return as[0].Alert
}

// ownerKey makes a viewer key for the owner of the most open alerts
// (ties by name) among the owners of scored trials, so that its book has
// accounts, trials and alerts, and returns the owner and the key's secret.
func ownerKey(ctx context.Context, s *store.Store) (owner, secret string, err error) {
	as, err := s.Alerts(ctx, alerts.Query{Status: alerts.StatusActive, Limit: 10_000})
	if err != nil {
		return "", "", err
	}
	trials, err := s.ScoreRows(ctx, score.ListQuery{Task: serving.TaskConversion, Limit: 10_000, WithoutDetail: true})
	if err != nil {
		return "", "", err
	}
	n := map[string]int{}
	for _, r := range trials {
		n[r.Owner] = 0
	}
	for _, a := range as {
		if _, ok := n[a.Owner]; ok && a.Owner != "" {
			n[a.Owner]++
		}
	}
	delete(n, "")
	for o, k := range n {
		if owner == "" || k > n[owner] || (k == n[owner] && o < owner) {
			owner = o
		}
	}
	if owner == "" {
		return "", "", errors.New("the fixture has no scored trial with an owner")
	}
	secret, rec, err := access.NewOwnedKey(access.Viewer, "rep-test", owner, time.Now())
	if err != nil {
		return "", "", err
	}
	return owner, secret, s.CreateAPIKey(ctx, rec)
}
