package api

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// viewCache keeps rendered account views. The views are built from stored
// scores, which change only when a batch runs or an alert changes, so a
// hot account (a dashboard polled by a team) is read from the store about
// once per TTL rather than once per request. A view older than its TTL is
// still served while one rebuild of it runs in the background, so that
// requests wait for the store only on a view's first read: rebuilds on
// expiry are what set the tail latency of reads rotating over many
// accounts. Writes through this server (acknowledging, resolving,
// ingesting, activating) clear the cache, and no view built before a
// clear is cached or served after it; a batch run elsewhere shows within
// about a TTL.
type viewCache struct {
	ttl time.Duration
	max int
	// rebuilds holds a token per background rebuild running; when it is
	// full, stale views are served without starting another, so that a
	// burst of expiries does not flood the store.
	rebuilds chan struct{}

	mu       sync.Mutex
	entries  map[string]cached
	inflight map[string]*render
	// gen counts clears: a view built in an earlier generation is not
	// cached.
	gen uint64
}

// render is one view being built, which concurrent misses of the same key
// wait for rather than each reading the store.
type render struct {
	done chan struct{}
	body []byte
	err  error
}

type cached struct {
	body    []byte
	expires time.Time
}

// maxRebuilds bounds the background rebuilds that run at once.
const maxRebuilds = 4

// rebuildTimeout bounds a background rebuild, which no request waits for.
const rebuildTimeout = 30 * time.Second

func newViewCache(ttl time.Duration, max int) *viewCache {
	return &viewCache{ttl: ttl, max: max, rebuilds: make(chan struct{}, maxRebuilds),
		entries: map[string]cached{}, inflight: map[string]*render{}}
}

// get returns the cached body of key and whether it is fresh: not past
// its expiry.
func (c *viewCache) get(key string, now time.Time) (body []byte, fresh, ok bool) {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	return e.body, ok && !now.After(e.expires), ok
}

// put caches body under key for between half the TTL and the TTL, drawn
// at random, so that views built together (a dashboard's first page, a
// warm-up) do not all expire, and rebuild, at the same moment, unless the
// cache was cleared since generation gen. When the cache is full it
// starts afresh, which bounds memory without bookkeeping per entry. c.mu
// must be held.
func (c *viewCache) put(key string, body []byte, now time.Time, gen uint64) {
	if gen != c.gen {
		return
	}
	if len(c.entries) >= c.max {
		c.entries = map[string]cached{}
	}
	c.entries[key] = cached{body: body, expires: now.Add(c.ttl/2 + rand.N(c.ttl/2+1))}
}

// clear drops every entry, and makes the views being built uncacheable.
func (c *viewCache) clear() {
	c.mu.Lock()
	c.entries, c.inflight = map[string]cached{}, map[string]*render{}
	c.gen++
	c.mu.Unlock()
}

// load returns the view under key: cached, or built by build once for all
// the requests that miss it at the same time, and then cached. A view
// past its expiry is returned as it is, and rebuilt in the background
// with a context that keeps ctx's values but not its cancellation.
func (c *viewCache) load(ctx context.Context, key string, now time.Time, build func(context.Context) ([]byte, error)) ([]byte, error) {
	if c.ttl <= 0 {
		return build(ctx)
	}
	body, fresh, ok := c.get(key, now)
	if fresh {
		return body, nil
	}
	c.mu.Lock()
	r, running := c.inflight[key]
	switch {
	case ok:
		if !running {
			c.rebuild(ctx, key, now, build)
		}
		c.mu.Unlock()
		return body, nil
	case running:
		c.mu.Unlock()
		<-r.done
		return r.body, r.err
	}
	r, gen := c.start(key)
	c.mu.Unlock()
	r.body, r.err = build(ctx)
	c.finish(key, r, now, gen)
	return r.body, r.err
}

// rebuild starts building key's view in the background, unless
// maxRebuilds are running. c.mu must be held.
func (c *viewCache) rebuild(ctx context.Context, key string, now time.Time, build func(context.Context) ([]byte, error)) {
	select {
	case c.rebuilds <- struct{}{}:
	default:
		return
	}
	r, gen := c.start(key)
	go func() {
		defer func() { <-c.rebuilds }()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rebuildTimeout)
		defer cancel()
		func() {
			defer func() {
				if p := recover(); p != nil { // no request's recovery covers this goroutine
					r.body, r.err = nil, fmt.Errorf("rebuilding the view %s: %v", key, p)
				}
			}()
			r.body, r.err = build(ctx)
		}()
		c.finish(key, r, now, gen)
	}()
}

// start registers a build of key and returns it with the generation it
// belongs to. c.mu must be held.
func (c *viewCache) start(key string) (*render, uint64) {
	r := &render{done: make(chan struct{})}
	c.inflight[key] = r
	return r, c.gen
}

// finish caches what r built, or drops key's view when building it
// failed, so that the next request builds it and gets the error, and
// releases the requests waiting for r.
func (c *viewCache) finish(key string, r *render, now time.Time, gen uint64) {
	c.mu.Lock()
	if c.inflight[key] == r {
		delete(c.inflight, key)
	}
	if r.err == nil {
		c.put(key, r.body, now, gen)
	} else if gen == c.gen {
		delete(c.entries, key)
	}
	c.mu.Unlock()
	close(r.done)
}

// scoreWatch notices a batch run by another process (churnctl score, or
// another server's schedule), which no write through this server
// announces: at most every poll it reads the stored scores' stamp (their
// latest scoring time, from an index, which every chunk a batch stores
// raises) in the background, and clears the
// caches when the stamp changed. A batch stores each chunk of scores with
// a later scoring time, so a list or view shows a committed batch within
// about poll and one store read, while no request waits for the check.
// The first check clears the caches too, since what was cached before it
// has no stamp to compare with.
type scoreWatch struct {
	poll  time.Duration
	stamp func(context.Context) (time.Time, error)
	clear func()
	log   func(error)

	mu       sync.Mutex
	checked  time.Time
	checking bool
	last     time.Time
	started  bool
}

// check starts a background read of the stamp when poll has passed since
// the last one began and none is running; ctx's values are kept, not its
// cancellation.
func (w *scoreWatch) check(ctx context.Context, now time.Time) {
	if w == nil || w.poll <= 0 {
		return
	}
	w.mu.Lock()
	if w.checking || now.Sub(w.checked) < w.poll {
		w.mu.Unlock()
		return
	}
	w.checking, w.checked = true, now
	w.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rebuildTimeout)
		defer cancel()
		stamp, err := w.stamp(ctx)
		w.mu.Lock()
		changed := err == nil && (!w.started || !stamp.Equal(w.last))
		if err == nil {
			w.last, w.started = stamp, true
		}
		w.checking = false
		w.mu.Unlock()
		if err != nil {
			w.log(err)
		}
		if changed {
			w.clear()
		}
	}()
}
