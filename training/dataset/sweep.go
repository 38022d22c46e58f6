package dataset

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/openchurn/churn/features"
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

// slot carries one account from the reader through a worker to the
// writer, and back to the reader empty; its buffers are reused.
type slot struct {
	seq   int64
	hist  features.History
	times []time.Time
	built []features.Vector
	batch Batch
	err   error
}

// Sweep reads every history of src, builds its vectors as of task.AsOf on
// opts.Workers goroutines, labels them, and calls emit with each
// account's kept rows in the order src gave the accounts. Accounts without
// kept rows are not emitted. emit runs on the calling goroutine. Sweep
// stops at the first error, from src, a builder, emit or ctx, and returns
// it with the counts so far.
func Sweep(ctx context.Context, src Source, task Task, opts Options, emit func(*Batch) error) (Stats, error) {
	var st Stats
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	builders := make([]*features.Builder, workers)
	for i := range builders {
		b, err := features.NewBuilder(opts.Features)
		if err != nil {
			return st, err
		}
		builders[i] = b
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// Two slots per worker keep every worker busy while the writer waits
	// for the next account in order; more would only hold more memory.
	free := make(chan *slot, 2*workers)
	for range cap(free) {
		free <- &slot{}
	}
	jobs := make(chan *slot, workers)
	done := make(chan *slot, cap(free))

	var readErr error
	go func() {
		defer close(jobs)
		var seq int64
		readErr = src.Histories(ctx, func(h *features.History) error {
			var s *slot
			select {
			case s = <-free:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			s.seq, s.err = seq, nil
			seq++
			s.hist.CopyFrom(h)
			jobs <- s
			return nil
		})
	}()
	var wg sync.WaitGroup
	for _, b := range builders {
		wg.Go(func() {
			for s := range jobs {
				s.err = build(b, task, s)
				done <- s
			}
		})
	}
	go func() {
		wg.Wait()
		close(done)
	}()

	// Results arrive in any order; pending holds them until their turn.
	// It never holds more than the slots, so it stays small.
	pending := make(map[int64]*slot, cap(free))
	var next int64
	var err error
	for s := range done {
		pending[s.seq] = s
		for {
			s, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if err == nil {
				err = deliver(s, &st, emit)
				if err != nil {
					cancel(err)
				}
			}
			free <- s
		}
	}
	if err == nil && readErr != nil {
		err = fmt.Errorf("reading histories: %w", readErr)
	}
	if err == nil {
		err = ctx.Err()
	}
	return st, err
}

// build fills s's batch with the kept, labelled vectors of s.hist.
func build(b *features.Builder, task Task, s *slot) error {
	s.times = task.AsOf(&s.hist, s.times)
	var err error
	s.built, err = b.Build(&s.hist, s.times, s.built)
	if err != nil {
		return err
	}
	s.batch.History = &s.hist
	s.batch.Vectors = s.batch.Vectors[:0]
	s.batch.Labels = s.batch.Labels[:0]
	for i := range s.built {
		v := &s.built[i]
		if label, keep := task.Label(&s.hist, v); keep {
			s.batch.Vectors = append(s.batch.Vectors, *v)
			s.batch.Labels = append(s.batch.Labels, label)
		}
	}
	return nil
}

// deliver counts s and emits its batch.
func deliver(s *slot, st *Stats, emit func(*Batch) error) error {
	if s.err != nil {
		return s.err
	}
	st.Accounts++
	st.Events += int64(s.hist.Events())
	st.Vectors += int64(len(s.built))
	if len(s.batch.Vectors) == 0 {
		return nil
	}
	st.Rows += int64(len(s.batch.Vectors))
	return emit(&s.batch)
}
