package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/store"
)

// exitError carries an exit status other than churnctl's 1 for failure and
// 2 for bad usage: score exits 3 when some accounts failed.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// exitPartial is score's status when some accounts could not be scored.
const exitPartial = 3

// runScore scores every account of a shard as of a date with the active
// models, stores the scores idempotently and raises alerts.
//
// Exit status: 0 when every account was scored, 1 on failure, 2 on bad
// usage, 3 when some accounts failed (they are listed).
func runScore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("score", stderr)
	db := dbFlag(fs)
	task := fs.String("task", "all", "churn, conversion or all")
	asOfFlag := fs.String("as-of", "", "score as of this date (YYYY-MM-DD, UTC midnight) or RFC 3339 time; default today")
	shardFlag := fs.String("shard", "", "score only shard i of n (i/n, by a hash of account_id), e.g. 0/4")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	configPath := fs.String("config", "", "configuration file (bands, features, alert rules)")
	noAlerts := fs.Bool("no-alerts", false, "store scores without evaluating alert rules")
	alertPast := fs.Bool("alert-past", false, "open alerts even when --as-of is more than --interval before the data's latest time (a past batch opens none by default)")
	interval := fs.Duration("interval", 24*time.Hour, "the scoring interval: a batch as of more than this before the data's latest time is a past batch")
	workers := fs.Int("workers", 0, "accounts built and scored in parallel (default GOMAXPROCS)")
	streams := fs.Int("streams", 0, "parts of the shard read at once, each by queries of its own (default 2)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (for go tool pprof)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: churnctl score --db DSN --task churn|conversion|all [--as-of DATE] [--shard i/n] [--json]\n\n"+
			"Scores every account with the active model of each task, stores the scores keyed by\n"+
			"(account, task, as_of, model version), so that a re-run replaces rather than duplicates,\n"+
			"then evaluates the alert rules. Safe to kill and run again; shards may run concurrently.\n\n"+
			"Exit status: 0 all scored, 1 failed, 2 bad usage, 3 some accounts failed (listed).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	tasks := serving.Tasks
	switch *task {
	case "all":
	case serving.TaskChurn, serving.TaskConversion:
		tasks = []string{*task}
	default:
		return usagef("--task %q: want churn, conversion or all", *task)
	}
	// The default is the start of today, UTC, so that runs on one day
	// share their keys.
	asOf := time.Now().UTC().Truncate(24 * time.Hour)
	if *asOfFlag != "" {
		var err error
		if asOf, err = parseAsOf(*asOfFlag); err != nil {
			return err
		}
	}
	shard, err := store.ParseShard(*shardFlag)
	if err != nil {
		return usageError{err}
	}
	cfg, err := serving.LoadConfig(*configPath)
	if err != nil {
		return usageError{err}
	}

	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	s, err := openMigrated(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	b := &serving.Batch{Store: s, Tasks: tasks, AsOf: asOf, Shard: shard, Workers: *workers, Streams: *streams, AlertPast: *alertPast, Interval: *interval,
		Scorer:   &serving.Scorer{Registry: s, Reference: s, Bands: cfg.Bands, PQLThreshold: cfg.PQLThreshold},
		Progress: progress(stderr)}
	if !*noAlerts {
		b.Alerts = &alerts.Engine{Store: s, Rules: cfg.Rules()}
	}
	rep, err := b.Run(ctx)
	if err != nil {
		return fmt.Errorf("scoring shard %s as of %s (%d accounts stored before it stopped; run again to finish): %w",
			shard, asOf.Format(time.RFC3339), rep.Accounts, err)
	}
	if *asJSON {
		if rep.Failed == nil {
			rep.Failed = []serving.Failure{}
		}
		if err := json.NewEncoder(stdout).Encode(rep); err != nil {
			return err
		}
	} else {
		printScoreReport(stdout, rep)
	}
	if n := len(rep.Failed); n > 0 {
		return exitError{exitPartial, fmt.Errorf("%d of %d accounts failed to score", n, rep.Accounts)}
	}
	return nil
}

// startCPUProfile starts writing a CPU profile to path and returns the
// function that stops it and closes the file.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// progress reports a batch's progress on stderr: a line redrawn in place
// on a terminal, periodic log lines otherwise (as under a scheduler).
func progress(stderr io.Writer) func(serving.Report) {
	f, ok := stderr.(*os.File)
	if ok && isatty.IsTerminal(f.Fd()) {
		return func(r serving.Report) {
			rate := float64(r.Accounts) / max(r.Elapsed.Seconds(), 1e-9)
			fmt.Fprintf(stderr, "\rscoring shard %s: %d accounts, %d churn and %d conversion scores, %d alerts, %d failed, %.0f accounts/s   ",
				r.Shard, r.Accounts, r.Scored[serving.TaskChurn], r.Scored[serving.TaskConversion], r.Alerts, len(r.Failed), rate)
		}
	}
	return func(r serving.Report) {
		slog.Info("scoring", "shard", r.Shard, "accounts", r.Accounts, "churn", r.Scored[serving.TaskChurn],
			"conversion", r.Scored[serving.TaskConversion], "alerts", r.Alerts, "failed", len(r.Failed),
			"accounts_per_s", int(float64(r.Accounts)/max(r.Elapsed.Seconds(), 1e-9)))
	}
}

func printScoreReport(w io.Writer, r serving.Report) {
	tasks := make([]string, 0, len(r.Models))
	for t := range r.Models {
		tasks = append(tasks, t)
	}
	sort.Strings(tasks)
	fmt.Fprintf(w, "scored shard %s as of %s: %d accounts in %.1fs (%.0f accounts/s)\n", r.Shard,
		r.AsOf.Format(time.RFC3339), r.Accounts, r.Elapsed.Seconds(), float64(r.Accounts)/max(r.Elapsed.Seconds(), 1e-9))
	for _, t := range tasks {
		fmt.Fprintf(w, "  %-10s model %d: %d scores\n", t, r.Models[t], r.Scored[t])
	}
	fmt.Fprintf(w, "  not scored (neither paying nor in a trial): %d\n", r.Skipped)
	for _, t := range tasks {
		if r.Retired[t] > 0 {
			fmt.Fprintf(w, "  %-10s current scores retired (no longer scored: churned, or trial closed): %d\n", t, r.Retired[t])
		}
	}
	if r.Past {
		fmt.Fprintf(w, "  alerts opened: none (a past batch; --alert-past opens them)\n")
	} else {
		fmt.Fprintf(w, "  alerts opened: %d\n", r.Alerts)
	}
	fmt.Fprintf(w, "  alerts resolved (churned accounts, closed trials): %d\n", r.Resolved)
	if len(r.Failed) > 0 {
		fmt.Fprintf(w, "  FAILED: %d accounts\n", len(r.Failed))
		for _, f := range r.Failed {
			fmt.Fprintf(w, "    %s: %s\n", f.AccountID, strings.ReplaceAll(f.Error, "\n", " "))
		}
	}
}

// isExit reports whether err carries its own exit status.
func isExit(err error) bool { _, ok := asExitError(err); return ok }

// asExitError returns the exit status err carries, if any.
func asExitError(err error) (int, bool) {
	var e exitError
	if errors.As(err, &e) {
		return e.code, true
	}
	return 0, false
}
