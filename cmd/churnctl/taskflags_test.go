package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/openchurn/churn/store/storetest"
)

// TestTaskFlagErrors checks that every refused task flag is named in the
// error, and that it is a usage error (exit 2).
func TestTaskFlagErrors(t *testing.T) {
	sim := filepath.Join(t.TempDir(), "sim")
	db := storetest.DSN(t, "sqlite")
	for _, args := range [][]string{
		{"generate", "--accounts", "20", "--months", "2", "--seed", "3", "--out", sim},
		{"migrate", "--db", db},
		{"ingest", "--db", db, sim},
	} {
		if code, _, stderr := churnctl(t, args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", args[0], code, stderr)
		}
	}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--task", "churn", "--every", "0d"}, "--every"},
		{[]string{"--task", "churn", "--every", "fortnightly"}, "--every"},
		{[]string{"--task", "churn", "--horizon", "0d"}, "--horizon"},
		{[]string{"--task", "churn", "--lead", "1m"}, "--lead"},
		{[]string{"--task", "churn", "--grace", "-3d"}, "--grace"},
		{[]string{"--task", "churn", "--from", "2024-02-30"}, "--from"},
		{[]string{"--task", "churn", "--to", "tomorrow"}, "--to"},
		{[]string{"--task", "churn", "--data-end", "2024/01/01"}, "--data-end"},
		{[]string{"--task", "churn", "--activate", "sometimes"}, "--activate"},
		{[]string{"--task", "churn", "--key-features", "reports,reports"}, "--key-features"},
		{[]string{"--task", "churn", "--catalogue-size", "-1"}, "--catalogue-size"},
		{[]string{"--task", "conversion", "--trial-day", "-1"}, "--trial-day"},
		{[]string{"--task", "renewals"}, "--task"},
		{[]string{"--task", "churn", "--algo", "forest"}, "--algo"},
		{[]string{"--task", "churn", "--test-from", "2024-13-01"}, "--test-from"},
		{[]string{"--task", "churn", "--event-features", "-2"}, "--event-features"},
		{[]string{"--task", "churn", "--attributes", "country,country"}, "--attributes"},
		{[]string{"--task", "churn", "--test-from", "2024-06-01", "--folds", "2"}, "--test-from applies to train"},
	} {
		cmd := "train"
		if slices.Contains(tc.args, "--folds") {
			cmd = "backtest"
		}
		code, _, stderr := churnctl(t, append([]string{cmd, "--db", db}, tc.args...)...)
		if code != 2 || !strings.Contains(stderr, tc.flag) {
			t.Errorf("%s %v: exit %d, stderr %q; want exit 2 naming %s", cmd, tc.args, code, stderr, tc.flag)
		}
	}
}
