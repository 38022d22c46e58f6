package main

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/store/storetest"
)

var metricsData = filepath.Join("..", "..", "testdata", "metrics")

func TestMetrics(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := storetest.DSN(t, dialect)
			if code, _, errOut := churnctl(t, "migrate", "--db", db); code != 0 {
				t.Fatalf("migrate: %s", errOut)
			}
			if code, _, errOut := churnctl(t, "ingest", "--db", db, filepath.Join(metricsData, "history")); code != 0 {
				t.Fatalf("ingest: %s", errOut)
			}
			// The golden MRR movements of saas/golden_test.go.
			code, out, errOut := churnctl(t, "metrics", "mrr", "--db", db, "--from", "2025-01", "--to", "2025-03", "--csv")
			if code != 0 {
				t.Fatalf("metrics mrr: exit %d: %s", code, errOut)
			}
			checkMetricsGolden(t, "mrr.csv", out)
			// Flags before the report's name; the range defaults to the
			// twelve months ending with the latest record (F's churn in
			// March 2025).
			code, out, errOut = churnctl(t, "metrics", "--db", db, "--json", "unit-economics")
			if code != 0 {
				t.Fatalf("metrics unit-economics: exit %d: %s", code, errOut)
			}
			var res struct {
				From, To string
				Data     struct {
					Months []struct {
						Month string   `json:"month"`
						CAC   *float64 `json:"cac"`
					} `json:"months"`
					Total struct {
						CAC    *float64          `json:"cac"`
						Absent map[string]string `json:"absent"`
					} `json:"total"`
				}
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			// Spend 600 over the six first subscriptions from 2024-04 (C,
			// A, B, D, G, J): CAC 100; no margin is configured.
			ue := res.Data
			if n := len(ue.Months); res.From != "2024-04" || res.To != "2025-03" || n != 12 || ue.Months[0].Month != "2024-04" || ue.Months[n-1].Month != "2025-03" ||
				ue.Total.CAC == nil || *ue.Total.CAC != 100 || ue.Total.Absent["ltv_gross_margin"] != "no gross margin is configured" {
				t.Errorf("unit economics %s", out)
			}
			code, out, _ = churnctl(t, "metrics", "cohorts", "--db", db, "--from", "2025-01", "--to", "2025-03")
			if code != 0 || !strings.Contains(out, "2025-01") || !strings.Contains(out, "logos_2") {
				t.Errorf("metrics cohorts: exit %d\n%s", code, out)
			}
			// all: every report from one read, each as its own run gives it.
			code, out, errOut = churnctl(t, "metrics", "all", "--db", db, "--from", "2024-10", "--to", "2025-03", "--json")
			if code != 0 {
				t.Fatalf("metrics all: exit %d: %s", code, errOut)
			}
			var all []json.RawMessage
			if err := json.Unmarshal([]byte(out), &all); err != nil || len(all) != len(serving.MetricsReports) {
				t.Fatalf("metrics all: %d documents (%v), want %d\n%s", len(all), err, len(serving.MetricsReports), out)
			}
			for i, report := range serving.MetricsReports {
				code, one, errOut := churnctl(t, "metrics", string(report), "--db", db, "--from", "2024-10", "--to", "2025-03", "--json")
				if code != 0 {
					t.Fatalf("metrics %s: exit %d: %s", report, code, errOut)
				}
				var want, got any
				if err := json.Unmarshal([]byte(one), &want); err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(all[i], &got); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("metrics all's %s\n%s\nwant\n%s", report, all[i], one)
				}
			}
			code, out, _ = churnctl(t, "metrics", "all", "--db", db, "--from", "2025-01", "--to", "2025-03")
			if code != 0 || strings.Count(out, "# ") != len(serving.MetricsReports) || !strings.Contains(out, "# support 2025-01 to 2025-03") {
				t.Errorf("metrics all: exit %d\n%s", code, out)
			}
		})
	}
}

func TestMetricsUsage(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	for _, args := range [][]string{
		{"metrics"},
		{"metrics", "churn"},
		{"metrics", "mrr", "--from", "May"},
		{"metrics", "mrr", "--from", "2025-05", "--to", "2025-01"},
		{"metrics", "mrr", "--json", "--csv"},
		{"metrics", "cohorts", "--by", "plan"},
		{"metrics", "mrr", "extra"},
		{"metrics", "all", "--csv"},
	} {
		args = append(args, "--db", db)
		if code, _, errOut := churnctl(t, args...); code != 2 || errOut == "" {
			t.Errorf("churnctl %v: exit %d (%q), want 2 with a message", args, code, errOut)
		}
	}
}

// checkMetricsGolden is checkGolden for testdata/metrics/golden.
func checkMetricsGolden(t *testing.T, name, got string) {
	t.Helper()
	checkGolden(t, filepath.Join("..", "..", "metrics", "golden", name), got)
}
