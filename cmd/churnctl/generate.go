package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/training/simulate"
)

// runGenerate writes a synthetic SaaS history: the canonical tables into
// --out, loadable with churnctl ingest, and the ground truth into --truth.
func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("generate", stderr)
	accounts := fs.Int("accounts", 1000, "number of accounts (existing customers and trials)")
	months := fs.Int("months", 12, "months of history")
	seed := fs.Uint64("seed", 1, "random seed; equal flags give byte-identical files")
	out := fs.String("out", "", "folder for the canonical tables (required)")
	truth := fs.String("truth", "", "folder for truth_churn.csv and truth_conversion.csv (default: the --out folder's path + \"-truth\")")
	start := fs.String("start", simulate.DefaultStart.Format(time.DateOnly), "first day of the history, YYYY-MM-DD (UTC)")
	window := fs.Int("trial-window", simulate.DefaultTrialWindow, "days from --start over which self-serve trials arrive")
	workers := fs.Int("workers", 0, "goroutines simulating accounts (default: GOMAXPROCS); the output does not depend on it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: churnctl generate --out DIR [flags]\n\nWrites a synthetic SaaS history as CSV, one file per canonical table,\nand the hidden ground truth in a separate folder.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usagef("unexpected arguments %q", fs.Args())
	case *out == "":
		return usagef("--out is required")
	}
	startDay, err := time.Parse(time.DateOnly, *start)
	if err != nil {
		return usagef("--start: %v", err)
	}
	if *truth == "" {
		abs, err := filepath.Abs(*out)
		if err != nil {
			return fmt.Errorf("resolving --out: %w", err)
		}
		*truth = abs + "-truth"
	}
	cfg := simulate.Config{Accounts: *accounts, Months: *months, Seed: *seed, Start: startDay, TrialWindow: *window, Workers: *workers}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	began := time.Now()
	stats, err := simulate.Generate(ctx, cfg, *out, *truth)
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(stats.Rows))
	for _, t := range features.AllTables {
		paths = append(paths, filepath.Join(*out, simulate.FileName(t)))
	}
	for _, name := range []string{simulate.TruthChurnFile, simulate.TruthConversionFile, simulate.TruthChurnStartFile, simulate.TruthConversionWeekFile} {
		paths = append(paths, filepath.Join(*truth, name))
	}
	width := 0
	for _, n := range stats.Rows {
		width = max(width, len(strconv.FormatInt(n, 10)))
	}
	for _, p := range paths {
		fmt.Fprintf(stdout, "%*d rows  %s\n", width, stats.Rows[filepath.Base(p)], p)
	}
	slog.Info("generated history", "accounts", *accounts, "months", *months, "seed", *seed,
		"start", startDay.Format(time.DateOnly), "end", cfg.End().Format(time.DateOnly), "elapsed", time.Since(began).Round(time.Millisecond))
	return nil
}
