package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/dataset"
)

// runDataset writes a labelled training set built from the store: one row
// per (account, as_of), the features as of then, and the label.
func runDataset(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dataset", stderr)
	tf := addTaskFlags(fs)
	rf := addRowFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: churnctl dataset --task churn|conversion --out FILE.csv [flags]\n\n"+
			"Writes account_id, as_of, every feature of the catalog and label, one row per account and observation.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if tf.task == "" {
		return usagef("--task is required: churn or conversion")
	}
	shard, err := rf.check()
	if err != nil {
		return err
	}
	spec, err := tf.spec(ctx)
	if err != nil {
		return err
	}
	s, plan, err := planFromStore(ctx, tf, spec)
	if err != nil {
		return err
	}
	defer s.Close()
	return rf.write(ctx, s, shard, plan.Task, plan.Record.Features, stdout)
}

// rowFlags are the flags of the commands that write feature rows.
type rowFlags struct {
	shard, out string
	workers    int
}

func addRowFlags(fs *flag.FlagSet) *rowFlags {
	rf := &rowFlags{}
	fs.StringVar(&rf.shard, "shard", "", "only the accounts of shard i of n, e.g. 0/4 (by a hash of account_id)")
	fs.StringVar(&rf.out, "out", "", "CSV file to write (required); written whole or not at all")
	fs.IntVar(&rf.workers, "workers", 0, "goroutines building features (default: GOMAXPROCS)")
	return rf
}

// check validates the flags and returns the shard.
func (rf *rowFlags) check() (store.Shard, error) {
	if rf.out == "" {
		return store.Shard{}, usagef("--out is required")
	}
	if rf.workers < 0 {
		return store.Shard{}, usagef("--workers %d is negative", rf.workers)
	}
	shard, err := store.ParseShard(rf.shard)
	if err != nil {
		return store.Shard{}, usagef("--shard: %v", err)
	}
	return shard, nil
}

// progressEvery is how often a long sweep logs its progress.
const progressEvery = 10 * time.Second

// write sweeps the shard's histories under task and writes the kept rows
// to the --out file, replacing it only once every row is written.
func (rf *rowFlags) write(ctx context.Context, s *store.Store, shard store.Shard, task dataset.Task, cfg features.Config, stdout io.Writer) error {
	start := time.Now()
	src := dataset.SourceFunc(func(ctx context.Context, fn func(*features.History) error) error {
		return s.Histories(ctx, shard, fn)
	})
	var st dataset.Stats
	err := writeAtomically(rf.out, func(w io.Writer) error {
		cw, err := dataset.NewWriter(w, cfg, task.Labelled())
		if err != nil {
			return err
		}
		var rows int64
		last := start
		st, err = dataset.Sweep(ctx, src, task, dataset.Options{Features: cfg, Workers: rf.workers}, func(b *dataset.Batch) error {
			rows += int64(len(b.Vectors))
			if now := time.Now(); now.Sub(last) >= progressEvery {
				last = now
				slog.InfoContext(ctx, "building rows", "account", b.History.AccountID, "rows", rows, "elapsed", now.Sub(start).Round(time.Second))
			}
			return cw.Write(b)
		})
		if err != nil {
			return err
		}
		return cw.Flush()
	})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	slog.InfoContext(ctx, "wrote rows", "out", rf.out, "shard", shard, "accounts", st.Accounts, "events", st.Events,
		"vectors", st.Vectors, "rows", st.Rows, "elapsed", elapsed.Round(time.Millisecond))
	fmt.Fprintf(stdout, "%s: %d rows from %d accounts (%d events, %d vectors built) in %s\n",
		rf.out, st.Rows, st.Accounts, st.Events, st.Vectors, elapsed.Round(time.Millisecond))
	return nil
}
