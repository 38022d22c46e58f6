package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// TestLatestScoredAt checks the stamp the API watches for batches run
// elsewhere: zero on an empty store, then the latest scoring time of the
// current scores, which a later batch's scores raise.
func TestLatestScoredAt(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if at, err := s.LatestScoredAt(ctx); err != nil || !at.IsZero() {
			t.Fatalf("empty store: %v, %v; want zero", at, err)
		}
		asOf := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		at0 := time.Date(2025, 1, 1, 2, 0, 0, 123000, time.UTC)
		for i, at := range []time.Time{at0, at0.Add(time.Minute), at0.Add(time.Hour)} {
			a, b := scoreOf("A1", asOf.AddDate(0, 0, 7*i), 1, 0.2), scoreOf("A2", asOf.AddDate(0, 0, 7*i), 1, 0.3)
			a.ScoredAt, b.ScoredAt = at, at.Add(-time.Second)
			if err := s.PutScores(ctx, []score.Score{a, b}); err != nil {
				t.Fatal(err)
			}
			if got, err := s.LatestScoredAt(ctx); err != nil || !got.Equal(at) {
				t.Errorf("batch %d: %v, %v; want %v", i, got, err, at)
			}
		}
	})
}
