package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/store"
)

// runIngest loads CSV and NDJSON exports into the store, one transaction
// per file: a file with a bad row loads nothing, and the files that were
// fine stay loaded.
func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("ingest", stderr)
	db := dbFlag(fs)
	tableName := fs.String("table", "", "table every file holds (default: from each file's name, e.g. usage.csv)")
	mapPath := fs.String("map", "", "column mapping YAML: renames, date formats, boolean words")
	var opts store.LoadOptions
	fs.BoolVar(&opts.LastWins, "last-wins", false, "a key given twice in one file keeps its last row (default: the file is refused)")
	fs.BoolVar(&opts.Strict, "strict", false, "refuse files with rows for unknown accounts or columns no table has (default: load them and warn)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: churnctl ingest [flags] PATH...\n\nLoads .csv, .ndjson and .jsonl files, or folders of them (accounts first).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("no files or folders to ingest")
	}
	var table features.Table
	if *tableName != "" {
		t, err := features.ParseTable(*tableName)
		if err != nil {
			return usagef("--table: %v", err)
		}
		table = t
	}
	files, err := store.ExportFiles(fs.Args(), table)
	if errors.Is(err, store.ErrNotExport) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	var m *recordio.Mapping
	if *mapPath != "" {
		if m, err = recordio.LoadMapping(*mapPath); err != nil {
			return err
		}
	}

	s, err := openMigrated(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()

	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "file\ttable\tread\tinserted\tupdated\tunchanged\tmerged\tsuperseded")
	var warnings []string
	var failed []string
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		start := time.Now()
		res, err := s.LoadFile(ctx, f, m, opts)
		if err != nil {
			failed = append(failed, f.Path)
			fmt.Fprintf(tw, "%s\t%s\tFAILED, nothing kept\n", f.Path, f.Table)
			fmt.Fprintf(stderr, "churnctl ingest: %v\n", err)
			slog.ErrorContext(ctx, "ingest failed", "file", f.Path, "table", f.Table, "err", err)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", f.Path, f.Table, res.Read, res.Inserted, res.Updated, res.Unchanged, res.Merged, res.Superseded)
		warnings = append(warnings, fileWarnings(f.Path, res)...)
		// Negative escalations raise their alerts now, not at the next batch.
		if opened, err := serving.AfterIngest(ctx, s, &alerts.Engine{Store: s, Rules: alerts.DefaultRules()}, f.Table); err != nil {
			slog.ErrorContext(ctx, "ingestion alerts", "file", f.Path, "err", err)
		} else if len(opened) > 0 {
			slog.InfoContext(ctx, "alerts opened", "file", f.Path, "alerts", len(opened))
		}
		slog.InfoContext(ctx, "ingested", "file", f.Path, "table", f.Table, "read", res.Read,
			"inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged, "elapsed", time.Since(start).Round(time.Millisecond))
	}
	tw.Flush()
	for _, w := range warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files failed and loaded nothing; the other %d are loaded", len(failed), len(files), len(files)-len(failed))
	}
	return nil
}

// fileWarnings words what a load kept but a user should know.
func fileWarnings(path string, res store.FileResult) []string {
	var ws []string
	if len(res.Ignored) > 0 {
		ws = append(ws, fmt.Sprintf("%s: columns %s are not columns of %s and were ignored (--strict refuses them)",
			path, strings.Join(res.Ignored, ", "), res.Table))
	}
	if o := res.Orphans; o.Rows > 0 {
		ws = append(ws, fmt.Sprintf("%s: %d rows for %d accounts that no accounts row knows, first %q (--strict refuses them)",
			path, o.Rows, o.Accounts, o.First))
	}
	if res.Merged > 0 {
		ws = append(ws, fmt.Sprintf("%s: %d id-less events repeated another exactly and were counted into it", path, res.Merged))
	}
	if res.Superseded > 0 {
		ws = append(ws, fmt.Sprintf("%s: %d rows gave a key that a later row gave again, and the later row was kept", path, res.Superseded))
	}
	return ws
}
