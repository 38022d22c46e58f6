package api

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestViewCacheExpiry(t *testing.T) {
	const ttl = 10 * time.Second
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newViewCache(ttl, 100)
	c.put("a", []byte("A"), t0)
	tests := []struct {
		at  time.Duration
		hit bool
	}{
		{0, true},
		{ttl / 2, true}, // every entry lives at least half the TTL
		{ttl + time.Nanosecond, false},
	}
	for _, tt := range tests {
		if _, ok := c.get("a", t0.Add(tt.at)); ok != tt.hit {
			t.Errorf("get after %v: hit %v, want %v", tt.at, ok, tt.hit)
		}
	}
	c.clear()
	if _, ok := c.get("a", t0); ok {
		t.Error("get after clear: hit")
	}
}

func TestViewCacheSpreadsExpiry(t *testing.T) {
	const ttl = 10 * time.Second
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newViewCache(ttl, 1000)
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		c.put(k, nil, t0)
	}
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
	build := func() ([]byte, error) {
		builds.Add(1)
		<-release
		return []byte("view"), nil
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if body, err := c.load("k", time.Now(), build); err != nil || string(body) != "view" {
				t.Errorf("load = %q, %v", body, err)
			}
		}()
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
