// Command churnctl is the command-line tool of the churn and conversion
// prediction service: it migrates the store, generates synthetic histories,
// ingests exports, trains models and scores accounts.
//
// Exit status: 0 on success, 1 on failure, 2 on bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/openchurn/churn/store"
)

// command is one churnctl subcommand. run parses its own flags from args.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands in the order the help shows them.
var commands = []command{
	{"migrate", "create or update the store's schema", runMigrate},
	{"generate", "write a synthetic SaaS history (CSV tables and ground truth)", runGenerate},
	{"ingest", "load CSV or NDJSON exports into the store", runIngest},
	{"stats", "count rows and time ranges per table", runStats},
	{"metrics", "print SaaS metrics per month: mrr, retention, cohorts, unit-economics, funnel, support", runMetrics},
	{"dataset", "build a labelled churn or conversion training set from the store", runDataset},
	{"features", "write the current feature vectors of paying accounts and trials", runFeatures},
	{"train", "fit a model on the store (--task, registered) or a CSV feature table (--table)", runTrain},
	{"backtest", "evaluate training at rolling cut dates, out of time", runBacktest},
	{"predict", "score a CSV feature table with a model artifact", runPredict},
	{"models", "list, show, activate (roll back) or retire registered models", runModels},
	{"report", "write a registered model's self-contained HTML report", runReport},
	{"score", "score every account (or a shard) with the active models, store scores, raise alerts", runScore},
	{"keys", "create, list or revoke API keys", runKeys},
}

// usageError marks a failure caused by how the command was called; churnctl
// exits 2 for it.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// newFlagSet returns a flag set for subcommand name whose parse errors are
// reported as usage errors rather than exiting the process.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("churnctl "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args into fs, turning parse errors into usage errors.
// It returns flag.ErrHelp unchanged so that -h exits 0.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

// defaultDSN is the store used when neither --db nor CHURN_DB is given.
const defaultDSN = "sqlite:churn.db"

// dbFlag registers the --db flag on fs. Its default is the CHURN_DB
// environment variable, or sqlite:churn.db.
func dbFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("CHURN_DB")
	if def == "" {
		def = defaultDSN
	}
	return fs.String("db", def, "store DSN: sqlite:PATH or postgres://… (env CHURN_DB)")
}

// openStore opens the store at dsn, logging to the command's logger.
func openStore(ctx context.Context, dsn string) (*store.Store, error) {
	return store.Open(ctx, dsn, store.WithLogger(slog.Default()))
}

// openMigrated opens the store at dsn and brings its schema up to date, so
// that commands which write work on a new store without a migrate step.
func openMigrated(ctx context.Context, dsn string) (*store.Store, error) {
	s, err := openStore(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the subcommand named by args[0] and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		var ue usageError
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "churnctl %s: %v\n", c.name, err)
			return 2
		case isExit(err):
			fmt.Fprintf(stderr, "churnctl %s: %v\n", c.name, err)
			code, _ := asExitError(err)
			return code
		default:
			fmt.Fprintf(stderr, "churnctl %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "churnctl: unknown command %q\n\n", args[0])
	printHelp(stderr)
	return 2
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "Usage: churnctl COMMAND [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'churnctl COMMAND -h' for a command's flags.")
}
