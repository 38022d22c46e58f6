package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/store"
)

// ingestFile is one export to load.
type ingestFile struct {
	path   string
	table  features.Table
	format recordio.Format
}

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
	files, err := ingestFiles(fs.Args(), table)
	if err != nil {
		return err
	}
	var m *recordio.Mapping
	if *mapPath != "" {
		if m, err = recordio.LoadMapping(*mapPath); err != nil {
			return err
		}
	}

	s, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		return err
	}

	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "file\ttable\tread\tinserted\tupdated\tunchanged")
	var failed []string
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		start := time.Now()
		res, err := ingestOne(ctx, s, f, m)
		if err != nil {
			failed = append(failed, f.path)
			fmt.Fprintf(tw, "%s\t%s\tFAILED, nothing kept\n", f.path, f.table)
			fmt.Fprintf(stderr, "churnctl ingest: %v\n", err)
			slog.ErrorContext(ctx, "ingest failed", "file", f.path, "table", f.table, "err", err)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", f.path, f.table, res.Read, res.Inserted, res.Updated, res.Unchanged)
		slog.InfoContext(ctx, "ingested", "file", f.path, "table", f.table, "read", res.Read,
			"inserted", res.Inserted, "updated", res.Updated, "unchanged", res.Unchanged, "elapsed", time.Since(start).Round(time.Millisecond))
	}
	tw.Flush()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files failed and loaded nothing; the other %d are loaded", len(failed), len(files), len(files)-len(failed))
	}
	return nil
}

// ingestOne loads one file in one transaction.
func ingestOne(ctx context.Context, s *store.Store, f ingestFile, m *recordio.Mapping) (store.LoadResult, error) {
	in, err := os.Open(f.path)
	if err != nil {
		return store.LoadResult{}, err
	}
	defer in.Close()
	d, err := recordio.NewDecoder(in, f.path, f.table, f.format, m)
	if err != nil {
		return store.LoadResult{}, err
	}
	res, err := s.Load(ctx, f.table, d)
	if ignored := d.Ignored(); len(ignored) > 0 && err == nil {
		slog.InfoContext(ctx, "ignored columns", "file", f.path, "columns", ignored)
	}
	return res, err
}

// ingestFiles expands folders into the export files they hold and orders
// every file by table load order (accounts first), keeping the given
// order within a table. A file whose table or format cannot be told is a
// usage error: nothing is loaded.
func ingestFiles(paths []string, table features.Table) ([]ingestFile, error) {
	var files []ingestFile
	add := func(path string) error {
		format, err := recordio.FormatOf(path)
		if err != nil {
			return usagef("%v", err)
		}
		t := table
		if t == "" {
			if t, err = recordio.TableOf(path); err != nil {
				return usagef("%v (or give --table)", err)
			}
		}
		files = append(files, ingestFile{path: path, table: t, format: format})
		return nil
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			if err := add(p); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if _, ferr := recordio.FormatOf(path); ferr != nil {
				return nil // folders may hold READMEs and mapping files
			}
			return add(path)
		})
		if err != nil {
			var ue usageError
			if errors.As(err, &ue) {
				return nil, err
			}
			return nil, fmt.Errorf("reading folder %s: %w", p, err)
		}
	}
	slices.SortStableFunc(files, func(a, b ingestFile) int {
		return slices.Index(features.Tables, a.table) - slices.Index(features.Tables, b.table)
	})
	return files, nil
}
