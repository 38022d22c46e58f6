package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/openchurn/churn/store"
)

func TestDemoFillsAnEmptyStoreOnce(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "demo.db")
	args := []string{"--db", dsn, "--demo", "--demo-accounts", "60", "--demo-months", "2"}

	start := func() (store.Stats, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 0 {
			t.Fatalf("churnd %v exited %d: %s", args, code, errOut.String())
		}
		var stats store.Stats
		if err := json.Unmarshal(out.Bytes(), &stats); err != nil {
			t.Fatalf("stats output %q: %v", out.String(), err)
		}
		return stats, errOut.String()
	}

	first, _ := start()
	rows := map[string]int64{}
	for _, ts := range first.Tables {
		rows[string(ts.Table)] = ts.Rows
	}
	for _, table := range []string{"accounts", "usage_events", "billing_changes"} {
		if rows[table] == 0 {
			t.Errorf("after --demo, %s is empty: %+v", table, first.Tables)
		}
	}

	second, log := start()
	if second.Rows != first.Rows {
		t.Errorf("second start changed the row count from %d to %d", first.Rows, second.Rows)
	}
	if !strings.Contains(log, "not simulating again") {
		t.Errorf("second start did not say it reused the store; log:\n%s", log)
	}
}

func TestBadUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--no-such-flag"}, &out, &errOut); code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	if code := run(context.Background(), []string{"--db", "mysql://x"}, &out, &errOut); code != 1 {
		t.Errorf("unknown store scheme: exit status %d, want 1", code)
	}
}
