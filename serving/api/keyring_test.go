package api

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/openchurn/churn/serving/access"
)

// keyStore is a KeyStore whose reads can be held, counting them.
type keyStore struct {
	mu    sync.Mutex
	keys  []access.Key
	reads int
	hold  chan struct{} // when not nil, a read waits for it to close
}

func (s *keyStore) APIKeys(context.Context) ([]access.Key, error) {
	s.mu.Lock()
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		<-hold
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	return append([]access.Key(nil), s.keys...), nil
}

func (s *keyStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads
}

// TestKeyringRefreshesInTheBackground checks that a key read more than
// refresh ago is accepted without waiting for the store while one read
// refreshes the keys, and that a revoked key is refused once that read
// is done.
func TestKeyringRefreshesInTheBackground(t *testing.T) {
	const refresh = 100 * time.Millisecond
	secret, rec, err := access.NewKey(access.Viewer, "k", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ks := &keyStore{keys: []access.Key{rec}}
	k := &keyring{store: ks, refresh: refresh}
	ctx := context.Background()
	if _, ok, err := k.lookup(ctx, secret); !ok || err != nil {
		t.Fatalf("first lookup: %v, %v", ok, err)
	}
	// Past refresh, with the store's reads held: the key is still
	// accepted at once.
	hold := make(chan struct{})
	ks.mu.Lock()
	ks.hold, ks.keys[0].RevokedAt = hold, time.Now()
	ks.mu.Unlock()
	time.Sleep(refresh + 10*time.Millisecond)
	done := make(chan bool)
	go func() {
		_, ok, _ := k.lookup(ctx, secret)
		done <- ok
	}()
	select {
	case ok := <-done:
		if !ok {
			t.Error("a key read lately is refused before the refresh ended")
		}
	case <-time.After(refresh / 2):
		t.Fatal("a lookup past refresh waited for the store")
	}
	// The held read is the one background refresh: once it returns the
	// revoked key is refused.
	close(hold)
	waitFor(t, "the background refresh", func() bool { return ks.count() == 2 })
	waitFor(t, "the refresh to end", func() bool {
		k.mu.RLock()
		defer k.mu.RUnlock()
		return !k.refreshing
	})
	if _, ok, _ := k.lookup(ctx, secret); ok {
		t.Error("a revoked key is accepted after the refresh")
	}
	if n := ks.count(); n != 2 {
		t.Errorf("%d reads of the keys, want 2", n)
	}
}
