package recordio

import (
	"bytes"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
)

// BenchmarkDecodeUsageCSV measures the decoder alone, which the loaders
// run concurrently with the database: 100k usage events with RFC 3339
// times, with and without event ids (derived ids cost a SHA-256 each).
//
//	go test ./features/recordio -run '^$' -bench DecodeUsageCSV
func BenchmarkDecodeUsageCSV(b *testing.B) {
	const rows = 100_000
	for _, withIDs := range []bool{true, false} {
		name := "derived-ids"
		if withIDs {
			name = "given-ids"
		}
		b.Run(name, func(b *testing.B) {
			var in bytes.Buffer
			in.WriteString("event_id,account_id,user_id,feature,at,count,duration_s,errors\n")
			at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			for i := range rows {
				if withIDs {
					in.WriteString("ev" + strconv.Itoa(i))
				}
				in.WriteString(",acct-" + strconv.Itoa(i%5000) + ",u" + strconv.Itoa(i%97) + ",reports,")
				in.WriteString(at.Add(time.Duration(i)*time.Minute).Format(time.RFC3339) + ",2,31.5,0\n")
			}
			data := in.Bytes()
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for range b.N {
				d, err := NewDecoder(bytes.NewReader(data), "usage.csv", features.UsageEvents, CSV, nil)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					_, err := d.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != rows {
					b.Fatalf("decoded %d rows, want %d", n, rows)
				}
			}
			b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
