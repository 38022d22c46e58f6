//go:build unix

package features_test

import (
	"bytes"
	"context"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/simulate"
)

// BenchmarkBuild sweeps 2,000 simulated accounts × 12 months in memory on
// one goroutine, as of the first of every month, and reports events and
// vectors per second: with the fixed catalog, and with per-event features
// for the 12 product features of most volume (durations and errors
// included when the data has them). The machine may be shared, so it reports both per
// second of wall time and per second of this process's CPU time (the
// figure for one core; the sweep is single-threaded):
//
//	go test -run '^$' -bench Build -benchtime 10x ./features/
func BenchmarkBuild(b *testing.B) {
	cfg := simulate.Config{Accounts: 2000, Months: 12, Seed: 1}
	bufs := map[string]io.Writer{}
	tables := map[features.Table]io.Reader{}
	for _, t := range features.Tables {
		var buf bytes.Buffer
		bufs[simulate.FileName(t)], tables[t] = &buf, &buf
	}
	if _, err := simulate.Run(context.Background(), cfg, bufs); err != nil {
		b.Fatal(err)
	}
	hs, err := dataset.ReadMemory(context.Background(), tables)
	if err != nil {
		b.Fatal(err)
	}
	var times []time.Time
	for m := 1; m <= cfg.Months; m++ {
		times = append(times, simulate.DefaultStart.AddDate(0, m, 0))
	}
	var events int
	for _, h := range hs {
		events += h.Events()
	}
	cfg0 := features.Config{CatalogueSize: len(simulate.Features), KeyFeatures: []string{"reports", "integrations", "workflows", "automations"}}
	withEvents, err := dataset.Vocabulary(context.Background(), hs, cfg0, dataset.VocabularyOptions{EventFeatures: dataset.DefaultEventFeatures})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		cfg  features.Config
	}{{"fixed", cfg0}, {"events", withEvents}} {
		b.Run(bc.name, func(b *testing.B) {
			builder, err := features.NewBuilder(bc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			var vs []features.Vector
			b.ReportAllocs()
			cpu0 := cpuSeconds(b)
			for b.Loop() {
				for _, h := range hs {
					if vs, err = builder.Build(h, times, vs); err != nil {
						b.Fatal(err)
					}
				}
			}
			cpu := cpuSeconds(b) - cpu0
			wall := b.Elapsed().Seconds()
			n := float64(b.N)
			b.ReportMetric(float64(events)*n/wall, "events/s")
			b.ReportMetric(float64(len(hs)*len(times))*n/wall, "vectors/s")
			b.ReportMetric(float64(events)*n/cpu, "events/cpu-s")
			b.ReportMetric(float64(len(hs)*len(times))*n/cpu, "vectors/cpu-s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// cpuSeconds returns the user and system CPU time of the process so far.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
