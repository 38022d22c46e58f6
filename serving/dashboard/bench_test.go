package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
)

// benchAccounts is how many scored accounts the page benchmark's store
// holds: $CHURN_BENCH_ACCOUNTS, 5,000 by default.
func benchAccounts(b *testing.B) int {
	n := 5000
	if v := os.Getenv("CHURN_BENCH_ACCOUNTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("CHURN_BENCH_ACCOUNTS=%q: want a number of at least 1000", v)
		}
	}
	return n
}

// BenchmarkPages measures the server time of each dashboard page, through
// the whole handler chain (key check, store reads, template), on a SQLite
// store of CHURN_BENCH_ACCOUNTS scored accounts, each with 12 weekly
// churn scores. The store is 1,000 simulated accounts, trained and scored
// as the tests' fixture is, padded with copies of their scores and
// accounts rows under new ids; it is built once into the temporary folder
// and reused. Run with
//
//	CHURN_BENCH_ACCOUNTS=100000 go test ./serving/dashboard -run '^$' -bench Pages -benchtime 50x
//
// ms/page is the mean server time of one page; with -v, the log has each
// page's first, cold-cache time, which for the portfolio is the sweep of
// every billing change that later requests are spared for a minute.
func BenchmarkPages(b *testing.B) {
	n := benchAccounts(b)
	path := filepath.Join(os.TempDir(), fmt.Sprintf("churn-dashboard-bench-%d-v1.db", n))
	start := time.Now()
	f, err := serveDemo(path, 1000, func(s *store.Store) error { return padAccounts(s, n) })
	if err != nil {
		os.Remove(path)
		b.Fatal(err)
	}
	b.Logf("store %s with %d scored accounts ready in %v", path, n, time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	top, err := f.Store.ScoreRows(ctx, score.ListQuery{Task: serving.TaskChurn, Limit: 1})
	if err != nil || len(top) == 0 {
		b.Fatal(err)
	}
	session := &http.Cookie{Name: "churn_session", Value: f.Keys[access.Admin]}
	pages := []struct{ name, path string }{
		{"accounts", "/accounts"},
		{"accounts_by_arr", "/accounts?sort=arr"},
		{"accounts_green", "/accounts?band=green"},
		{"accounts_green_by_arr", "/accounts?band=green&sort=arr"},
		{"accounts_owner_band_segment", "/accounts?owner=" + top[0].Owner + "&band=yellow&segment=mid-market"},
		{"accounts_second_page", "/accounts?after=" + cursorAfter(b, f.Handler, session)},
		{"account", "/accounts/" + top[0].AccountID},
		{"today", "/today"},
		{"today_owner", "/today?owner=" + top[0].Owner},
		{"trials", "/trials"},
		{"alerts", "/alerts"},
		{"models", "/models"},
		{"portfolio_cached", "/portfolio"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			get := func() {
				req := httptest.NewRequest("GET", p.path, nil)
				req.AddCookie(session)
				rec := httptest.NewRecorder()
				f.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", p.path, rec.Code, rec.Body.String())
				}
				io.Copy(io.Discard, rec.Body)
			}
			first := time.Now()
			get() // the portfolio is cached from here on, and the key ring loaded
			b.Logf("first GET %s (cold caches): %v", p.path, time.Since(first).Round(time.Microsecond))
			b.ResetTimer()
			for b.Loop() {
				get()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/page")
		})
	}
}

// cursorAfter returns the ?after= of the accounts list's next page.
func cursorAfter(b *testing.B, h http.Handler, session *http.Cookie) string {
	req := httptest.NewRequest("GET", "/accounts", nil)
	req.AddCookie(session)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	m := regexp.MustCompile(`href="/accounts\?after=([^"]+)" rel="next"`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		b.Fatal("the accounts list has no next page")
	}
	return m[1]
}

// padAccounts adds copies of the store's churn-scored accounts, with their
// scores, under new ids until n accounts are scored.
func padAccounts(s *store.Store, n int) error {
	ctx := context.Background()
	base, err := s.ScoreRows(ctx, score.ListQuery{Task: serving.TaskChurn, Limit: n})
	if err != nil {
		return err
	}
	if len(base) == 0 {
		return fmt.Errorf("no scored accounts to copy")
	}
	var (
		accounts []recordio.Record
		scores   []score.Score
	)
	flush := func() error {
		if _, err := s.Load(ctx, features.Accounts, &records{recs: accounts}); err != nil {
			return err
		}
		if err := s.PutScores(ctx, scores); err != nil {
			return err
		}
		accounts, scores = accounts[:0], scores[:0]
		return nil
	}
	for i := len(base); i < n; i++ {
		src := base[i%len(base)]
		id := fmt.Sprintf("P%07d", i)
		a, err := s.Account(ctx, src.AccountID)
		if err != nil {
			return err
		}
		copied := *a
		copied.AccountID = id
		accounts = append(accounts, &copied)
		past, err := s.ScoreHistory(ctx, src.AccountID, serving.TaskChurn, trendWeeks)
		if err != nil {
			return err
		}
		for k, sc := range past {
			sc.AccountID = id
			if k == 0 { // the current score, whose reasons the pages show; a history has no details
				sc.Detail = src.Detail
			}
			scores = append(scores, sc)
		}
		if len(accounts) == 2000 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// records is a load.Source over records in memory.
type records struct{ recs []recordio.Record }

func (r *records) Next() (recordio.Record, error) {
	if len(r.recs) == 0 {
		return nil, io.EOF
	}
	rec := r.recs[0]
	r.recs = r.recs[1:]
	return rec, nil
}
