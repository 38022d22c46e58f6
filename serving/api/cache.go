package api

import (
	"math/rand/v2"
	"sync"
	"time"
)

// viewCache keeps rendered account views for a short time. The views are
// built from stored scores, which change only when a batch runs or an
// alert changes, so a hot account (a dashboard polled by a team) is read
// from the store once per TTL rather than once per request. Writes through
// this server (acknowledging, resolving, ingesting, activating) clear it;
// a batch run elsewhere shows within the TTL.
type viewCache struct {
	ttl time.Duration
	max int

	mu       sync.RWMutex
	entries  map[string]cached
	inflight map[string]*render
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

func newViewCache(ttl time.Duration, max int) *viewCache {
	return &viewCache{ttl: ttl, max: max, entries: map[string]cached{}, inflight: map[string]*render{}}
}

// get returns the cached body of key, if it has not expired.
func (c *viewCache) get(key string, now time.Time) ([]byte, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[key]
	c.mu.RUnlock()
	if !ok || now.After(e.expires) {
		return nil, false
	}
	return e.body, true
}

// put caches body under key for between half the TTL and the TTL, drawn
// at random, so that views built together (a dashboard's first page, a
// warm-up) do not all expire, and rebuild, at the same moment. When the
// cache is full it starts afresh, which bounds memory without bookkeeping
// per entry.
func (c *viewCache) put(key string, body []byte, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		c.entries = map[string]cached{}
	}
	c.entries[key] = cached{body: body, expires: now.Add(c.ttl/2 + rand.N(c.ttl/2+1))}
	c.mu.Unlock()
}

// clear drops every entry.
func (c *viewCache) clear() {
	c.mu.Lock()
	c.entries = map[string]cached{}
	c.mu.Unlock()
}

// load returns the view under key: cached, or built by build once for all
// the requests that miss it at the same time, and then cached.
func (c *viewCache) load(key string, now time.Time, build func() ([]byte, error)) ([]byte, error) {
	if body, ok := c.get(key, now); ok {
		return body, nil
	}
	if c.ttl <= 0 {
		return build()
	}
	c.mu.Lock()
	if r, ok := c.inflight[key]; ok {
		c.mu.Unlock()
		<-r.done
		return r.body, r.err
	}
	r := &render{done: make(chan struct{})}
	c.inflight[key] = r
	c.mu.Unlock()
	r.body, r.err = build()
	c.mu.Lock()
	delete(c.inflight, key)
	c.mu.Unlock()
	close(r.done)
	if r.err == nil {
		c.put(key, r.body, now)
	}
	return r.body, r.err
}
