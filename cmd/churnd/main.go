// Command churnd is the server of the churn and conversion prediction
// service: the REST API (see serving/api and /openapi.yaml), the
// dashboard at / (see serving/dashboard), webhook delivery of alerts and,
// optionally, scheduled batch scoring.
//
//	churnd --db DSN --addr :8080 [--config churn.yaml] [--demo]
//
// It migrates the store and refuses to start without an API key (create
// one with churnctl keys create --role admin), unless --demo, which also
// fills an empty store with a simulated SaaS history, trains both models,
// scores every account and prints the URL, a new admin key and curl
// examples. Started again on the same store, --demo reuses what is there.
//
// With schedule: "CRON" in the configuration file, churnd scores every
// account as of the start of the day on that schedule (UTC). SIGINT or
// SIGTERM stops it gracefully: in-flight requests and a running batch are
// finished first.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/api"
	"github.com/openchurn/churn/serving/dashboard"
	"github.com/openchurn/churn/serving/demo"
	"github.com/openchurn/churn/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are churnd's flags.
type options struct {
	dsn          string
	addr         string
	config       string
	demo         bool
	demoAccounts int
	demoMonths   int
	demoSeed     uint64
	demoAlgo     string
	accessLog    bool
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("churnd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := os.Getenv("CHURN_DB")
	if dsn == "" {
		dsn = "sqlite:churn.db"
	}
	var o options
	fs.StringVar(&o.dsn, "db", dsn, "store DSN: sqlite:PATH or postgres://… (env CHURN_DB)")
	fs.StringVar(&o.addr, "addr", ":8080", "address to serve on")
	fs.StringVar(&o.config, "config", "", "configuration file (bands, features, alert rules, webhook, schedule, API limits)")
	fs.BoolVar(&o.demo, "demo", false, "fill an empty store with a simulated history, train, score, and print a key")
	fs.IntVar(&o.demoAccounts, "demo-accounts", 2000, "accounts to simulate with --demo")
	fs.IntVar(&o.demoMonths, "demo-months", 12, "months of history to simulate with --demo")
	fs.Uint64Var(&o.demoSeed, "demo-seed", 1, "simulator seed for --demo")
	fs.StringVar(&o.demoAlgo, "demo-algo", "auto", "learner for --demo: auto, gbdt or logreg")
	fs.BoolVar(&o.accessLog, "access-log", true, "log every request")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

// run executes churnd and returns its exit status: 0 after a graceful
// stop, 1 on failure, 2 on bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	slog.SetDefault(logger)
	o, err := parseOptions(args, stderr)
	if err == flag.ErrHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "churnd: %v\n", err)
		return 2
	}
	cfg, err := serving.LoadConfig(o.config)
	if err != nil {
		fmt.Fprintf(stderr, "churnd: %v\n", err)
		return 2
	}
	features.SetEventLead(cfg.Limits.EventLead)
	if err := serve(ctx, o, cfg, stdout, logger); err != nil {
		fmt.Fprintf(stderr, "churnd: %v\n", err)
		return 1
	}
	return 0
}

// idleReaders is how many idle store connections the server keeps for
// concurrent requests.
const idleReaders = 64

func serve(ctx context.Context, o options, cfg serving.Config, stdout io.Writer, logger *slog.Logger) error {
	s, err := store.Open(ctx, o.dsn, store.WithLogger(logger))
	if err != nil {
		return err
	}
	defer s.Close()
	s.KeepIdleReaders(idleReaders)
	applied, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "store ready", "db", redactDSN(o.dsn), "migrations_applied", len(applied))
	scorer := &serving.Scorer{Registry: s, Reference: s, Bands: cfg.Bands, PQLThreshold: cfg.PQLThreshold}
	eng := &alerts.Engine{Store: s, Rules: cfg.Rules()}

	var demoKeys demoKeys
	if o.demo {
		start := time.Now()
		if cfg.Features.CatalogueSize == 0 {
			cfg.Features = demo.Features()
		}
		if err := prepareDemo(ctx, s, scorer, eng, cfg.Features, o); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if demoKeys, err = newDemoKeys(ctx, s); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		slog.InfoContext(ctx, "demo ready", "elapsed", time.Since(start).Round(time.Millisecond))
	} else if err := requireKey(ctx, s); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	handler := api.New(s, scorer, eng, api.Options{RatePerSecond: cfg.API.RatePerSecond, Burst: cfg.API.Burst,
		BodyLimit: cfg.API.BodyLimit, AccessLog: o.accessLog, Logger: logger, StaleAfter: cfg.API.ScoreStaleAfter, CacheTTL: cfg.API.CacheTTL,
		AuthFailuresPerMinute: cfg.API.AuthFailuresPerMinute, AuthFailureBurst: cfg.API.AuthFailureBurst,
		TrustForwardedFor: cfg.API.TrustForwardedFor, Features: cfg.Features, Metrics: cfg.MetricsOptions()})
	if err := dashboard.Mount(handler, s, dashboard.Options{Bands: cfg.Bands, Logger: logger, Plays: cfg.Plays, TrialTiers: cfg.TrialTiers,
		Metrics: cfg.MetricsOptions(), Rules: eng.Rules}); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: handler.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}

	var jobs sync.WaitGroup
	jobCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	if cfg.Webhook.URL != "" || len(cfg.Webhook.OwnerURLs) > 0 {
		d := &alerts.Dispatcher{Outbox: s, Webhook: cfg.Webhook, Logger: logger, Outage: store.Unavailable, Observe: handler.ObserveDelivery}
		jobs.Add(1)
		go func() { defer jobs.Done(); d.Run(jobCtx, 10*time.Second) }()
	}
	var sched *cron.Cron
	if cfg.Schedule != "" {
		sched = cron.New(cron.WithLocation(time.UTC))
		if _, err := sched.AddFunc(cfg.Schedule, func() { scheduledBatch(jobCtx, s, scorer, eng) }); err != nil {
			ln.Close()
			return fmt.Errorf("schedule %q: %w", cfg.Schedule, err)
		}
		sched.Start()
		slog.InfoContext(ctx, "batch scoring scheduled", "cron", cfg.Schedule)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	base := "http://" + hostPort(ln.Addr())
	slog.InfoContext(ctx, "serving", "url", base)
	if o.demo {
		printDemo(ctx, stdout, s, base, demoKeys)
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down: finishing in-flight requests and jobs")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	if sched != nil {
		<-sched.Stop().Done() // waits for a running batch
	}
	stopJobs()
	jobs.Wait()
	if err == nil {
		slog.Info("stopped")
	}
	return err
}

// requireKey refuses to serve a store without an active API key.
func requireKey(ctx context.Context, s *store.Store) error {
	keys, err := s.APIKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.RevokedAt.IsZero() {
			return nil
		}
	}
	return errors.New("the store has no active API key: create one with 'churnctl keys create --role admin' (or start with --demo)")
}

// scheduledBatch scores every account as of the start of today.
func scheduledBatch(ctx context.Context, s *store.Store, scorer *serving.Scorer, eng *alerts.Engine) {
	asOf := time.Now().UTC().Truncate(24 * time.Hour)
	slog.InfoContext(ctx, "scheduled batch scoring", "as_of", asOf)
	rep, err := (&serving.Batch{Store: s, Scorer: scorer, Alerts: eng, Tasks: serving.Tasks, AsOf: asOf,
		Progress: func(r serving.Report) {
			slog.InfoContext(ctx, "scoring", "accounts", r.Accounts, "alerts", r.Alerts, "failed", len(r.Failed))
		}}).Run(ctx)
	if err != nil {
		slog.ErrorContext(ctx, "scheduled batch scoring failed", "err", err, "accounts", rep.Accounts)
	}
}

// hostPort names a listener's address as a client can use it: an
// unspecified host (":8080") becomes localhost.
func hostPort(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// redactDSN hides a PostgreSQL password from logs.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	return u.Redacted()
}
