package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/training/simulate"
)

func TestGenerateUsage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sim")
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"no out", []string{"generate"}, 2, "--out is required"},
		{"bad start", []string{"generate", "--out", out, "--start", "2024-13-01"}, 2, "--start"},
		{"no months", []string{"generate", "--out", out, "--months", "0"}, 2, "months 0"},
		{"negative accounts", []string{"generate", "--out", out, "--accounts", "-5"}, 2, "accounts -5"},
		{"extra argument", []string{"generate", "--out", out, "more"}, 2, "unexpected arguments"},
		{"unknown flag", []string{"generate", "--acounts", "5"}, 2, "flag provided but not defined"},
		{"help", []string{"generate", "-h"}, 0, "Usage: churnctl generate"},
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

// TestGenerateThenIngest generates a history, checks the summary and the
// truth folder, and loads the tables into every store with churnctl
// ingest: every generated row must load.
func TestGenerateThenIngest(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "sim")
	code, stdout, stderr := churnctl(t, "generate", "--accounts", "60", "--months", "2", "--seed", "5", "--out", out, "--start", "2025-02-01")
	if code != 0 {
		t.Fatalf("generate: exit %d: %s", code, stderr)
	}
	want := map[string]int64{}
	for _, name := range []string{filepath.Join("sim", "accounts.csv"), filepath.Join("sim-truth", simulate.TruthChurnFile), filepath.Join("sim-truth", simulate.TruthConversionFile)} {
		if !strings.Contains(stdout, filepath.Join(dir, name)+"\n") {
			t.Errorf("summary does not name %s:\n%s", name, stdout)
		}
	}
	for _, tab := range features.Tables {
		b, err := os.ReadFile(filepath.Join(out, simulate.FileName(tab)))
		if err != nil {
			t.Fatal(err)
		}
		want[string(tab)] = int64(bytes.Count(b, []byte("\n")) - 1)
	}
	if want["usage_events"] == 0 || want["tickets"] == 0 {
		t.Fatalf("generated too little to test with: %v", want)
	}

	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := storetest.DSN(t, dialect)
			if code, _, stderr := churnctl(t, "migrate", "--db", db); code != 0 {
				t.Fatalf("migrate: exit %d: %s", code, stderr)
			}
			if code, _, stderr := churnctl(t, "ingest", "--db", db, out); code != 0 {
				t.Fatalf("ingest: exit %d: %s", code, stderr)
			}
			got := rowsOf(statsOf(t, db))
			for table, n := range want {
				if got[table] != n {
					t.Errorf("%s: %d rows loaded, %d generated", table, got[table], n)
				}
			}
		})
	}
}
