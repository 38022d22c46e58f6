package api

import (
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Default limits of failed authentications per client address: a person
// mistyping a key is never stopped, a script guessing keys is slowed to
// one guess every six seconds.
const (
	DefaultAuthFailuresPerMinute = 10
	DefaultAuthFailureBurst      = 20
)

// ThrottledError is returned for a client address that failed to
// authenticate too often: it may try again after RetryAfter.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed authentications from this address; retry in %d s", e.Seconds())
}

// Seconds returns RetryAfter in whole seconds, rounded up, at least 1: the
// value of a Retry-After header.
func (e *ThrottledError) Seconds() int { return max(1, int(math.Ceil(e.RetryAfter.Seconds()))) }

// authThrottle counts failed authentications per client address in a
// token bucket: each failure takes a token, and an address without one is
// refused until the bucket refills, whether its next key is right or not,
// so that guessing cannot go faster than the refill rate.
type authThrottle struct {
	limit rate.Limit // zero disables the throttle
	burst int

	mu     sync.Mutex
	byAddr map[string]*rate.Limiter
}

// maxThrottled bounds the addresses tracked; past it, addresses whose
// buckets are full again are forgotten.
const maxThrottled = 100_000

func newAuthThrottle(perMinute float64, burst int) *authThrottle {
	if perMinute <= 0 {
		return &authThrottle{}
	}
	return &authThrottle{limit: rate.Limit(perMinute / 60), burst: max(burst, 1), byAddr: map[string]*rate.Limiter{}}
}

// check returns a *ThrottledError when addr may not try to authenticate
// now.
func (t *authThrottle) check(addr string, now time.Time) error {
	if t.limit == 0 {
		return nil
	}
	t.mu.Lock()
	l := t.byAddr[addr]
	t.mu.Unlock()
	if l == nil {
		return nil
	}
	if tokens := l.TokensAt(now); tokens < 1 {
		return &ThrottledError{RetryAfter: time.Duration((1 - tokens) / float64(t.limit) * float64(time.Second))}
	}
	return nil
}

// fail counts a failed authentication of addr.
func (t *authThrottle) fail(addr string, now time.Time) {
	if t.limit == 0 {
		return
	}
	t.mu.Lock()
	l := t.byAddr[addr]
	if l == nil {
		if len(t.byAddr) >= maxThrottled {
			for a, old := range t.byAddr {
				if old.TokensAt(now) >= float64(t.burst) {
					delete(t.byAddr, a)
				}
			}
		}
		l = rate.NewLimiter(t.limit, t.burst)
		t.byAddr[addr] = l
	}
	t.mu.Unlock()
	l.AllowN(now, 1)
}
