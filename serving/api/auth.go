package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/openchurn/churn/serving/access"
)

// KeyStore is where the server reads API keys.
type KeyStore interface {
	APIKeys(ctx context.Context) ([]access.Key, error)
}

// keyring caches the active keys by hash and refreshes them every
// refresh, or sooner when an unknown key is presented (at most once a
// second), so that new keys work at once and revoked ones stop within
// the refresh interval and one read of the keys. A request that finds the
// keys older than refresh is answered from them while one read refreshes
// them in the background; only keys older than twice refresh (the
// background reads failing) are read before answering, so that no
// request waits for the store on the hot path and a revoked key is
// refused within 2 × refresh even then.
type keyring struct {
	store   KeyStore
	refresh time.Duration

	mu         sync.RWMutex
	byHash     map[string]access.Key
	loaded     time.Time
	refreshing bool
	limiter    map[string]*rate.Limiter
}

func (k *keyring) reload(ctx context.Context) error {
	keys, err := k.store.APIKeys(ctx)
	if err != nil {
		return err
	}
	m := make(map[string]access.Key, len(keys))
	for _, key := range keys {
		if key.Active() {
			m[key.Hash] = key
		}
	}
	k.mu.Lock()
	k.byHash, k.loaded = m, time.Now()
	k.mu.Unlock()
	return nil
}

// lookup returns the active key whose hash matches presented.
func (k *keyring) lookup(ctx context.Context, presented string) (access.Key, bool, error) {
	hash := access.HashKey(presented)
	k.mu.RLock()
	key, ok := k.byHash[hash]
	age := time.Since(k.loaded)
	k.mu.RUnlock()
	if ok && age > k.refresh && age <= 2*k.refresh {
		k.refreshInBackground(ctx)
	} else if age > k.refresh || (!ok && age > time.Second) {
		if err := k.reload(ctx); err != nil {
			return key, false, err
		}
		k.mu.RLock()
		key, ok = k.byHash[hash]
		k.mu.RUnlock()
	}
	// The map lookup found the key by its hash; comparing the stored hash
	// in constant time as well keeps the final check free of timing.
	if !ok || subtle.ConstantTimeCompare([]byte(key.Hash), []byte(hash)) != 1 {
		return key, false, nil
	}
	return key, true, nil
}

// refreshInBackground starts one reload of the keys unless one is
// running; ctx's values are kept, not its cancellation. A failed reload
// leaves the keys as they were, to be read again by the next request.
func (k *keyring) refreshInBackground(ctx context.Context) {
	k.mu.Lock()
	if k.refreshing {
		k.mu.Unlock()
		return
	}
	k.refreshing = true
	k.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.refresh)
		defer cancel()
		_ = k.reload(ctx) // the next request past 2 × refresh reads them itself, and gets the error
		k.mu.Lock()
		k.refreshing = false
		k.mu.Unlock()
	}()
}

// allow takes one request from the key's rate limiter.
func (k *keyring) allow(id string, limit rate.Limit, burst int) bool {
	k.mu.Lock()
	l, ok := k.limiter[id]
	if !ok {
		if k.limiter == nil {
			k.limiter = map[string]*rate.Limiter{}
		}
		l = rate.NewLimiter(limit, burst)
		k.limiter[id] = l
	}
	k.mu.Unlock()
	return l.Allow()
}

// keyContext is where the authenticated key is kept in echo's context.
const keyContext = "api_key"

// verify checks a key presented by the client at addr: a client that
// failed too often lately gets a *ThrottledError without its key being
// looked at, and an empty, unknown or revoked key counts as a failure.
func (s *Server) verify(ctx context.Context, addr, presented string) (access.Key, bool, error) {
	now := time.Now()
	if err := s.throttle.check(addr, now); err != nil {
		return access.Key{}, false, err
	}
	if presented == "" {
		s.throttle.fail(addr, now)
		return access.Key{}, false, nil
	}
	key, ok, err := s.keys.lookup(ctx, presented)
	if err == nil && !ok {
		s.throttle.fail(addr, now)
	}
	return key, ok, err
}

// authenticate checks the bearer key, its role against the route's, and
// the key's rate limit.
func (s *Server) authenticate(role access.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			auth := c.Request().Header.Get(echo.HeaderAuthorization)
			presented, hasKey := strings.CutPrefix(auth, "Bearer ")
			key, ok, err := s.verify(c.Request().Context(), c.RealIP(), presented)
			var throttled *ThrottledError
			if errors.As(err, &throttled) {
				c.Response().Header().Set("Retry-After", strconv.Itoa(throttled.Seconds()))
				return errorf(http.StatusTooManyRequests, "rate_limited", throttled.Error(), nil)
			}
			if err != nil {
				return err
			}
			if !hasKey || presented == "" {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="churn"`)
				return errorf(http.StatusUnauthorized, "unauthorized", "missing API key: send Authorization: Bearer KEY", nil)
			}
			if !ok {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="churn", error="invalid_token"`)
				return errorf(http.StatusUnauthorized, "unauthorized", "unknown or revoked API key", nil)
			}
			c.Set(keyContext, key)
			if !key.Role.Allows(role) {
				return errorf(http.StatusForbidden, "forbidden", fmt.Sprintf("this needs the %s role; the key has %s", role, key.Role),
					map[string]string{"required_role": string(role), "key_role": string(key.Role)})
			}
			if s.opts.RatePerSecond > 0 && !s.keys.allow(key.ID, rate.Limit(s.opts.RatePerSecond), s.opts.Burst) {
				return errorf(http.StatusTooManyRequests, "rate_limited", "too many requests for this key; retry shortly", nil)
			}
			return next(c)
		}
	}
}
