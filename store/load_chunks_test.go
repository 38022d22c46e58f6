package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// TestLoadChunks loads usage events three rows a chunk into a filled
// table: PostgreSQL copies a chunk of new keys straight into the table
// and merges from the first chunk that meets a stored key on, SQLite
// merges every chunk. Counts, stored rows, idempotency and atomicity must
// be those of one load in one piece.
func TestLoadChunks(t *testing.T) {
	defer store.SetLoadChunkRows(3)()
	// usage builds an export of events "<prefix><i>" for i in ids, of
	// accounts a0…a4, count 1 unless counts says otherwise.
	usage := func(prefix string, ids []int, counts map[int]int) string {
		var b strings.Builder
		b.WriteString("event_id,account_id,feature,at,count\n")
		for _, i := range ids {
			n := 1
			if c, ok := counts[i]; ok {
				n = c
			}
			fmt.Fprintf(&b, "%s%d,a%d,reports,2024-01-%02dT00:00:00Z,%d\n", prefix, i, i%5, 1+i%28, n)
		}
		return b.String()
	}
	span := func(lo, hi int) []int {
		var ids []int
		for i := lo; i < hi; i++ {
			ids = append(ids, i)
		}
		return ids
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		loadCSV := func(in string) (load.Result, error) {
			d, err := recordio.NewDecoder(strings.NewReader(in), "usage.csv", features.UsageEvents, recordio.CSV, nil)
			if err != nil {
				t.Fatal(err)
			}
			return s.Load(ctx, features.UsageEvents, d)
		}
		total := func() (rows, count int) {
			for a := range 5 {
				h, err := s.History(ctx, fmt.Sprintf("a%d", a))
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range h.Usage {
					rows++
					count += e.Count
				}
			}
			return rows, count
		}
		// mixed: two chunks of new events, then the events of b with
		// two counts corrected, the rest as stored.
		mixed := usage("c", span(0, 6), nil) + strings.TrimPrefix(usage("b", span(0, 10), map[int]int{4: 7, 8: 9}), "event_id,account_id,feature,at,count\n")
		steps := []struct {
			name       string
			in         string
			want       load.Result
			rows, sum  int
			refusedErr string
		}{
			{name: "first", in: usage("a", span(0, 10), nil),
				want: load.Result{Read: 10, Inserted: 10}, rows: 10, sum: 10},
			{name: "new keys", in: usage("b", span(0, 10), nil),
				want: load.Result{Read: 10, Inserted: 10}, rows: 20, sum: 20},
			{name: "new and stored keys", in: mixed,
				want: load.Result{Read: 16, Inserted: 6, Updated: 2, Unchanged: 8}, rows: 26, sum: 26 + 6 + 8},
			{name: "again", in: mixed,
				want: load.Result{Read: 16, Unchanged: 16}, rows: 26, sum: 26 + 6 + 8},
			{name: "bad row after two chunks", in: usage("d", span(0, 7), nil) + "d7,a2,reports,yesterday,1\n",
				refusedErr: `usage.csv:9: column "at": cannot parse "yesterday" as a time`, rows: 26, sum: 26 + 6 + 8},
		}
		for _, st := range steps {
			res, err := loadCSV(st.in)
			if st.refusedErr != "" {
				if err == nil || err.Error() != st.refusedErr {
					t.Errorf("%s: error %v, want %s", st.name, err, st.refusedErr)
				}
			} else {
				// No accounts are loaded: every row is an orphan.
				st.want.Table, st.want.Orphans = features.UsageEvents, load.Orphans{Rows: st.want.Read, Accounts: 5, First: "a0"}
				if err != nil || res != st.want {
					t.Errorf("%s: %+v, %v; want %+v", st.name, res, err, st.want)
				}
			}
			if rows, sum := total(); rows != st.rows || sum != st.sum {
				t.Errorf("%s: the store holds %d events counting %d, want %d counting %d", st.name, rows, sum, st.rows, st.sum)
			}
		}
		// Loads of the same new keys side by side, in opposite orders and
		// each of several chunks, both succeed and store each row once.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		forward, backward := span(0, 30), span(0, 30)
		slices.Reverse(backward)
		for i, ids := range [][]int{forward, backward} {
			wg.Go(func() { _, errs[i] = loadCSV(usage("e", ids, nil)) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("concurrent load %d: %v", i, err)
			}
		}
		if rows, _ := total(); rows != 26+30 {
			t.Errorf("after concurrent loads the store holds %d events, want %d", rows, 26+30)
		}
	})
}
