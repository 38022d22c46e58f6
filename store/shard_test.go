package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// shardFixture loads accounts with rows in every table, and usage events
// of accounts that have no account row, into s: into the tables only
// names, or every table.
func shardFixture(t *testing.T, s *store.Store, accounts, eventsPerAccount int, only ...features.Table) {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	recs := map[features.Table][]recordio.Record{}
	for a := range accounts {
		id := fmt.Sprintf("acct-%05d", a)
		if a%10 != 9 { // every tenth account is known only by its events
			recs[features.Accounts] = append(recs[features.Accounts], &features.Account{AccountID: id, CreatedAt: start})
		}
		for e := range eventsPerAccount {
			at := start.Add(time.Duration(e*37%eventsPerAccount) * time.Hour)
			recs[features.UsageEvents] = append(recs[features.UsageEvents], &features.UsageEvent{
				EventID: fmt.Sprintf("e%d", e), AccountID: id, Feature: "reports", At: at, Count: 1})
		}
		if a%3 == 0 {
			recs[features.Tickets] = append(recs[features.Tickets], &features.Ticket{TicketID: "t" + id, AccountID: id,
				OpenedAt: start, Priority: "high"})
			recs[features.Escalations] = append(recs[features.Escalations], &features.Escalation{EscalationID: "x" + id,
				AccountID: id, At: start, Direction: "negative", Severity: "high"})
			recs[features.SurveyResponses] = append(recs[features.SurveyResponses], &features.SurveyResponse{
				ResponseID: "r" + id, AccountID: id, At: start, Kind: "nps", Score: 3})
			recs[features.BillingChanges] = append(recs[features.BillingChanges], &features.BillingChange{
				ChangeID: "b" + id, AccountID: id, At: start, Kind: "new"})
		}
	}
	tables := features.Tables
	if only != nil {
		tables = only
	}
	for _, table := range tables {
		if _, err := s.Load(ctx, table, &sliceSource{recs: recs[table]}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestShardsPartition checks that the shards of a sweep partition the
// store: every account, with all its records, in exactly the shard that
// Contains it, and the histories of each shard in account_id order.
func TestShardsPartition(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		shardFixture(t, s, 300, 5)
		all, allAccounts := readAll(t, s, store.Shard{})
		if len(allAccounts) != 300 {
			t.Fatalf("the store holds %d accounts, want 300", len(allAccounts))
		}
		for _, n := range []int{1, 2, 3, 4, 7} {
			var union []recordio.Record
			seen := map[string]int{}
			for i := range n {
				shard := store.Shard{Index: i, Count: n}
				recs, accounts := readAll(t, s, shard)
				if !slices.IsSorted(accounts) {
					t.Errorf("shard %s: accounts not in account_id order", shard)
				}
				for _, a := range accounts {
					if prev, ok := seen[a]; ok {
						t.Errorf("account %s in shards %d/%d and %s", a, prev, n, shard)
					}
					seen[a] = i
					if !shard.Contains(a) {
						t.Errorf("shard %s yielded %s, which it does not contain", shard, a)
					}
				}
				if n == 4 && (len(accounts) < 50 || len(accounts) > 100) {
					t.Errorf("shard %s holds %d of 300 accounts", shard, len(accounts))
				}
				union = append(union, recs...)
			}
			if len(seen) != len(allAccounts) {
				t.Errorf("%d shards hold %d accounts, the store %d", n, len(seen), len(allAccounts))
			}
			slices.SortFunc(union, func(a, b recordio.Record) int { return strings.Compare(sortKey(a), sortKey(b)) })
			want := slices.Clone(all)
			slices.SortFunc(want, func(a, b recordio.Record) int { return strings.Compare(sortKey(a), sortKey(b)) })
			if len(union) != len(want) {
				t.Errorf("%d shards hold %d records, the store %d", n, len(union), len(want))
				continue
			}
			for i := range union {
				if !reflect.DeepEqual(union[i], want[i]) {
					t.Errorf("%d shards: record %d is %+v, the store's %+v", n, i, union[i], want[i])
					break
				}
			}
		}
	})
}

// TestShardSweepPlan checks that a shard's queries read its rows only:
// the shard's accounts from one range of the table's bucket index, their
// rows by key, and no table scanned whole. On PostgreSQL, which scans
// small tables whole whatever their indexes, it checks usage events, and
// counts the rows each scan returned: the shard's index entries, then
// its rows.
func TestShardSweepPlan(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) { testShardSweepPlan(t, dialect) })
	}
}

func testShardSweepPlan(t *testing.T, dialect string) {
	s := storetest.Open(t, dialect)
	ctx := context.Background()
	shardFixture(t, s, 400, 50)
	// Statistics as a store in use has them; and on PostgreSQL the
	// visibility map, without which an index-only scan visits the table.
	analyze := map[string]string{"sqlite": "ANALYZE", "postgres": "VACUUM ANALYZE"}[dialect]
	if err := s.ExecRaw(ctx, analyze); err != nil {
		t.Fatal(err)
	}
	shard := store.Shard{Index: 1, Count: 4}
	recs, _ := readAll(t, s, shard)
	usage := 0
	for _, r := range recs {
		if _, ok := r.(*features.UsageEvent); ok {
			usage++
		}
	}
	for _, table := range features.Tables {
		plan, err := s.SweepPlan(ctx, table, shard)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "\n")
		if dialect == "sqlite" {
			// SQLite: every access is a search, one of them of the
			// bucket index without the table.
			for _, line := range plan {
				if strings.HasPrefix(line, "SCAN ") {
					t.Errorf("%s: the shard's query scans a whole table: %s\n%s", table, line, text)
				}
			}
			if want := "USING COVERING INDEX " + string(table) + "_shard"; !strings.Contains(text, want) {
				t.Errorf("%s: the shard's query does not read %s:\n%s", table, want, text)
			}
			continue
		}
		if table != features.UsageEvents {
			continue
		}
		scanned := 0
		for _, line := range plan {
			if strings.Contains(line, "Seq Scan") || strings.Contains(line, "Rows Removed") {
				t.Errorf("usage_events: the shard's query reads rows it does not keep: %s\n%s", line, text)
			}
			var rows, loops int
			if i := strings.Index(line, "(actual rows="); i >= 0 && strings.Contains(line, " on usage_events") {
				if _, err := fmt.Sscanf(line[i:], "(actual rows=%d loops=%d)", &rows, &loops); err != nil {
					t.Fatalf("reading %q: %v", line, err)
				}
				scanned += rows * loops
			}
		}
		if !strings.Contains(text, "Index Only Scan using usage_events_shard") {
			t.Errorf("usage_events: the shard's query does not read the bucket index:\n%s", text)
		}
		// The index entries of the shard's rows, then the rows.
		if scanned != 2*usage || usage == 0 || usage > 20000/3 {
			t.Errorf("usage_events: the shard's scans returned %d rows, want 2 × its %d of 20000\n%s", scanned, usage, text)
		}
	}
}

// TestShardBucket pins the bucket of a few ids, computed by PostgreSQL
// 15's (hashtext(id) >> 16) + 32768, since changing it would move
// accounts between shards; and, on PostgreSQL, checks that the stored
// column of every table agrees with ShardBucket.
func TestShardBucket(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want int
	}{
		{"acme", 4528},
		{"c-100", 59756},
		{"acct-00001", 48616},
		{"日本語の顧客", 15776},
		{"a-much-longer-account-identifier-0001", 7671},
	} {
		if got := store.ShardBucket(tt.id); got != tt.want {
			t.Errorf("ShardBucket(%q) = %d, want %d", tt.id, got, tt.want)
		}
	}
	if !slices.Contains(storetest.Dialects(), "postgres") {
		return
	}
	s := storetest.Open(t, "postgres")
	shardFixture(t, s, 300, 1)
	for _, table := range features.Tables {
		got, err := s.ShardBuckets(context.Background(), table)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			t.Errorf("%s holds no rows", table)
		}
		for id, b := range got {
			if want := store.ShardBucket(id); b != want {
				t.Errorf("%s: account %q stored in bucket %d, ShardBucket says %d", table, id, b, want)
			}
		}
	}
}

// TestMigrateShardBuckets checks that migration 0009 indexes the rows a
// store already holds, so that an upgraded store's shards partition it.
func TestMigrateShardBuckets(t *testing.T) {
	upgradeFrom(t, 8, func(t *testing.T, ctx context.Context, s *store.Store) {
		// The tables whose columns are today's at version 8: accounts
		// through the loader, usage events written as version 8 holds
		// them (a load of them now also keeps the usage rollup of
		// migration 0014).
		shardFixture(t, s, 100, 3, features.Accounts)
		for a := range 100 {
			if err := s.ExecRaw(ctx, "INSERT INTO usage_events (event_id, account_id, feature, at) VALUES (?, ?, ?, ?)",
				"e1", fmt.Sprintf("acct-%05d", a), "reports", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		_, all := readAll(t, s, store.Shard{})
		var union []string
		for i := range 3 {
			_, accounts := readAll(t, s, store.Shard{Index: i, Count: 3})
			union = append(union, accounts...)
		}
		slices.Sort(union)
		if !slices.Equal(union, all) {
			t.Errorf("after the upgrade, 3 shards hold accounts %v, the store %v", union, all)
		}
	})
}

// TestHistoriesStopEarly checks that a sweep that fn stops at its first
// account returns without reading the rest of the tables: on PostgreSQL,
// closing a result that is still streaming reads it to the end unless
// the query was cancelled first. It compares times, with a wide margin.
func TestHistoriesStopEarly(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		shardFixture(t, s, 500, 400)
		start := time.Now()
		n := 0
		if err := s.Histories(ctx, store.Shard{}, func(h *features.History) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		full := time.Since(start)
		stop := errors.New("enough")
		start = time.Now()
		if err := s.Histories(ctx, store.Shard{}, func(h *features.History) error { return stop }); !errors.Is(err, stop) {
			t.Fatalf("stopped sweep: %v, want %v", err, stop)
		}
		if early := time.Since(start); early > full/5 {
			t.Errorf("a sweep stopped at its first account took %v, a whole one (%d accounts) %v", early, n, full)
		}
		// The store still answers on the connections the sweep used.
		if h, err := s.History(ctx, "acct-00001"); err != nil || len(h.Usage) != 400 {
			t.Errorf("after a stopped sweep: %d events, %v", len(h.Usage), err)
		}
	})
}
