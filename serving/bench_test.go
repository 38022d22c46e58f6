package serving

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/demo"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/training/simulate"
)

// BenchmarkBatch scores every account of a simulated store, with alerts,
// and reports accounts per second. The store is CHURN_BENCH_DB when set,
// filled on first use and reused afterwards (so a large PostgreSQL store
// is built once), else a fresh SQLite file. CHURN_BENCH_ACCOUNTS (default
// 2000) and CHURN_BENCH_MONTHS (default 12) size the history; the models
// are trained on a sample of about 2,000 accounts. For the closing note:
//
//	createdb -h 127.0.0.1 -U postgres churn_bench
//	CHURN_BENCH_DB='postgres://postgres@127.0.0.1:5432/churn_bench?sslmode=disable' \
//	CHURN_BENCH_ACCOUNTS=100000 CHURN_BENCH_MONTHS=6 \
//	go test ./serving -run '^$' -bench BenchmarkBatch -benchtime 1x -timeout 2h
func BenchmarkBatch(b *testing.B) {
	ctx := context.Background()
	accounts, months := envInt("CHURN_BENCH_ACCOUNTS", 2000), envInt("CHURN_BENCH_MONTHS", 12)
	var s *store.Store
	if dsn := os.Getenv("CHURN_BENCH_DB"); dsn != "" {
		var err error
		if s, err = store.Open(ctx, dsn); err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
	} else {
		s = storetest.Open(b, "sqlite")
	}
	cfg := simulate.Config{Accounts: accounts, Months: months, Seed: 1}
	sample := store.Shard{Index: 0, Count: max(1, accounts/2000)}
	err := demo.Prepare(ctx, s, cfg, demo.Features(), "auto", sample, func(step, did string, elapsed time.Duration) {
		b.Logf("%s: %s in %v", step, did, elapsed.Round(time.Millisecond))
	})
	if err != nil {
		b.Fatal(err)
	}
	scorer := &Scorer{Registry: s, Reference: s, Bands: DefaultBands()}
	for _, task := range Tasks {
		if _, err := scorer.Model(ctx, task); err != nil { // loading is not what is measured
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	var scored int64
	for i := range b.N {
		// A new as-of per iteration, so each writes new rows rather than
		// replacing the last iteration's.
		rep, err := (&Batch{Store: s, Scorer: scorer, Tasks: Tasks, AsOf: cfg.End().AddDate(0, 0, -i),
			Alerts: &alerts.Engine{Store: s, Rules: alerts.DefaultRules()}}).Run(ctx)
		if err != nil || len(rep.Failed) > 0 {
			b.Fatalf("%+v, %v", rep, err)
		}
		scored += rep.Accounts
		b.Logf("as of %s: %d accounts, %d churn and %d conversion scores, %d alerts in %v", rep.AsOf.Format(time.DateOnly),
			rep.Accounts, rep.Scored[TaskChurn], rep.Scored[TaskConversion], rep.Alerts, rep.Elapsed.Round(time.Millisecond))
	}
	b.ReportMetric(float64(scored)/b.Elapsed().Seconds(), "accounts/s")
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
