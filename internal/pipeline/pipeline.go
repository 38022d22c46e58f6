package pipeline

import (
	"context"
	"runtime"
	"sync"
)

// Options sizes a pipeline.
type Options struct {
	// Workers is the number of goroutines running work; zero or less
	// means GOMAXPROCS (see Workers).
	Workers int
	// InFlight is the most items read but not yet emitted; zero or less
	// means two per worker, enough to keep every worker busy while emit
	// waits for the next item in order. It is raised to Workers if lower.
	InFlight int
}

// Workers returns the number of work goroutines Run starts for
// Options{Workers: n}: n, or GOMAXPROCS when n is zero or less. Callers
// size per-worker state with it.
func Workers(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// Put hands the reader an item to fill: it waits for a free item, calls
// fill with it and queues it for work. The item is one Run reuses, still
// holding what an earlier use left in it; fill must overwrite what work
// reads. Put returns an error, without calling fill, once the pipeline is
// stopping (ctx ended or another stage failed); read must then return.
type Put[T any] func(fill func(item *T)) error

// slot is one reusable item with its place in the order.
type slot[T any] struct {
	seq  int
	err  error
	item T
}

// Run reads items with read on a goroutine of its own, runs work on each
// on one of Workers(opts.Workers) goroutines, and calls emit with each, in
// the order read put them, on the calling goroutine. work gets the index
// of its goroutine, in [0, Workers(opts.Workers)), for state of its own. An
// item may be reused as soon as emit returns, so emit must not keep it.
//
// Run returns the first error of read, work, emit or ctx (see the package
// documentation for the guarantees). read must return once put fails.
func Run[T any](ctx context.Context, opts Options, read func(ctx context.Context, put Put[T]) error,
	work func(worker int, item *T) error, emit func(item *T) error) error {
	workers := Workers(opts.Workers)
	inFlight := opts.InFlight
	if inFlight <= 0 {
		inFlight = 2 * workers
	}
	inFlight = max(inFlight, workers)
	stop, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	free := make(chan *slot[T], inFlight)
	for range inFlight {
		free <- new(slot[T])
	}
	// Neither channel blocks for long: workers drain jobs, and done holds
	// every slot there is.
	jobs := make(chan *slot[T], workers)
	done := make(chan *slot[T], inFlight)

	var readErr error
	go func() {
		defer close(jobs)
		seq := 0
		readErr = read(stop, func(fill func(*T)) error {
			if stop.Err() != nil {
				return context.Cause(stop)
			}
			var s *slot[T]
			select {
			case s = <-free:
			case <-stop.Done():
				return context.Cause(stop)
			}
			s.seq, s.err = seq, nil
			seq++
			fill(&s.item)
			jobs <- s
			return nil
		})
		if readErr != nil {
			cancel(readErr)
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for s := range jobs {
				if stop.Err() == nil {
					s.err = work(w, &s.item)
				}
				done <- s
			}
		})
	}
	go func() {
		wg.Wait()
		close(done)
	}()

	// Slots in flight hold the sequence numbers next to next+inFlight-1,
	// since a slot is freed only at its turn; so a ring of inFlight places
	// reorders them without collisions.
	ring := make([]*slot[T], inFlight)
	var err error
	next := 0
	for s := range done {
		ring[s.seq%inFlight] = s
		for {
			s := ring[next%inFlight]
			if s == nil {
				break
			}
			ring[next%inFlight] = nil
			next++
			if err == nil && stop.Err() == nil {
				err = s.err
				if err == nil {
					err = emit(&s.item)
				}
				if err != nil {
					cancel(err)
				}
			}
			free <- s
		}
	}
	if err == nil {
		err = readErr
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}
