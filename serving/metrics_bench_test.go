package serving

import (
	"context"
	"os"
	"testing"

	"github.com/openchurn/churn/saas"
	"github.com/openchurn/churn/serving/demo"
	"github.com/openchurn/churn/store"
)

// BenchmarkMetrics computes every SaaS metrics report over the 24 months
// to the latest record, from one book of the store at $CHURN_METRICS_DB
// (skipped when unset), e.g. one loaded with
//
//	churnctl generate --accounts 100000 --months 24 --out /tmp/h && churnctl ingest --db sqlite:/tmp/h.db /tmp/h
//	CHURN_METRICS_DB=sqlite:/tmp/h.db go test ./serving -run '^$' -bench Metrics -benchtime 1x
//
// (a store loaded before migration 0014 needs churnctl migrate first,
// which builds its usage rollup).
//
// Each sub-benchmark loads the book of one report, as the CLI and the API
// do; "all" loads one book for every report and computes them all.
func BenchmarkMetrics(b *testing.B) {
	dsn := os.Getenv("CHURN_METRICS_DB")
	if dsn == "" {
		b.Skip("CHURN_METRICS_DB is not set")
	}
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fc := demo.Features()
	opts := saas.Options{GrossMargin: 0.8, KeyFeatures: fc.KeyFeatures, CatalogueSize: fc.CatalogueSize}
	run := func(b *testing.B, reports []MetricsReport) {
		for b.Loop() {
			book, err := LoadBook(ctx, s, opts, reports...)
			if err != nil {
				b.Fatal(err)
			}
			r, err := MetricsRange(book, 0, 0)
			if err != nil {
				b.Fatal(err)
			}
			r.From = r.To - 23
			for _, report := range reports {
				if _, err := Metrics(book, report, r, saas.BySignupMonth); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	for _, report := range MetricsReports {
		b.Run(string(report), func(b *testing.B) { run(b, []MetricsReport{report}) })
	}
	b.Run("all", func(b *testing.B) { run(b, MetricsReports) })
}
