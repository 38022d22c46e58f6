package models

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The speed benchmarks fit and score one million rows of 40 dense numeric
// features, the same table scripts/bench/xgb_speed.py fits with XGBoost:
//
//	CHURN_BENCH_CSV=/tmp/bench.csv go test ./models -run TestWriteBenchCSV
//	go test ./models -run '^$' -bench 'GBDT(Fit|Predict)1M' -benchtime 1x
//	/usr/bin/python3 scripts/bench/xgb_speed.py /tmp/bench.csv
const (
	benchRows     = 1_000_000
	benchFeatures = 40
)

var benchData = sync.OnceValue(func() *Dataset {
	d := synthetic(benchRows, benchFeatures, false, 0, 2024)
	// Four decimals print short in the CSV and parse back to the same
	// float64 values, so both learners see identical data.
	for _, col := range d.Columns {
		for i, x := range col {
			col[i] = math.Round(x*1e4) / 1e4
		}
	}
	return d
})

// benchParams matches xgb_speed.py: XGBoost's defaults for
// min_child_weight, lambda and bins, 200 rounds of depth 6, 2 threads.
func benchParams() GBDTParams {
	p := DefaultGBDTParams()
	p.Rounds, p.LearningRate, p.MaxDepth, p.Threads = 200, 0.1, 6, 2
	p.EarlyStoppingRounds = 0
	return p
}

var benchModel = sync.OnceValues(func() (*GBDT, error) {
	return FitGBDT(benchData(), nil, benchParams())
})

func BenchmarkGBDTFit1M(b *testing.B) {
	d := benchData()
	b.ResetTimer()
	cpu := cpuTime()
	var m *GBDT
	for b.Loop() {
		var err error
		if m, err = FitGBDT(d, nil, benchParams()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	// Reported to compare with xgb_speed.py's train_logloss.
	b.ReportMetric(trainLogLoss(m, d), "logloss")
}

// cpuTime returns the user and system CPU time of the process so far. On a
// shared machine it is steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkGBDTPredict1M(b *testing.B) {
	d := benchData()
	m, err := benchModel()
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float64, d.Rows())
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		m.PredictRaw(d, dst)
	}
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

func trainLogLoss(m *GBDT, d *Dataset) float64 {
	z := m.PredictRaw(d, nil)
	var loss float64
	for i, y := range d.Labels {
		loss += LogLoss(y, z[i])
	}
	return loss / float64(len(z))
}

// TestWriteBenchCSV writes the benchmark table, features then label, to
// the file named by CHURN_BENCH_CSV; it is skipped when that is unset.
func TestWriteBenchCSV(t *testing.T) {
	path := os.Getenv("CHURN_BENCH_CSV")
	if path == "" {
		t.Skip("CHURN_BENCH_CSV not set")
	}
	d := benchData()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, name := range d.Schema.Names() {
		w.WriteString(name + ",")
	}
	w.WriteString("label\n")
	var buf []byte
	for i := range d.Rows() {
		buf = buf[:0]
		for _, col := range d.Columns {
			buf = strconv.AppendFloat(buf, col[i], 'g', -1, 64)
			buf = append(buf, ',')
		}
		buf = strconv.AppendFloat(buf, d.Labels[i], 'g', -1, 64)
		buf = append(buf, '\n')
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkAccumulate times the histogram loop on its own over the 40
// features of a million-row grouped table (40 MB, more than a typical L3
// cache, as in a fit): for every row, as at the root, and for every 32nd, as
// at depth 5, where each row's word of each group is a cache miss.
func BenchmarkAccumulate(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	groups := make([][]uint32, benchFeatures/groupWidth)
	for k := range groups {
		groups[k] = make([]uint32, benchRows)
		for i := range groups[k] {
			groups[k][i] = rng.Uint32()
		}
	}
	h := make(histogram, benchFeatures)
	for _, stride := range []int{1, 32} {
		var ents []gradEntry
		for i := 0; i < benchRows; i += stride {
			ents = append(ents, gradEntry{Row: int32(i), G: float32(rng.NormFloat64()), H: rng.Float32()})
		}
		for _, k := range []struct {
			name string
			fn   func()
		}{
			{"go", func() {
				for k := range groups {
					accumulateGo(h.group(k), groups[k], ents)
				}
			}},
			{"one", func() {
				for k := range groups {
					accumulate(h.group(k), groups[k], ents)
				}
			}},
			{"two", func() {
				for k := 0; k+1 < len(groups); k += 2 {
					accumulate2(h.group(k), h.group(k+1), groups[k], groups[k+1], ents)
				}
			}},
		} {
			b.Run(fmt.Sprintf("%s/stride=%d", k.name, stride), func(b *testing.B) {
				cpu := cpuTime()
				for b.Loop() {
					k.fn()
				}
				b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N*len(ents)), "cpu-ns/row")
			})
		}
	}
}
