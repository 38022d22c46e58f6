package dataset

import (
	"context"
	"fmt"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/internal/pipeline"
)

// Batch is the kept rows of one account, in as-of order. It is valid only
// during the emit call that receives it.
type Batch struct {
	History *features.History
	Vectors []features.Vector
	// Labels holds one label per vector; NaN for unlabelled tasks.
	Labels []float64
}

// Stats counts what a sweep read and kept.
type Stats struct {
	Accounts int64 // histories read
	Events   int64 // event records in them
	Vectors  int64 // vectors built
	Rows     int64 // rows kept and emitted
}

// Options tunes Sweep.
type Options struct {
	// Features configures the builders.
	Features features.Config
	// Workers is the number of builders; zero means GOMAXPROCS.
	Workers int
}

// Stream reads every history of src, calls work with it on one of
// pipeline.Workers(opts.Workers) goroutines, then emit with it, in the
// order src gave the accounts, on the calling goroutine. Both get the
// account's history and a result r of the caller's type; Stream reuses
// both from account to account, so buffers grown in them are kept. work
// gets the index of its goroutine, for state of its own such as a
// features.Builder. emit may keep a history or result past its call only
// by swapping its contents with a value of its own (whose buffers Stream
// then reuses). Stream stops at the first error, from src, work, emit or
// ctx, and returns it; see package pipeline for the guarantees.
func Stream[R any](ctx context.Context, src Source, opts pipeline.Options,
	work func(worker int, h *features.History, r *R) error, emit func(h *features.History, r *R) error) error {
	type account struct {
		hist   features.History
		result R
	}
	read := func(ctx context.Context, put pipeline.Put[account]) error {
		err := src.Histories(ctx, func(h *features.History) error {
			return put(func(a *account) { a.hist.CopyFrom(h) })
		})
		if err != nil {
			return fmt.Errorf("reading histories: %w", err)
		}
		return nil
	}
	return pipeline.Run(ctx, opts, read,
		func(w int, a *account) error { return work(w, &a.hist, &a.result) },
		func(a *account) error { return emit(&a.hist, &a.result) })
}

// built is one account's vectors on their way through a sweep.
type built struct {
	times   []time.Time
	vectors []features.Vector
	batch   Batch
}

// Sweep reads every history of src, builds its vectors as of task.AsOf on
// opts.Workers goroutines, labels them, and calls emit with each
// account's kept rows in the order src gave the accounts. Accounts without
// kept rows are not emitted. emit runs on the calling goroutine. Sweep
// stops at the first error, from src, a builder, emit or ctx, and returns
// it with the counts so far.
func Sweep(ctx context.Context, src Source, task Task, opts Options, emit func(*Batch) error) (Stats, error) {
	st, err := SweepTasks(ctx, src, []Task{task}, []features.Config{opts.Features}, opts.Workers,
		func(_ int, b *Batch) error { return emit(b) })
	return st[0], err
}

// SweepTasks is Sweep for several tasks in one read of src: each history
// is built and labelled for every task, tasks[k] with the features of
// cfgs[k], and emit gets k with each account's kept rows of tasks[k],
// account by account and, within an account, in task order. It returns
// the counts of each task; Accounts and Events are those of the one read.
func SweepTasks(ctx context.Context, src Source, tasks []Task, cfgs []features.Config, workers int, emit func(k int, b *Batch) error) ([]Stats, error) {
	st := make([]Stats, len(tasks))
	if len(cfgs) != len(tasks) {
		return st, fmt.Errorf("dataset: sweep of %d tasks given %d feature configurations", len(tasks), len(cfgs))
	}
	// builders[w][k] is worker w's builder of task k.
	builders := make([][]*features.Builder, pipeline.Workers(workers))
	for w := range builders {
		for _, cfg := range cfgs {
			b, err := features.NewBuilder(cfg)
			if err != nil {
				return st, err
			}
			builders[w] = append(builders[w], b)
		}
	}
	err := Stream(ctx, src, pipeline.Options{Workers: len(builders)},
		func(w int, h *features.History, out *[]built) error {
			if len(*out) < len(tasks) {
				*out = make([]built, len(tasks))
			}
			for k, task := range tasks {
				if err := build(builders[w][k], task, h, &(*out)[k]); err != nil {
					return err
				}
			}
			return nil
		},
		func(h *features.History, out *[]built) error {
			for k := range tasks {
				b := &(*out)[k]
				st[k].Accounts++
				st[k].Events += int64(h.Events())
				st[k].Vectors += int64(len(b.vectors))
				if len(b.batch.Vectors) == 0 {
					continue
				}
				st[k].Rows += int64(len(b.batch.Vectors))
				if err := emit(k, &b.batch); err != nil {
					return err
				}
			}
			return nil
		})
	return st, err
}

// build fills out's batch with the kept, labelled vectors of h.
func build(b *features.Builder, task Task, h *features.History, out *built) error {
	out.times = task.AsOf(h, out.times)
	var err error
	out.vectors, err = b.Build(h, out.times, out.vectors)
	if err != nil {
		return err
	}
	out.batch.History = h
	out.batch.Vectors = out.batch.Vectors[:0]
	out.batch.Labels = out.batch.Labels[:0]
	for i := range out.vectors {
		v := &out.vectors[i]
		if label, keep := task.Label(h, v); keep {
			out.batch.Vectors = append(out.batch.Vectors, *v)
			out.batch.Labels = append(out.batch.Labels, label)
		}
	}
	return nil
}
