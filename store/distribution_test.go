package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// TestDistributableByAccount checks, against PostgreSQL's catalog, the
// rule that lets Citus distribute every table with an account_id column
// by it (docs/SCALE.md): each of their unique indexes, keys included,
// contains account_id.
func TestDistributableByAccount(t *testing.T) {
	if !slices.Contains(storetest.Dialects(), "postgres") {
		t.Skip("needs PostgreSQL: set " + storetest.EnvPostgres)
	}
	s := storetest.Open(t, "postgres")
	got, err := s.UniqueIndexes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for name, hasAccount := range got {
		if !hasAccount {
			t.Errorf("unique index %s of a table with account_id does not contain account_id: Citus cannot distribute its table", name)
		}
	}
	// The keys of the tables docs/SCALE.md distributes: the rule above
	// must have seen them.
	for _, key := range []string{"accounts_pkey", "usage_events_pkey", "tickets_pkey", "escalations_pkey",
		"survey_responses_pkey", "billing_changes_pkey", "scores_pkey", "current_scores_pkey", "alerts_pkey",
		"alerts_one_open", "alert_outbox_pkey", "alert_actions_pkey"} {
		if _, ok := got[key]; !ok {
			t.Errorf("unique index %s not found on a table with account_id", key)
		}
	}
}

// TestMigrateDistributableAlerts checks that migration 0012 gives the
// deliveries a store already holds their alert's account.
func TestMigrateDistributableAlerts(t *testing.T) {
	upgradeFrom(t, 11, func(t *testing.T, ctx context.Context, s *store.Store) {
		now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		for _, q := range []string{
			"INSERT INTO alerts (alert_id, account_id, rule, status, observed_at, opened_at) VALUES ('al-1', 'acme', 'usage_drop', 'open', ?, ?)",
			"INSERT INTO alert_outbox (delivery_id, alert_id, payload, status, next_attempt_at, created_at) VALUES ('d-1', 'al-1', '{}', 'pending', ?, ?)",
		} {
			if err := s.ExecRaw(ctx, q, now, now); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := s.QueryString(ctx, "SELECT account_id FROM alert_outbox WHERE delivery_id = ?", "d-1")
		if err != nil || got != "acme" {
			t.Errorf("delivery d-1 after the upgrade: account %q, %v; want acme", got, err)
		}
	})
}
