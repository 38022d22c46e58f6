// Command churnd is the server of the churn and conversion prediction
// service.
//
// Today it prepares the store: it applies the schema migrations and, with
// --demo, fills an empty store with a simulated SaaS history and prints what
// the store holds. The REST API, dashboard and scheduled scoring are served
// from here once the scoring service lands.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/simulate"
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
	demo         bool
	demoAccounts int
	demoMonths   int
	demoSeed     uint64
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
	fs.BoolVar(&o.demo, "demo", false, "fill an empty store with a simulated SaaS history")
	fs.IntVar(&o.demoAccounts, "demo-accounts", 2000, "accounts to simulate with --demo")
	fs.IntVar(&o.demoMonths, "demo-months", 12, "months of history to simulate with --demo")
	fs.Uint64Var(&o.demoSeed, "demo-seed", 1, "simulator seed for --demo")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

// run executes churnd and returns its exit status: 0 on success, 1 on
// failure, 2 on bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, nil)))
	o, err := parseOptions(args, stderr)
	if err == flag.ErrHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "churnd: %v\n", err)
		return 2
	}
	if err := serve(ctx, o, stdout); err != nil {
		fmt.Fprintf(stderr, "churnd: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, o options, stdout io.Writer) error {
	s, err := store.Open(ctx, o.dsn)
	if err != nil {
		return err
	}
	defer s.Close()
	applied, err := s.Migrate(ctx)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "store ready", "db", redactDSN(o.dsn), "migrations_applied", len(applied))
	if o.demo {
		if err := loadDemo(ctx, s, o); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	stats, err := s.Stats(ctx)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(stats)
}

// loadDemo simulates a SaaS history into a temporary folder and loads it,
// unless the store already holds data: a second start reuses what is there.
func loadDemo(ctx context.Context, s *store.Store, o options) error {
	stats, err := s.Stats(ctx)
	if err != nil {
		return err
	}
	if stats.Rows > 0 {
		slog.InfoContext(ctx, "store already holds data; not simulating again", "rows", stats.Rows)
		return nil
	}
	dir, err := os.MkdirTemp("", "churnd-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	start := time.Now()
	cfg := simulate.Config{Accounts: o.demoAccounts, Months: o.demoMonths, Seed: o.demoSeed}
	if _, err := simulate.Generate(ctx, cfg, dir, ""); err != nil {
		return err
	}
	slog.InfoContext(ctx, "simulated", "accounts", cfg.Accounts, "months", cfg.Months, "seed", cfg.Seed, "elapsed", time.Since(start).Round(time.Millisecond))

	files, err := store.ExportFiles([]string{dir}, "")
	if err != nil {
		return err
	}
	for _, f := range files {
		start := time.Now()
		res, err := s.LoadFile(ctx, f, nil)
		if err != nil {
			return err
		}
		slog.InfoContext(ctx, "loaded", "table", f.Table, "rows", res.Read, "elapsed", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// redactDSN hides a PostgreSQL password from logs.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	return u.Redacted()
}
