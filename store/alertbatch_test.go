package store_test

import (
	"context"
	"testing"

	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// TestAlertBatch checks that a batch's alerts are stored, with their
// deliveries, only when it commits, that within a batch an account's rule
// opens once, and that a rolled-back batch stores nothing.
func TestAlertBatch(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		stored := func() (int, int) {
			t.Helper()
			as, err := s.Alerts(ctx, alerts.Query{})
			if err != nil {
				t.Fatal(err)
			}
			ds, err := s.Deliveries(ctx, alerts.DeliveryPending, 100)
			if err != nil {
				t.Fatal(err)
			}
			return len(as), len(ds)
		}
		discarded, err := s.BeginAlerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		a, d := alert("rolled-back")
		if ok, err := discarded.OpenAlert(ctx, a, d, t0); err != nil || !ok {
			t.Fatalf("opening in a batch: %v, %v", ok, err)
		}
		discarded.Rollback()
		if as, ds := stored(); as != 0 || ds != 0 {
			t.Fatalf("a rolled-back batch left %d alerts and %d deliveries", as, ds)
		}

		b, err := s.BeginAlerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Rollback()
		for _, tt := range []struct {
			id, account string
			want        bool
		}{
			{"first", "a1", true},
			{"twin", "a1", false}, // a1's band_drop is open, in this batch
			{"other", "a2", true},
		} {
			a, d := alert(tt.id)
			a.AccountID = tt.account
			if ok, err := b.OpenAlert(ctx, a, d, t0); err != nil || ok != tt.want {
				t.Errorf("opening %s on %s: %v, %v; want %v", tt.id, tt.account, ok, err, tt.want)
			}
		}
		if as, ds := stored(); as != 0 || ds != 0 {
			t.Errorf("before the batch commits, others see %d alerts and %d deliveries", as, ds)
		}
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		if as, ds := stored(); as != 2 || ds != 2 {
			t.Errorf("after the batch commits: %d alerts and %d deliveries, want 2 and 2", as, ds)
		}
		// The store writes again once the batch is done (SQLite's one
		// writer is free).
		a, d = alert("after")
		a.AccountID = "a3"
		if ok, err := s.OpenAlert(ctx, a, d, t0); err != nil || !ok {
			t.Errorf("opening after the batch: %v, %v", ok, err)
		}
	})
}
