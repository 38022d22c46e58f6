package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/transform"
	"github.com/openchurn/churn/training/trainer"
)

// loadReport is what ingest did with one file or canonical view.
type loadReport struct {
	Source string `json:"source"` // a file's path, or "view NAME"
	store.FileResult
	Error string `json:"error,omitempty"` // the refusal; nothing of it was kept
}

// ingestReport is ingest's --json document.
type ingestReport struct {
	DryRun  bool          `json:"dry_run"`
	Loads   []loadReport  `json:"loads"`
	Quality store.Quality `json:"quality"`
}

// runIngest loads CSV and NDJSON exports into the store, one transaction
// per file (or canonical view of a transform): a file with a bad row loads
// nothing, and the files that were fine stay loaded.
func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ingest", stderr)
	db := dbFlag(fs)
	tableName := fs.String("table", "", "table every file holds (default: from each file's name, e.g. usage.csv)")
	mapPath := fs.String("map", "", "column mapping YAML: renames, date formats, boolean words")
	transformPath := fs.String("transform", "", "SQL file defining the canonical tables as views over the staged files (or over --source)")
	source := fs.String("source", "", "with --transform: run it against this PostgreSQL database instead of files")
	dryRun := fs.Bool("dry-run", false, "load nothing; report what a load would do and what looks wrong")
	asJSON := fs.Bool("json", false, "print one JSON document instead of a table and warnings")
	configPath := fs.String("config", "", "configuration file: the alert rules that loaded escalations may raise")
	var opts load.Options
	fs.BoolVar(&opts.LastWins, "last-wins", false, "a key given twice in one file keeps its last row (default: the file is refused)")
	fs.BoolVar(&opts.Strict, "strict", false, "refuse files with rows for unknown accounts or columns no table has (default: load them and warn)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: churnctl ingest [flags] PATH...\n       churnctl ingest --transform FILE.sql [flags] PATH...\n       churnctl ingest --transform FILE.sql --source DSN [flags]\n\n"+
			"Loads .csv, .ndjson and .jsonl files, or folders of them (accounts first); with --transform,\n"+
			"stages them in an embedded SQLite database and loads the canonical views the SQL defines.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *source != "" && *transformPath == "":
		return usagef("--source needs --transform")
	case *source != "" && fs.NArg() > 0:
		return usagef("give --source or files, not both")
	case *source == "" && fs.NArg() == 0:
		return usagef("no files or folders to ingest")
	case *transformPath != "" && *tableName != "":
		return usagef("--table names the table of files; a transform's views are named after their tables")
	}
	cfg, err := serving.LoadConfig(*configPath)
	if err != nil {
		return usageError{err}
	}
	var m *recordio.Mapping
	if *mapPath != "" {
		if m, err = recordio.LoadMapping(*mapPath); err != nil {
			return err
		}
	}
	var load func(ctx context.Context, l store.Loader) []loadReport
	if *transformPath != "" {
		w, err := openTransform(ctx, *transformPath, *source, fs.Args())
		if err != nil {
			return err
		}
		defer w.Close()
		load = func(ctx context.Context, l store.Loader) []loadReport {
			return loadViews(ctx, w, l, m, opts)
		}
	} else {
		var table features.Table
		if *tableName != "" {
			if table, err = features.ParseTable(*tableName); err != nil {
				return usagef("--table: %v", err)
			}
		}
		files, err := store.ExportFiles(fs.Args(), table)
		if errors.Is(err, store.ErrNotExport) {
			return usageError{err}
		}
		if err != nil {
			return err
		}
		load = func(ctx context.Context, l store.Loader) []loadReport {
			return loadFiles(ctx, l, files, m, opts)
		}
	}

	s, err := openMigrated(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()

	var (
		reports []loadReport
		quality store.Quality
	)
	now := time.Now().UTC()
	if *dryRun {
		opts.CollectInvalid = true // report every bad row, not the first
		quality, err = s.DryRun(ctx, now, func(l store.Loader) error {
			reports = load(ctx, l)
			return nil
		})
	} else {
		reports = load(ctx, s)
		var loaded []features.Table
		for _, r := range reports {
			// Negative escalations raise their alerts now, not at the next batch.
			if r.Error != "" {
				continue
			}
			loaded = append(loaded, r.Table)
			if opened, err := serving.AfterIngest(ctx, s, &alerts.Engine{Store: s, Rules: cfg.Rules()}, r.Table); err != nil {
				slog.ErrorContext(ctx, "ingestion alerts", "source", r.Source, "err", err)
			} else if len(opened) > 0 {
				slog.InfoContext(ctx, "alerts opened", "source", r.Source, "alerts", len(opened))
			}
		}
		if err == nil && ctx.Err() == nil && len(loaded) > 0 {
			// Only the tables loaded: each check reads a whole table.
			quality, err = s.Quality(ctx, now, loaded...)
		}
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ingestReport{DryRun: *dryRun, Loads: reports, Quality: quality}); err != nil {
			return err
		}
	} else {
		printLoads(stdout, reports, *dryRun)
		printCensus(stdout, quality.Training)
		for _, w := range warnings(reports, quality) {
			fmt.Fprintln(stderr, "warning:", w)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	var failed int
	for _, r := range reports {
		if r.Error != "" {
			failed++
			if !*asJSON {
				fmt.Fprintf(stderr, "churnctl ingest: %s\n", r.Error)
			}
		}
	}
	switch {
	case failed == 0:
		return nil
	case *dryRun:
		return fmt.Errorf("%d of %d would be refused", failed, len(reports))
	}
	return errors.New(failedFiles(failed, len(reports)))
}

// openTransform stages paths (or connects to source) and runs the
// transform at path.
func openTransform(ctx context.Context, path, source string, paths []string) (*transform.Workspace, error) {
	script, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading transform: %w", err)
	}
	var w *transform.Workspace
	if source != "" {
		w, err = transform.Connect(ctx, source)
	} else {
		w, err = transform.Stage(ctx, paths)
	}
	if err != nil {
		return nil, err
	}
	if err := w.Apply(ctx, path, string(script)); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

func loadFiles(ctx context.Context, l store.Loader, files []store.ExportFile, m *recordio.Mapping, opts load.Options) []loadReport {
	var reports []loadReport
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		start := time.Now()
		res, err := store.LoadFile(ctx, l, f, m, opts)
		res.Table = f.Table
		reports = append(reports, reportLoad(ctx, f.Path, res, err, start))
	}
	return reports
}

func loadViews(ctx context.Context, w *transform.Workspace, l store.Loader, m *recordio.Mapping, opts load.Options) []loadReport {
	start := time.Now()
	results, err := w.Load(ctx, l, m, opts)
	if err != nil {
		return []loadReport{{Source: "transform", Error: err.Error()}}
	}
	var reports []loadReport
	for _, r := range results {
		reports = append(reports, reportLoad(ctx, "view "+string(r.Table), store.FileResult{Result: r.Result}, r.Err, start))
	}
	return reports
}

func reportLoad(ctx context.Context, source string, res store.FileResult, err error, start time.Time) loadReport {
	r := loadReport{Source: source, FileResult: res}
	if err != nil {
		r.Error = err.Error()
		slog.ErrorContext(ctx, "ingest failed", "source", source, "table", res.Table, "err", err)
		return r
	}
	slog.InfoContext(ctx, "ingested", "source", source, "table", res.Table, "read", res.Read,
		"inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged, "elapsed", time.Since(start).Round(time.Millisecond))
	return r
}

func printLoads(out io.Writer, reports []loadReport, dryRun bool) {
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	if dryRun {
		fmt.Fprintln(tw, "DRY RUN: nothing is stored")
	}
	fmt.Fprintln(tw, "source\ttable\tread\tinserted\tupdated\tunchanged\tmerged\tsuperseded")
	for _, r := range reports {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\tREFUSED, nothing kept\n", r.Source, r.Table)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", r.Source, r.Table, r.Read, r.Inserted, r.Updated, r.Unchanged, r.Merged, r.Superseded)
	}
	tw.Flush()
}

// warnings words what the loads kept, and the data holds, that a user
// should know.
func warnings(reports []loadReport, q store.Quality) []string {
	var ws []string
	for _, r := range reports {
		if inv := r.Invalid; inv != nil {
			for _, k := range inv.Kinds {
				ws = append(ws, fmt.Sprintf("%s: %d rows refused: column %q: %s; first: %s", r.Source, k.Rows, k.Column, k.Reason, k.Examples[0]))
			}
		}
		if len(r.Ignored) > 0 {
			ws = append(ws, fmt.Sprintf("%s: columns %s are not columns of %s and were ignored (--strict refuses them)",
				r.Source, strings.Join(r.Ignored, ", "), r.Table))
		}
		if o := r.Orphans; o.Rows > 0 {
			ws = append(ws, fmt.Sprintf("%s: %d rows for %d accounts that no accounts row knows, first %q (--strict refuses them)",
				r.Source, o.Rows, o.Accounts, o.First))
		}
		if r.Merged > 0 {
			ws = append(ws, fmt.Sprintf("%s: %d id-less events repeated another exactly and were counted into it", r.Source, r.Merged))
		}
		if r.Superseded > 0 {
			ws = append(ws, fmt.Sprintf("%s: %d rows gave a key that a later row gave again; the later row was kept", r.Source, r.Superseded))
		}
		if r.StartsInferred > 0 {
			ws = append(ws, fmt.Sprintf("%s: %d accounts have no created_at and start at their earliest record", r.Source, r.StartsInferred))
		}
	}
	for _, c := range []struct {
		counts []store.TableCount
		what   string
	}{
		{q.Orphans, "rows for accounts that no accounts row knows"},
		{q.BeforeStart, "rows dated before their account's created_at"},
		{q.InFuture, "rows dated in the future"},
	} {
		for _, tc := range c.counts {
			ws = append(ws, fmt.Sprintf("store: %s holds %d %s, first for account %q", tc.Table, tc.Count.Count, c.what, tc.First))
		}
	}
	if n := q.NeverBilled; n.Count > 0 {
		ws = append(ws, fmt.Sprintf("store: %d accounts have no billing change, so are never paying, first %q", n.Count, n.First))
	}
	if n := q.EndlessTrials; n.Count > 0 {
		ws = append(ws, fmt.Sprintf("store: %d trials have no end, conversion or churn, first %q", n.Count, n.First))
	}
	for _, task := range []struct {
		name, eligible, positives string
		n                         store.TaskAccounts
	}{{"churn", "ever paying", "churned", q.Churn}, {"conversion", "trials", "converted", q.Conversion}} {
		if task.n.Eligible == 0 || task.n.Positives == 0 {
			ws = append(ws, fmt.Sprintf("store: the %s task has %d accounts %s, %d of them %s: too few to train on",
				task.name, task.n.Eligible, task.eligible, task.n.Positives, task.positives))
		}
	}
	guard := trainer.DefaultGuard()
	for _, c := range q.Training {
		if !guard.Enough(float64(c.TestPositives), float64(c.TestRows-c.TestPositives)) {
			ws = append(ws, fmt.Sprintf("store: the default %s training run's test set would hold %d positive and %d negative rows, "+
				"fewer than the %d and %d a model needs to be activated by itself: it would stay a candidate",
				c.Task, c.TestPositives, c.TestRows-c.TestPositives, guard.MinPositives, guard.MinNegatives))
		}
	}
	return ws
}

// printCensus words what each task's default training run would hold.
func printCensus(out io.Writer, census []trainer.Census) {
	for _, c := range census {
		window := "from " + c.From.Format(time.DateOnly)
		if !c.To.IsZero() {
			window += " to " + c.To.Format(time.DateOnly)
		}
		fmt.Fprintf(out, "%s: the default training run (observations %s) would hold %d rows of %d accounts, %d positive (%d accounts); "+
			"its test set from %s %d rows, %d positive\n",
			c.Task, window, c.Rows, c.Accounts, c.Positives, c.PositiveAccounts, c.TestFrom.Format(time.DateOnly), c.TestRows, c.TestPositives)
	}
}
