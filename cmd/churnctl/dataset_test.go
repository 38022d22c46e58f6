package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/store/storetest"
)

func TestDatasetUsage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "rows.csv")
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"no task", []string{"dataset", "--out", out}, 2, "--task is required"},
		{"no out", []string{"dataset", "--task", "churn"}, 2, "--out is required"},
		{"bad shard", []string{"dataset", "--task", "churn", "--out", out, "--shard", "4/4"}, 2, "--shard"},
		{"negative workers", []string{"dataset", "--task", "churn", "--out", out, "--workers", "-1"}, 2, "--workers"},
		{"extra argument", []string{"dataset", "--task", "churn", "--out", out, "more"}, 2, "unexpected arguments"},
		{"help", []string{"dataset", "-h"}, 0, "Usage: churnctl dataset"},
		{"features without as-of", []string{"features", "--out", out}, 2, "--as-of is required"},
		{"features bad as-of", []string{"features", "--out", out, "--as-of", "yesterday"}, 2, "--as-of"},
		{"features repeated key feature", []string{"features", "--out", out, "--as-of", "2024-01-01", "--key-features", "a,a"}, 2, "repeated"},
		{"features help", []string{"features", "-h"}, 0, "Usage: churnctl features"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := churnctl(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.inStderr)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused command created %s (%v)", out, err)
	}
}

// readRows returns a CSV file's header and its rows sorted.
func readRows(t *testing.T, path string) (string, []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	rows := lines[1:]
	slices.Sort(rows)
	return lines[0], rows
}

// TestDatasetShards generates a small history, loads it into every store,
// and checks for each command that the union of --shard i/4 is the
// unsharded output, row for row.
func TestDatasetShards(t *testing.T) {
	dir := t.TempDir()
	sim := filepath.Join(dir, "sim")
	if code, _, stderr := churnctl(t, "generate", "--accounts", "250", "--months", "5", "--seed", "3", "--out", sim); code != 0 {
		t.Fatalf("generate: exit %d: %s", code, stderr)
	}
	commands := map[string][]string{
		"churn":      {"dataset", "--task", "churn", "--from", "2024-02-01", "--grace", "14d"},
		"conversion": {"dataset", "--task", "conversion", "--trial-day", "5"},
		"features":   {"features", "--as-of", "2024-05-15", "--key-features", "reports,workflows", "--catalogue-size", "20"},
	}
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := storetest.DSN(t, dialect)
			if code, _, stderr := churnctl(t, "ingest", "--db", db, sim); code != 0 {
				t.Fatalf("ingest: exit %d: %s", code, stderr)
			}
			for name, args := range commands {
				t.Run(name, func(t *testing.T) {
					run := func(shard string) (string, []string) {
						out := filepath.Join(t.TempDir(), "rows.csv")
						a := append(slices.Clone(args), "--db", db, "--out", out, "--workers", "3")
						if shard != "" {
							a = append(a, "--shard", shard)
						}
						code, stdout, stderr := churnctl(t, a...)
						if code != 0 || !strings.Contains(stdout, "rows from") {
							t.Fatalf("%s: exit %d: %s%s", strings.Join(a, " "), code, stdout, stderr)
						}
						return readRows(t, out)
					}
					header, all := run("")
					if len(all) < 20 {
						t.Fatalf("only %d rows", len(all))
					}
					wantHeader := "account_id,as_of," + strings.Join(features.FeatureNames(), ",")
					if name != "features" {
						wantHeader += ",label"
					}
					if header != wantHeader {
						t.Errorf("header %q, want %q", header, wantHeader)
					}
					var union []string
					for i := range 4 {
						_, rows := run(strings.Join([]string{string(rune('0' + i)), "4"}, "/"))
						if len(rows) == len(all) {
							t.Errorf("shard %d/4 holds every row", i)
						}
						union = append(union, rows...)
					}
					slices.Sort(union)
					if !slices.Equal(union, all) {
						t.Errorf("the shards' union has %d rows, the unsharded output %d, and they differ", len(union), len(all))
					}
				})
			}
		})
	}
}
