package api

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cacheWith returns a cache holding body under key, put at t.
func cacheWith(ttl time.Duration, key, body string, t time.Time) *viewCache {
	c := newViewCache(ttl, 100)
	c.mu.Lock()
	c.put(key, []byte(body), t, c.gen)
	c.mu.Unlock()
	return c
}

func TestViewCacheExpiry(t *testing.T) {
	const ttl = 10 * time.Second
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := cacheWith(ttl, "a", "A", t0)
	tests := []struct {
		at    time.Duration
		fresh bool
	}{
		{0, true},
		{ttl / 2, true}, // every entry lives at least half the TTL
		{ttl + time.Nanosecond, false},
	}
	for _, tt := range tests {
		if body, fresh, ok := c.get("a", t0.Add(tt.at)); !ok || string(body) != "A" || fresh != tt.fresh {
			t.Errorf("get after %v: %q, fresh %v, ok %v; want fresh %v", tt.at, body, fresh, ok, tt.fresh)
		}
	}
	c.clear()
	if _, _, ok := c.get("a", t0); ok {
		t.Error("get after clear: hit")
	}
}

func TestViewCacheSpreadsExpiry(t *testing.T) {
	const ttl = 10 * time.Second
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newViewCache(ttl, 1000)
	c.mu.Lock()
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		c.put(k, nil, t0, c.gen)
	}
	c.mu.Unlock()
	seen := map[time.Time]bool{}
	for _, e := range c.entries {
		seen[e.expires] = true
	}
	if len(seen) < 2 {
		t.Errorf("8 views put together all expire at %v", seen)
	}
}

func TestViewCacheBuildsOnceForConcurrentMisses(t *testing.T) {
	c := newViewCache(time.Minute, 100)
	var builds atomic.Int32
	release := make(chan struct{})
	build := func(context.Context) ([]byte, error) {
		builds.Add(1)
		<-release
		return []byte("view"), nil
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if body, err := c.load(context.Background(), "k", time.Now(), build); err != nil || string(body) != "view" {
				t.Errorf("load = %q, %v", body, err)
			}
		})
	}
	for builds.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := builds.Load(); n != 1 {
		// Late arrivals may find the view cached; none may build again.
		t.Errorf("%d builds for one key, want 1", n)
	}
}

// blockingBuild returns a build that counts its calls, signals started
// and returns body once release is closed, with the error of its
// context if it ended.
func blockingBuild(body string, builds *atomic.Int32, started chan<- struct{}, release <-chan struct{}) func(context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		builds.Add(1)
		started <- struct{}{}
		<-release
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return []byte(body), nil
	}
}

func TestViewCacheServesStaleWhileOneRebuildRuns(t *testing.T) {
	const ttl = 10 * time.Second
	t0 := time.Now()
	c := cacheWith(ttl, "k", "old", t0)
	later := t0.Add(2 * ttl)
	var builds atomic.Int32
	started, release := make(chan struct{}, 1), make(chan struct{})
	build := blockingBuild("new", &builds, started, release)
	// The request that finds the view stale is answered with it at once,
	// and its context ends as it is answered; the rebuild goes on.
	ctx, cancel := context.WithCancel(context.Background())
	if body, err := c.load(ctx, "k", later, build); err != nil || string(body) != "old" {
		t.Fatalf("load of a stale view = %q, %v; want the stale view", body, err)
	}
	cancel()
	startedIn(t, started)
	for range 20 {
		if body, err := c.load(context.Background(), "k", later, build); err != nil || string(body) != "old" {
			t.Fatalf("load while rebuilding = %q, %v; want the stale view", body, err)
		}
	}
	close(release)
	waitFor(t, "the rebuilt view", func() bool { _, fresh, _ := c.get("k", later); return fresh })
	if body, _, _ := c.get("k", later); string(body) != "new" {
		t.Fatalf("rebuilt view %q, want new", body)
	}
	if n := builds.Load(); n != 1 {
		t.Errorf("%d rebuilds, want 1", n)
	}
}

func TestViewCacheDropsRebuildsStartedBeforeAClear(t *testing.T) {
	const ttl = 10 * time.Second
	t0 := time.Now()
	c := cacheWith(ttl, "k", "old", t0)
	var builds atomic.Int32
	started, release := make(chan struct{}, 2), make(chan struct{})
	if body, _ := c.load(context.Background(), "k", t0.Add(2*ttl), blockingBuild("before", &builds, started, release)); string(body) != "old" {
		t.Fatalf("load of a stale view = %q", body)
	}
	startedIn(t, started)
	c.clear() // a write: what the rebuild read may be outdated
	done := make(chan []byte)
	go func() {
		body, _ := c.load(context.Background(), "k", t0.Add(2*ttl), blockingBuild("after", &builds, started, release))
		done <- body
	}()
	startedIn(t, started) // the request after the clear builds its own view
	close(release)
	if body := <-done; string(body) != "after" {
		t.Errorf("load after a clear = %q, want the view built after it", body)
	}
	waitFor(t, "the rebuilds", func() bool { return len(c.rebuilds) == 0 })
	if body, _, _ := c.get("k", t0.Add(2*ttl)); string(body) != "after" {
		t.Errorf("cached %q, want the view built after the clear", body)
	}
}

func TestViewCacheFailedRebuildDropsTheView(t *testing.T) {
	const ttl = 10 * time.Second
	t0 := time.Now()
	c := cacheWith(ttl, "k", "old", t0)
	gone := errors.New("account deleted")
	failing := func(context.Context) ([]byte, error) { return nil, gone }
	if body, err := c.load(context.Background(), "k", t0.Add(2*ttl), failing); err != nil || string(body) != "old" {
		t.Fatalf("load of a stale view = %q, %v", body, err)
	}
	waitFor(t, "the rebuilds", func() bool { return len(c.rebuilds) == 0 })
	if _, err := c.load(context.Background(), "k", t0.Add(2*ttl), failing); !errors.Is(err, gone) {
		t.Errorf("load after a failed rebuild: %v, want its error", err)
	}
}

func TestViewCacheBoundsRebuilds(t *testing.T) {
	const ttl = 10 * time.Second
	t0 := time.Now()
	c := newViewCache(ttl, 100)
	keys := []string{"a", "b", "c", "d", "e", "f"}
	c.mu.Lock()
	for _, k := range keys {
		c.put(k, []byte(k), t0, c.gen)
	}
	c.mu.Unlock()
	var builds atomic.Int32
	started, release := make(chan struct{}, len(keys)), make(chan struct{})
	build := blockingBuild("new", &builds, started, release)
	for _, k := range keys {
		if body, err := c.load(context.Background(), k, t0.Add(2*ttl), build); err != nil || string(body) != k {
			t.Fatalf("load %s = %q, %v; want the stale view", k, body, err)
		}
	}
	for range maxRebuilds {
		startedIn(t, started)
	}
	if n := builds.Load(); n != maxRebuilds {
		t.Errorf("%d rebuilds at once, want %d", n, maxRebuilds)
	}
	close(release)
	waitFor(t, "the rebuilds", func() bool { return len(c.rebuilds) == 0 })
}

// startedIn waits up to 10 s for a build to signal started.
func startedIn(t *testing.T, started <-chan struct{}) {
	t.Helper()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("waited 10 s for a build to start")
	}
}

// waitFor waits up to 10 s for done to hold.
func waitFor(t *testing.T, what string, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !done(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
	}
}
