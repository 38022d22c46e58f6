package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

func TestAPIKeyOwner(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, k := range []access.Key{
			{ID: "key_rep", Role: access.Viewer, Hash: "h1", Name: "rep two", Owner: "rep-02", CreatedAt: t0},
			{ID: "key_ops", Role: access.Admin, Hash: "h2", CreatedAt: t0.Add(time.Second)},
		} {
			if err := s.CreateAPIKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		for _, owner := range []string{access.AllOwners, "rep\x01", strings.Repeat("r", features.MaxIDBytes+1)} {
			err := s.CreateAPIKey(ctx, access.Key{ID: "key_bad", Role: access.Viewer, Hash: "h3", Owner: owner, CreatedAt: t0})
			if err == nil || !strings.Contains(err.Error(), "owner") {
				t.Errorf("a key owned by %.20q: %v, want an error naming the owner", owner, err)
			}
		}
		keys, err := s.APIKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 || keys[0].Owner != "rep-02" || keys[0].Name != "rep two" || keys[1].Owner != "" {
			t.Errorf("keys = %+v, want rep-02's key and one without owner", keys)
		}
	})
}

// TestMigrateKeyOwners checks that migration 0011 keeps the keys a store
// already holds, without an owner.
func TestMigrateKeyOwners(t *testing.T) {
	upgradeFrom(t, 10, func(t *testing.T, ctx context.Context, s *store.Store) {
		if err := s.ExecRaw(ctx, "INSERT INTO api_keys (key_id, role, hash, name, created_at) VALUES ('key_old', 'viewer', 'h-old', 'before owners', ?)", t0); err != nil {
			t.Fatal(err)
		}
		applied, err := s.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(applied, "0011_key_owners") {
			t.Errorf("the upgrade applied %v, not 0011_key_owners", applied)
		}
		if err := s.CreateAPIKey(ctx, access.Key{ID: "key_new", Role: access.Viewer, Hash: "h-new", Owner: "rep-07", CreatedAt: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		keys, err := s.APIKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 || keys[0].ID != "key_old" || keys[0].Owner != "" || keys[0].Name != "before owners" || !keys[0].Active() ||
			keys[1].Owner != "rep-07" {
			t.Errorf("keys after the upgrade: %+v", keys)
		}
	})
}

// TestTodayListings checks the listings the Today view reads: rising
// risk by the expected ARR the rise added, renewals in a window, a set of
// accounts, each for one owner or all, and their counts.
func TestTodayListings(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		day := func(n int) time.Time { return t0.AddDate(0, 0, n) }
		accounts := accountRecords{
			{AccountID: "a1", Owner: "rep-1", CreatedAt: t0, RenewalAt: day(10)},
			{AccountID: "a2", Owner: "rep-2", CreatedAt: t0, RenewalAt: day(59)},
			{AccountID: "a3", Owner: "rep-1", CreatedAt: t0, RenewalAt: day(60)},
			{AccountID: "a4", Owner: "rep-1", CreatedAt: t0, RenewalAt: day(-1)},
			{AccountID: "a5", Owner: "rep-1", CreatedAt: t0},
		}
		src := slices.Clone(accounts) // Load takes the rows it reads
		if _, err := s.Load(ctx, features.Accounts, &src); err != nil {
			t.Fatal(err)
		}
		// Current scores: probability, previous (-1 for none), ARR.
		for i, sc := range []struct {
			p, prev, arr float64
		}{
			{0.30, 0.10, 1_000},   // rise 200
			{0.20, 0.10, 5_000},   // rise 500
			{0.05, 0.20, 9_000},   // a fall
			{0.50, -1, 8_000},     // a first score
			{0.40, 0.39, 100_000}, // rise 1,000
		} {
			row := scoreOf(accounts[i].AccountID, day(0), 1, sc.p)
			row.Owner, row.ARR, row.RevenueAtRisk = accounts[i].Owner, sc.arr, sc.p*sc.arr
			if sc.prev >= 0 {
				row.Previous = sc.prev
			}
			if err := s.PutScores(ctx, []score.Score{row}); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name  string
			q     score.ListQuery
			want  []string
			count int64
		}{
			{"rising", score.ListQuery{RisingBy: 0.005}, []string{"a5", "a2", "a1"}, 3},
			{"rising, one owner", score.ListQuery{RisingBy: 0.005, Owner: "rep-1"}, []string{"a5", "a1"}, 2},
			{"rising after a cursor", score.ListQuery{RisingBy: 0.005, After: &score.ListCursor{Value: 500, AccountID: "a2"}}, []string{"a1"}, 3},
			{"rising by at least 0.05", score.ListQuery{RisingBy: 0.05}, []string{"a2", "a1"}, 2},
			{"renewals in 60 days", score.ListQuery{RenewsFrom: day(0), RenewsBefore: day(60), ByRevenueAtRisk: true}, []string{"a2", "a1"}, 2},
			{"renewals of one owner", score.ListQuery{Owner: "rep-1", RenewsFrom: day(0), RenewsBefore: day(61)}, []string{"a1", "a3"}, 2},
			{"some accounts", score.ListQuery{AccountIDs: []string{"a3", "a4", "nope"}}, []string{"a4", "a3"}, 2},
			{"some accounts by ARR at risk, the first", score.ListQuery{AccountIDs: []string{"a1", "a3", "a5"}, ByRevenueAtRisk: true, Limit: 1}, []string{"a5"}, 3},
			{"some rising accounts", score.ListQuery{AccountIDs: []string{"a1", "a2", "a3"}, RisingBy: 0.005}, []string{"a2", "a1"}, 2},
			{"no accounts", score.ListQuery{AccountIDs: []string{}}, nil, 0},
		}
		for _, tc := range tests {
			tc.q.Task = "churn"
			if tc.q.Limit == 0 {
				tc.q.Limit = 10
			}
			rows, err := s.ScoreRows(ctx, tc.q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r.AccountID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
			n, err := s.CountScoreRows(ctx, tc.q)
			if err != nil || n != tc.count {
				t.Errorf("%s: count %d, %v; want %d", tc.name, n, err, tc.count)
			}
		}
		rows, err := s.ScoreRows(ctx, score.ListQuery{Task: "churn", RisingBy: 0.005, Limit: 1})
		if err != nil || len(rows) != 1 || rows[0].RiseARR() < 999.99 || rows[0].RiseARR() > 1000.01 {
			t.Errorf("the biggest rise: %+v, %v; want a5's, 1,000", rows, err)
		}
		// The drops are counted from their index alone, and listed from the
		// rows past the threshold.
		if strings.HasSuffix(t.Name(), "/sqlite") {
			for _, tc := range []struct {
				q     score.ListQuery
				index string
			}{
				{score.ListQuery{Task: "churn", RisingBy: 0.005, Limit: 10}, "current_scores_task_rise"},
				{score.ListQuery{Task: "churn", Owner: "rep-1", RisingBy: 0.005, Limit: 10}, "current_scores_task_rise"},
			} {
				list, count, err := s.ScoreRowsPlans(ctx, tc.q)
				if err != nil || !strings.Contains(strings.Join(list, "\n"), "USING INDEX "+tc.index+" (task=? AND ") ||
					!strings.Contains(strings.Join(count, "\n"), "USING COVERING INDEX "+tc.index+" (task=? AND ") {
					t.Errorf("plans of %+v: listing %q, count %q, %v; want both on %s, the count on it alone", tc.q, list, count, err, tc.index)
				}
			}
		}
	})
}
