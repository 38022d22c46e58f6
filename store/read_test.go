package store_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// TestHistoriesUnordered checks that reading a shard in several streams
// yields the histories that Histories does, each account once with all
// its records, whatever the number of streams; and that an error of fn
// stops the sweep and is the one returned.
func TestHistoriesUnordered(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		shardFixture(t, s, 300, 5)
		for _, tt := range []struct {
			shard   store.Shard
			streams int
		}{
			{store.Shard{}, 2},
			{store.Shard{}, 3},
			{store.Shard{}, 7},
			{store.Shard{}, 500}, // more streams than accounts
			{store.Shard{Index: 1, Count: 3}, 2},
			{store.Shard{Index: 0, Count: 2}, 4},
		} {
			want, order := histories(t, s, tt.shard, 1)
			if len(want) < 100 {
				t.Fatalf("shard %s holds %d accounts", tt.shard, len(want))
			}
			got, gotOrder := histories(t, s, tt.shard, tt.streams)
			if len(gotOrder) != len(got) {
				t.Errorf("shard %s, %d streams: %d histories of %d accounts", tt.shard, tt.streams, len(gotOrder), len(got))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("shard %s, %d streams: the histories differ from Histories'", tt.shard, tt.streams)
			}
			slices.Sort(gotOrder)
			if !slices.Equal(gotOrder, order) {
				t.Errorf("shard %s, %d streams: accounts %v, Histories' %v", tt.shard, tt.streams, gotOrder, order)
			}
		}
		stop := errors.New("enough")
		n := 0
		err := s.HistoriesUnordered(ctx, store.Shard{}, 3, func(h *features.History) error {
			if n++; n == 10 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 10 {
			t.Errorf("a sweep stopped at its 10th account: %v after %d accounts, want %v after 10", err, n, stop)
		}
		if h, err := s.History(ctx, "acct-00001"); err != nil || len(h.Usage) != 5 {
			t.Errorf("after a stopped sweep: %d events, %v", len(h.Usage), err)
		}
	})
}

// histories returns the records of each account of shard, read in
// streams (Histories for 1), and the accounts in the order they came.
func histories(t *testing.T, s *store.Store, shard store.Shard, streams int) (map[string][]recordio.Record, []string) {
	t.Helper()
	got := map[string][]recordio.Record{}
	var order []string
	fn := func(h *features.History) error {
		order = append(order, h.AccountID)
		var recs []recordio.Record
		for _, r := range flatten(h) {
			recs = append(recs, clone(r))
		}
		got[h.AccountID] = recs
		return nil
	}
	var err error
	if streams == 1 {
		err = s.Histories(context.Background(), shard, fn)
	} else {
		err = s.HistoriesUnordered(context.Background(), shard, streams, fn)
	}
	if err != nil {
		t.Fatal(err)
	}
	return got, order
}

// TestWholeSweepReadsTheIndex checks, on PostgreSQL, that a sweep of every
// account reads each table in its index's order even where the planner
// would rather scan and sort it (as it does for a large table it has no
// statistics of): the sweep's settings forbid the sort.
func TestWholeSweepReadsTheIndex(t *testing.T) {
	if !slices.Contains(storetest.Dialects(), "postgres") {
		t.Skip("PostgreSQL only; set " + storetest.EnvPostgres)
	}
	s := storetest.Open(t, "postgres")
	ctx := context.Background()
	shardFixture(t, s, 200, 20)
	if err := s.ExecRaw(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	// A Sort node sorts every row; an Incremental Sort, only the ties of
	// an index's order.
	sorts := func(plan []string) bool {
		return slices.ContainsFunc(plan, func(line string) bool { return strings.TrimLeft(line, " ->") == "Sort" })
	}
	for _, table := range features.Tables {
		plan, err := s.WholeSweepPlan(ctx, table, false)
		if err != nil {
			t.Fatal(err)
		}
		if table == features.UsageEvents && !sorts(plan) {
			t.Errorf("usage_events: without the sweep's settings the planner does not sort, so this test tests nothing:\n%s",
				strings.Join(plan, "\n"))
		}
		if plan, err = s.WholeSweepPlan(ctx, table, true); err != nil {
			t.Fatal(err)
		}
		if text := strings.Join(plan, "\n"); sorts(plan) || !strings.Contains(text, "Index Scan using ") {
			t.Errorf("%s: the sweep's query does not read an index in order:\n%s", table, text)
		}
	}
}

// TestSweepRefusesColumnTypes checks, on PostgreSQL, that a sweep refuses
// a table whose column does not have the schema's type, naming it, rather
// than decoding its bytes as another type's.
func TestSweepRefusesColumnTypes(t *testing.T) {
	if !slices.Contains(storetest.Dialects(), "postgres") {
		t.Skip("PostgreSQL only; set " + storetest.EnvPostgres)
	}
	s := storetest.Open(t, "postgres")
	ctx := context.Background()
	shardFixture(t, s, 10, 2)
	if err := s.ExecRaw(ctx, "ALTER TABLE usage_events ALTER COLUMN errors TYPE integer"); err != nil {
		t.Fatal(err)
	}
	err := s.Histories(ctx, store.Shard{}, func(*features.History) error { return nil })
	want := "reading usage_events: column 8 is errors of type 23, want errors of type 20"
	if err == nil || err.Error() != want {
		t.Errorf("sweep of a retyped column: %v, want %q", err, want)
	}
}
