package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/openchurn/churn/store"
)

// The roles of API keys, each allowed what the ones before it are:
// viewer reads (reps: accounts, trials, alerts, which they may also
// acknowledge and resolve), ingest also writes records, admin also
// manages models and keys.
const (
	RoleViewer = "viewer"
	RoleIngest = "ingest"
	RoleAdmin  = "admin"
)

var roleRank = map[string]int{RoleViewer: 1, RoleIngest: 2, RoleAdmin: 3}

// ValidRole reports whether role is one of the roles.
func ValidRole(role string) bool { return roleRank[role] > 0 }

// keyPrefix starts every API key, so that a leaked key is easy to spot.
const keyPrefix = "churn_"

// NewKey returns a new random API key of the role and the record to store
// for it, which holds only the key's hash. The key itself is shown once
// and never stored.
func NewKey(role, name string, now time.Time) (key string, rec store.APIKey, err error) {
	if !ValidRole(role) {
		return "", rec, fmt.Errorf("unknown role %q (want viewer, ingest or admin)", role)
	}
	var secret [32]byte
	var id [6]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", rec, err
	}
	if _, err := rand.Read(id[:]); err != nil {
		return "", rec, err
	}
	key = keyPrefix + base64.RawURLEncoding.EncodeToString(secret[:])
	return key, store.APIKey{ID: "key_" + hex.EncodeToString(id[:]), Role: role, Hash: HashKey(key), Name: name,
		CreatedAt: now.UTC().Truncate(time.Microsecond)}, nil
}

// HashKey returns the hex SHA-256 of key, the form the store keeps.
func HashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// KeyStore is where the server reads API keys.
type KeyStore interface {
	APIKeys(ctx context.Context) ([]store.APIKey, error)
}

// keyring caches the active keys by hash and refreshes them every
// refresh, or sooner when an unknown key is presented (at most once a
// second), so that new keys work at once and revoked ones stop within
// the refresh interval.
type keyring struct {
	store   KeyStore
	refresh time.Duration

	mu      sync.RWMutex
	byHash  map[string]store.APIKey
	loaded  time.Time
	limiter map[string]*rate.Limiter
}

func (k *keyring) reload(ctx context.Context) error {
	keys, err := k.store.APIKeys(ctx)
	if err != nil {
		return err
	}
	m := make(map[string]store.APIKey, len(keys))
	for _, key := range keys {
		if key.RevokedAt.IsZero() {
			m[key.Hash] = key
		}
	}
	k.mu.Lock()
	k.byHash, k.loaded = m, time.Now()
	k.mu.Unlock()
	return nil
}

// lookup returns the active key whose hash matches presented.
func (k *keyring) lookup(ctx context.Context, presented string) (store.APIKey, bool, error) {
	sum := sha256.Sum256([]byte(presented))
	hash := hex.EncodeToString(sum[:])
	k.mu.RLock()
	key, ok := k.byHash[hash]
	age := time.Since(k.loaded)
	k.mu.RUnlock()
	if age > k.refresh || (!ok && age > time.Second) {
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
func (s *Server) verify(ctx context.Context, addr, presented string) (store.APIKey, bool, error) {
	now := time.Now()
	if err := s.throttle.check(addr, now); err != nil {
		return store.APIKey{}, false, err
	}
	if presented == "" {
		s.throttle.fail(addr, now)
		return store.APIKey{}, false, nil
	}
	key, ok, err := s.keys.lookup(ctx, presented)
	if err == nil && !ok {
		s.throttle.fail(addr, now)
	}
	return key, ok, err
}

// authenticate checks the bearer key, its role against the route's, and
// the key's rate limit; failures are throttled per client address.
func (s *Server) authenticate(role string) echo.MiddlewareFunc {
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
			if roleRank[key.Role] < roleRank[role] {
				return errorf(http.StatusForbidden, "forbidden", fmt.Sprintf("this needs the %s role; the key has %s", role, key.Role),
					map[string]string{"required_role": role, "key_role": key.Role})
			}
			if s.opts.RatePerSecond > 0 && !s.keys.allow(key.ID, rate.Limit(s.opts.RatePerSecond), s.opts.Burst) {
				return errorf(http.StatusTooManyRequests, "rate_limited", "too many requests for this key; retry shortly", nil)
			}
			return next(c)
		}
	}
}
