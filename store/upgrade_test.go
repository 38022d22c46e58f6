package store_test

import (
	"context"
	"testing"

	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// upgradeFrom runs fn, on each dialect, on a store migrated up to
// version, which fn fills before it migrates the rest.
func upgradeFrom(t *testing.T, version int, fn func(t *testing.T, ctx context.Context, s *store.Store)) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, storetest.DSN(t, dialect))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.MigrateTo(ctx, version); err != nil {
				t.Fatal(err)
			}
			fn(t, ctx, s)
		})
	}
}
