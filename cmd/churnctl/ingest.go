package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	fmt.Fprintln(tw, "file\ttable\tread\tinserted\tupdated\tunchanged")
	var failed []string
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		start := time.Now()
		res, err := s.LoadFile(ctx, f, m)
		if err != nil {
			failed = append(failed, f.Path)
			fmt.Fprintf(tw, "%s\t%s\tFAILED, nothing kept\n", f.Path, f.Table)
			fmt.Fprintf(stderr, "churnctl ingest: %v\n", err)
			slog.ErrorContext(ctx, "ingest failed", "file", f.Path, "table", f.Table, "err", err)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", f.Path, f.Table, res.Read, res.Inserted, res.Updated, res.Unchanged)
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
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	if len(failed) > 0 {
		return errors.New(failedFiles(len(failed), len(files)))
	}
	return nil
}
