package transform_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/store/transform"
)

// benchRows is the size of the load BenchmarkLoad compares, overridable
// with CHURN_BENCH_ROWS for a quick try.
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("CHURN_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// benchExport writes, once per size, the same usage events twice: as a
// canonical usage.csv, and as an export keyed by subscription
// (feature_usage.csv and subscriptions.csv) that a join resolves. It is
// kept in the temporary folder so that alternating runs share it.
func benchExport(b *testing.B, rows int) (plain, keyed string) {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("churn-transform-bench-%d", rows))
	plain, keyed = filepath.Join(dir, "plain"), filepath.Join(dir, "keyed")
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return plain, keyed
	}
	for _, d := range []string{plain, keyed} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	write := func(path string, fill func(w *bufio.Writer)) {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		fill(w)
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	const subs, accounts = 10_000, 2_000
	write(filepath.Join(keyed, "subscriptions.csv"), func(w *bufio.Writer) {
		w.WriteString("sub,account,plan\n")
		for s := range subs {
			fmt.Fprintf(w, "s%05d,a%04d,growth\n", s, s%accounts)
		}
	})
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	features := []string{"reports", "exports", "alerts", "api", "sso"}
	event := func(i int) (sub int, user, feature, at string, n int) {
		sub = (i * 7919) % subs
		return sub, "u" + strconv.Itoa(i%13), features[i%len(features)], start.Add(time.Duration(i) * 17 * time.Second).Format("2006-01-02 15:04:05"), 1 + i%4
	}
	write(filepath.Join(keyed, "feature_usage.csv"), func(w *bufio.Writer) {
		w.WriteString("sub,user,feature,at,n\n")
		for i := range rows {
			sub, user, feature, at, n := event(i)
			fmt.Fprintf(w, "s%05d,%s,%s,%s,%d\n", sub, user, feature, at, n)
		}
	})
	write(filepath.Join(plain, "usage.csv"), func(w *bufio.Writer) {
		w.WriteString("account_id,user_id,feature,at,count\n")
		for i := range rows {
			sub, user, feature, at, n := event(i)
			fmt.Fprintf(w, "a%04d,%s,%s,%s,%d\n", sub%accounts, user, feature, at, n)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, "done"), nil, 0o644); err != nil {
		b.Fatal(err)
	}
	return plain, keyed
}

const benchScript = `CREATE VIEW usage_events AS
	SELECT s.account AS account_id, u.user AS user_id, u.feature, u.at, u.n AS count, u._line
	FROM feature_usage u JOIN subscriptions s ON s.sub = u.sub;`

// BenchmarkLoad loads the same usage events into an empty store, from a
// canonical file ("file") and through a transform that stages the export
// and joins usage to subscriptions ("transform", staging included). Run
// the two alternately, e.g. scripts/bench-transform.sh.
func BenchmarkLoad(b *testing.B) {
	rows := benchRows()
	plain, keyed := benchExport(b, rows)
	ctx := context.Background()
	for _, dialect := range storetest.Dialects() {
		b.Run(dialect+"/file", func(b *testing.B) {
			files, err := store.ExportFiles([]string{plain}, "")
			if err != nil {
				b.Fatal(err)
			}
			for range b.N {
				b.StopTimer()
				s := storetest.Open(b, dialect)
				b.StartTimer()
				res, err := store.LoadFile(ctx, s, files[0], nil, load.Options{})
				if err != nil || res.Inserted != int64(rows) {
					b.Fatalf("load = %+v, %v", res, err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(dialect+"/transform", func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				s := storetest.Open(b, dialect)
				b.StartTimer()
				w, err := transform.Stage(ctx, []string{keyed})
				if err != nil {
					b.Fatal(err)
				}
				if err := w.Apply(ctx, "bench.sql", benchScript); err != nil {
					b.Fatal(err)
				}
				results, err := w.Load(ctx, s, nil, load.Options{})
				if err != nil || len(results) != 1 || results[0].Err != nil || results[0].Table != features.UsageEvents || results[0].Inserted != int64(rows) {
					b.Fatalf("load = %+v, %v", results, err)
				}
				w.Close()
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
