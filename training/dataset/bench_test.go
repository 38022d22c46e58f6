package dataset_test

import (
	"context"
	"database/sql"
	"io"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the plain-scan baseline talks to PostgreSQL directly

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/simulate"
)

// Environment variables naming stores prepared for the end-to-end
// benchmarks. Building them takes a while, so it is done once, by hand:
//
//	churnctl generate --accounts 100000 --months 12 --seed 1 --out sim
//	churnctl ingest --db sqlite:sim.db sim
//	churnctl ingest --db 'postgres://postgres@127.0.0.1:5432/dsbench?sslmode=disable' sim
//	export CHURN_BENCH_SQLITE=sqlite:sim.db
//	export CHURN_BENCH_POSTGRES='postgres://postgres@127.0.0.1:5432/dsbench?sslmode=disable'
//	go test -run '^$' -bench 'Store|Stream' -benchtime 1x -timeout 1h ./training/dataset/
const (
	envBenchSQLite   = "CHURN_BENCH_SQLITE"
	envBenchPostgres = "CHURN_BENCH_POSTGRES"
)

// BenchmarkDatasetStore builds the default churn training set (monthly
// observations over 2024, lead 7 days, horizon 30, grace 30) of a
// prepared store, as churnctl dataset does, writing the CSV to nowhere.
func BenchmarkDatasetStore(b *testing.B) {
	for _, env := range []string{envBenchSQLite, envBenchPostgres} {
		dsn := os.Getenv(env)
		b.Run(env, func(b *testing.B) {
			if dsn == "" {
				b.Skip(env + " is not set")
			}
			ctx := context.Background()
			s, err := store.Open(ctx, dsn)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			end := simulate.DefaultStart.AddDate(1, 0, 0)
			sched, err := dataset.Schedule(simulate.DefaultStart, end, dataset.Span{Months: 1})
			if err != nil {
				b.Fatal(err)
			}
			task := &dataset.Churn{Schedule: sched, Lead: 7 * day, Horizon: 30 * day, Grace: 30 * day, DataEnd: end}
			cfg := features.Config{CatalogueSize: len(simulate.Features), KeyFeatures: []string{"reports", "integrations", "workflows", "automations"}}
			src := dataset.SourceFunc(func(ctx context.Context, fn func(*features.History) error) error {
				return s.Histories(ctx, store.Shard{}, fn)
			})
			var st dataset.Stats
			for b.Loop() {
				w, err := dataset.NewWriter(io.Discard, cfg, true)
				if err != nil {
					b.Fatal(err)
				}
				if st, err = dataset.Sweep(ctx, src, task, dataset.Options{Features: cfg}, w.Write); err != nil {
					b.Fatal(err)
				}
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(sec, "s/op")
			b.ReportMetric(float64(st.Events)/sec, "events/s")
			b.ReportMetric(float64(st.Rows)/sec, "rows/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkStreamPostgres is the floor the PostgreSQL sweep is measured
// against: one query reading every usage event in (account_id, at) order,
// each row scanned in a Go loop into plain variables.
func BenchmarkStreamPostgres(b *testing.B) {
	dsn := os.Getenv(envBenchPostgres)
	if dsn == "" {
		b.Skip(envBenchPostgres + " is not set")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var n int64
	for b.Loop() {
		n = 0
		rows, err := db.Query("SELECT event_id, account_id, user_id, feature, at, count, duration_s, errors FROM usage_events ORDER BY account_id, at")
		if err != nil {
			b.Fatal(err)
		}
		var (
			id, account, user, feature string
			at                         time.Time
			count, errs                int64
			dur                        float64
		)
		for rows.Next() {
			if err := rows.Scan(&id, &account, &user, &feature, &at, &count, &dur, &errs); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(sec, "s/op")
	b.ReportMetric(float64(n)/sec, "rows/s")
	b.ReportMetric(0, "ns/op")
}
