package store_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/store/storetest"
)

// benchInboxAlerts is how many open alerts the inbox benchmark lists from,
// on benchInboxAccounts accounts.
const (
	benchInboxAlerts   = 20_000
	benchInboxAccounts = 2_000
)

// BenchmarkAlertInbox reads one page of 50 (51 rows, as the API asks) of
// an inbox of benchInboxAlerts active alerts, on each store, in each
// order, first and from a cursor halfway through.
func BenchmarkAlertInbox(b *testing.B) {
	for _, dialect := range storetest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			ctx := context.Background()
			s := storetest.Open(b, dialect)
			for _, q := range []string{
				`INSERT INTO accounts (account_id, name, mrr, created_at)
				WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ` + fmt.Sprint(benchInboxAccounts-1) + `)
				SELECT 'acc_' || i, 'Account ' || i, (i * 37) % 1000, ? FROM n`,
				`INSERT INTO alerts (alert_id, account_id, rule, owner, severity, status, message, detail, observed_at, opened_at)
				WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ` + fmt.Sprint(benchInboxAlerts-1) + `)
				SELECT 'al_' || i, 'acc_' || (i % ` + fmt.Sprint(benchInboxAccounts) + `), 'rule_' || (i / ` + fmt.Sprint(benchInboxAccounts) + `), 'rep',
					CASE i % 5 WHEN 0 THEN 'info' WHEN 1 THEN 'low' WHEN 2 THEN 'medium' WHEN 3 THEN 'high' ELSE 'critical' END,
					'open', 'm', '{}', ?, ? FROM n`,
			} {
				args := []any{t0}
				if len(q) > 300 {
					args = []any{t0, t0}
				}
				if err := s.ExecRaw(ctx, q, args...); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.ExecRaw(ctx, "ANALYZE"); err != nil {
				b.Fatal(err)
			}
			for _, sort := range alerts.Sorts {
				q := alerts.Query{Status: alerts.StatusActive, Sort: sort, Limit: 51}
				rows, err := s.Alerts(ctx, alerts.Query{Status: alerts.StatusActive, Sort: sort, Limit: benchInboxAlerts / 2})
				if err != nil || len(rows) != benchInboxAlerts/2 {
					b.Fatalf("%d rows, %v", len(rows), err)
				}
				mid := alerts.CursorAfter(sort, &rows[len(rows)-1])
				for _, page := range []string{"first", "middle"} {
					b.Run(sort+"/"+page, func(b *testing.B) {
						q := q
						if page == "middle" {
							q.After = &mid
						}
						cpu := processCPU()
						for b.Loop() {
							rows, err := s.Alerts(ctx, q)
							if err != nil || len(rows) != 51 {
								b.Fatalf("%d rows, %v", len(rows), err)
							}
						}
						// The process's CPU time: all of SQLite's work, and only
						// the client's for PostgreSQL.
						b.ReportMetric(float64(processCPU()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
					})
				}
			}
		})
	}
}

// processCPU returns the user and system CPU time the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
