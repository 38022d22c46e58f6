package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counter reads the numbers 0 to n-1 into items.
func counter(n int) func(context.Context, Put[int]) error {
	return func(_ context.Context, put Put[int]) error {
		for i := range n {
			if err := put(func(it *int) { *it = i }); err != nil {
				return err
			}
		}
		return nil
	}
}

// noLeaks fails t if goroutines started during the test outlive it.
func noLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		// The goroutine closing done may still be returning.
		for range 100 {
			if runtime.NumGoroutine() <= before {
				return
			}
			time.Sleep(time.Millisecond)
		}
		t.Errorf("%d goroutines after Run, %d before", runtime.NumGoroutine(), before)
	})
}

func TestRunOrderAndBound(t *testing.T) {
	for _, tc := range []struct {
		workers, inFlight, want int // want is the effective bound
	}{
		{1, 0, 2},
		{1, 1, 1},
		{3, 0, 6},
		{3, 2, 3}, // raised to Workers
		{4, 17, 17},
		{8, 1000, 1000},
	} {
		t.Run(fmt.Sprintf("workers=%d,inflight=%d", tc.workers, tc.inFlight), func(t *testing.T) {
			noLeaks(t)
			const n = 500
			var (
				live, peak atomic.Int64
				mu         sync.Mutex
				items      = map[*int]bool{}
				got        []int
			)
			read := func(_ context.Context, put Put[int]) error {
				for i := range n {
					err := put(func(it *int) {
						mu.Lock()
						items[it] = true
						mu.Unlock()
						*it = i
						if l := live.Add(1); l > peak.Load() {
							peak.Store(l)
						}
					})
					if err != nil {
						return err
					}
				}
				return nil
			}
			work := func(w int, it *int) error {
				if w < 0 || w >= tc.workers {
					return fmt.Errorf("worker index %d out of [0, %d)", w, tc.workers)
				}
				if rand.IntN(4) == 0 {
					time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
				}
				*it *= 2
				return nil
			}
			emit := func(it *int) error {
				got = append(got, *it)
				live.Add(-1)
				return nil
			}
			if err := Run(context.Background(), Options{Workers: tc.workers, InFlight: tc.inFlight}, read, work, emit); err != nil {
				t.Fatal(err)
			}
			if len(got) != n {
				t.Fatalf("emitted %d items, want %d", len(got), n)
			}
			for i, x := range got {
				if x != 2*i {
					t.Fatalf("item %d is %d, want %d", i, x, 2*i)
				}
			}
			if p := peak.Load(); p > int64(tc.want) {
				t.Errorf("%d items in flight at once, want at most %d", p, tc.want)
			}
			if len(items) > tc.want {
				t.Errorf("%d distinct items allocated, want at most %d", len(items), tc.want)
			}
		})
	}
}

func TestRunBackPressure(t *testing.T) {
	noLeaks(t)
	const inFlight = 5
	var filled atomic.Int64
	release := make(chan struct{})
	read := func(_ context.Context, put Put[int]) error {
		for i := range 100 {
			if err := put(func(it *int) { *it = i; filled.Add(1) }); err != nil {
				return err
			}
		}
		return nil
	}
	errc := make(chan error, 1)
	go func() {
		errc <- Run(context.Background(), Options{Workers: 2, InFlight: inFlight}, read,
			func(int, *int) error { return nil },
			func(*int) error { <-release; return nil })
	}()
	time.Sleep(50 * time.Millisecond)
	if n := filled.Load(); n != inFlight {
		t.Errorf("with emit blocked the reader filled %d items, want %d", n, inFlight)
	}
	close(release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if n := filled.Load(); n != 100 {
		t.Errorf("filled %d items, want 100", n)
	}
}

func TestRunErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name        string
		read        func(context.Context, Put[int]) error
		workErrAt   int // -1 for never
		emitErrAt   int
		want        error
		wantEmitted int // -1 when it depends on timing
	}{
		{"emit fails", counter(100), -1, 10, boom, 11},
		{"work fails", counter(100), 37, -1, boom, 37},
		{"work fails at the first item", counter(100), 0, -1, boom, 0},
		{"work fails before emit would", counter(100), 20, 30, boom, 20},
		{"read fails", func(ctx context.Context, put Put[int]) error {
			if err := counter(5)(ctx, put); err != nil {
				return err
			}
			return boom
		}, -1, -1, boom, -1},
		{"no error", counter(100), -1, -1, nil, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noLeaks(t)
			emitted := 0
			err := Run(context.Background(), Options{Workers: 4}, tc.read,
				func(_ int, it *int) error {
					if *it == tc.workErrAt {
						return boom
					}
					return nil
				},
				func(it *int) error {
					emitted++
					if *it == tc.emitErrAt {
						return boom
					}
					return nil
				})
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Run returned %v, want %v", err, tc.want)
			}
			if tc.wantEmitted >= 0 && emitted != tc.wantEmitted {
				t.Errorf("emitted %d items, want %d", emitted, tc.wantEmitted)
			}
		})
	}
}

func TestRunCancel(t *testing.T) {
	noLeaks(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emitted := 0
	// An endless reader stops only because put fails.
	read := func(_ context.Context, put Put[int]) error {
		for i := 0; ; i++ {
			if err := put(func(it *int) { *it = i }); err != nil {
				return err
			}
		}
	}
	err := Run(ctx, Options{Workers: 3}, read, func(int, *int) error { return nil }, func(it *int) error {
		if emitted++; emitted == 50 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	if emitted != 50 {
		t.Errorf("emitted %d items, want 50: none after the cancel", emitted)
	}

	// A context ended before Run starts stops it at once.
	emitted = 0
	if err := Run(ctx, Options{}, counter(10), func(int, *int) error { return nil }, func(*int) error { emitted++; return nil }); !errors.Is(err, context.Canceled) || emitted != 0 {
		t.Errorf("cancelled before the start: %v after %d items", err, emitted)
	}
}

func TestWorkers(t *testing.T) {
	if got := Workers(3); got != 3 {
		t.Errorf("Workers(3) = %d", got)
	}
	if got, want := Workers(0), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("Workers(0) = %d, want GOMAXPROCS %d", got, want)
	}
}
