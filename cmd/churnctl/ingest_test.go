package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// ingestData is absolute: TestIngestEndToEnd changes directory into it.
var ingestData, _ = filepath.Abs(filepath.Join("..", "..", "testdata", "ingest"))

// churnctl runs the CLI in-process and returns its exit status and output.
func churnctl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// checkGolden compares got with testdata/ingest/golden/name, or rewrites
// it under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(ingestData, "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func statsOf(t *testing.T, db string) store.Stats {
	t.Helper()
	code, out, errOut := churnctl(t, "stats", "--db", db, "--json")
	if code != 0 {
		t.Fatalf("stats: exit %d: %s", code, errOut)
	}
	var st store.Stats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("stats --json: %v\n%s", err, out)
	}
	return st
}

func rowsOf(st store.Stats) map[string]int64 {
	rows := map[string]int64{}
	for _, t := range st.Tables {
		rows[string(t.Table)] = t.Rows
	}
	return rows
}

// TestIngestEndToEnd migrates, ingests the good fixtures twice and checks
// the summaries and stats, on every store.
func TestIngestEndToEnd(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := storetest.DSN(t, dialect)

			code, out, errOut := churnctl(t, "migrate", "--db", db)
			// Later migrations add tables of their own; the first is ours.
			if code != 0 || !strings.HasPrefix(out, "applied 0001_canonical_tables\n") {
				t.Fatalf("migrate: exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			code, out, _ = churnctl(t, "migrate", "--db", db)
			if code != 0 || out != "schema is up to date\n" {
				t.Errorf("second migrate: exit %d, stdout %q", code, out)
			}

			t.Chdir(ingestData) // so that the summaries name files as a user would
			good := "good"
			code, out, errOut = churnctl(t, "ingest", "--db", db, good)
			if code != 0 {
				t.Fatalf("ingest: exit %d: %s", code, errOut)
			}
			checkGolden(t, "ingest-first.txt", out)
			first := statsOf(t, db)

			code, out, errOut = churnctl(t, "ingest", "--db", db, good)
			if code != 0 {
				t.Fatalf("second ingest: exit %d: %s", code, errOut)
			}
			checkGolden(t, "ingest-again.txt", out)
			if again := statsOf(t, db); rowsOf(again)["usage_events"] != 6 || again.Rows != first.Rows {
				t.Errorf("re-ingest changed the counts: %v, then %v", rowsOf(first), rowsOf(again))
			}

			code, out, errOut = churnctl(t, "stats", "--db", db)
			if code != 0 {
				t.Fatalf("stats: exit %d: %s", code, errOut)
			}
			checkGolden(t, "stats.txt", out)
			code, out, _ = churnctl(t, "stats", "--db", db, "--json")
			if code != 0 {
				t.Fatalf("stats --json: exit %d", code)
			}
			checkGolden(t, "stats.json", out)
		})
	}
}

// TestIngestBadFileKeepsGoodOnes ingests a bad file with a good one: the
// exit status is 1, the error names file, line, column and reason, the bad
// file loads nothing and the good one is kept.
func TestIngestBadFileKeepsGoodOnes(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := storetest.DSN(t, dialect)
			bad := filepath.Join(ingestData, "bad", "usage.csv")
			good := filepath.Join(ingestData, "good", "accounts.csv")
			code, out, errOut := churnctl(t, "ingest", "--db", db, bad, good)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			wantErr := "churnctl ingest: " + bad + `:3: column "at": cannot parse "2024-13-01" as a time`
			if !strings.Contains(errOut, wantErr+"\n") {
				t.Errorf("stderr lacks %q:\n%s", wantErr, errOut)
			}
			if !strings.Contains(errOut, "1 of 2 files failed and loaded nothing; the other one is loaded") {
				t.Errorf("stderr lacks the summary:\n%s", errOut)
			}
			if !strings.Contains(out, "REFUSED, nothing kept") {
				t.Errorf("stdout does not mark the failure:\n%s", out)
			}
			rows := rowsOf(statsOf(t, db))
			if rows["accounts"] != 3 || rows["usage_events"] != 0 {
				t.Errorf("rows %v, want 3 accounts and no usage events", rows)
			}
		})
	}
}

// TestIngestMapped ingests a CRM export through its mapping file.
func TestIngestMapped(t *testing.T) {
	db := storetest.DSN(t, "sqlite")
	dir := filepath.Join(ingestData, "mapped")
	code, _, errOut := churnctl(t, "ingest", "--db", db, "--map", filepath.Join(dir, "mapping.yaml"), dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	st := statsOf(t, db)
	if rows := rowsOf(st); rows["accounts"] != 2 || rows["tickets"] != 2 {
		t.Errorf("rows %v, want 2 accounts and 2 tickets", rows)
	}
	if min := st.Tables[0].MinTime; min == nil || min.Format("2006-01-02") != "2023-12-31" {
		t.Errorf("first account created %v, want 2023-12-31", min)
	}
}

func TestExitCodes(t *testing.T) {
	db := storetest.DSN(t, "sqlite")
	good := filepath.Join(ingestData, "good", "accounts.csv")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"ingest without paths", []string{"ingest", "--db", db}, 2, "no files or folders to ingest"},
		{"unknown table", []string{"ingest", "--db", db, "--table", "orders", good}, 2, `--table: unknown table "orders"`},
		{"unknown flag", []string{"stats", "--db", db, "--yaml"}, 2, "flag provided but not defined: -yaml"},
		{"untellable table", []string{"ingest", "--db", db, filepath.Join(ingestData, "mapped", "mapping.yaml")}, 2, "unknown format"},
		{"extra argument", []string{"migrate", "--db", db, "now"}, 2, `unexpected arguments ["now"]`},
		{"missing file", []string{"ingest", "--db", db, "nope.csv"}, 1, "nope.csv: no such file or directory"},
		{"bad mapping", []string{"ingest", "--db", db, "--map", good, good}, 1, "loading mapping"},
		{"unknown scheme", []string{"migrate", "--db", "mysql://x"}, 1, `unknown DSN scheme "mysql"`},
		{"help", []string{"ingest", "-h"}, 0, "Usage: churnctl ingest"},
		{"explicit table", []string{"ingest", "--db", db, "--table", "accounts", good}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := churnctl(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, errOut)
			}
			if !strings.Contains(errOut, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errOut)
			}
		})
	}
}

// TestIngestTransformExample runs README "Bring your own data" on the
// worked example: the dry run reports the planted problems (golden) and
// stores nothing, the load stores what the dry run said, a second load
// changes nothing, and a churn model trains on the result.
func TestIngestTransformExample(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			db := storetest.DSN(t, dialect)
			t.Chdir(filepath.Join(ingestData, "transform"))
			ingest := func(flags ...string) (int, string, string) {
				return churnctl(t, append(append([]string{"ingest", "--db", db, "--transform", "transform.sql"}, flags...), "export")...)
			}
			code, dry, errOut := ingest("--dry-run", "--json")
			if code != 0 {
				t.Fatalf("dry run: exit %d: %s", code, errOut)
			}
			checkGolden(t, "transform-dry-run.json", dry)
			if rows := rowsOf(statsOf(t, db)); rows["accounts"] != 0 || rows["usage_events"] != 0 {
				t.Errorf("the dry run stored rows: %v", rows)
			}

			code, _, errOut = ingest("--json")
			if code != 0 {
				t.Fatalf("load: exit %d: %s", code, errOut)
			}
			var dryRep, again struct {
				Loads []load.Result `json:"loads"`
			}
			if err := json.Unmarshal([]byte(dry), &dryRep); err != nil {
				t.Fatal(err)
			}
			rows := rowsOf(statsOf(t, db))
			for _, l := range dryRep.Loads {
				if rows[string(l.Table)] != l.Inserted {
					t.Errorf("%s: the load stored %d rows, the dry run said %d", l.Table, rows[string(l.Table)], l.Inserted)
				}
			}
			code, out, errOut := ingest("--json")
			if code != 0 {
				t.Fatalf("second load: exit %d: %s", code, errOut)
			}
			if err := json.Unmarshal([]byte(out), &again); err != nil {
				t.Fatal(err)
			}
			for _, l := range again.Loads {
				if l.Inserted != 0 || l.Updated != 0 || l.Unchanged+l.Merged != l.Read {
					t.Errorf("second load of %s changed something: %+v", l.Table, l)
				}
			}

			model := filepath.Join(t.TempDir(), "model.json")
			if code, _, errOut := churnctl(t, "train", "--db", db, "--task", "churn", "--out", model); code != 0 {
				t.Errorf("train --task churn: exit %d: %s", code, errOut)
			}
		})
	}
}

// TestIngestRaisesConfiguredAlerts loads a fresh negative escalation: it
// opens the negative_escalation alert under the default rules, and none
// under a --config that disables the rule.
func TestIngestRaisesConfiguredAlerts(t *testing.T) {
	dir := t.TempDir()
	at := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	files := map[string]string{
		"accounts.csv":    "account_id,created_at,owner\nacme,2024-01-01,rep-01\n",
		"escalations.csv": "escalation_id,account_id,at,direction,severity\ne1,acme," + at + ",negative,high\n",
		"quiet.yaml":      "alerts:\n  rules:\n    - name: negative_escalation\n      disabled: true\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		flags []string
		want  int
	}{{nil, 1}, {[]string{"--config", filepath.Join(dir, "quiet.yaml")}, 0}} {
		db := "sqlite:" + filepath.Join(t.TempDir(), "churn.db")
		args := append(append([]string{"ingest", "--db", db}, tc.flags...), filepath.Join(dir, "accounts.csv"), filepath.Join(dir, "escalations.csv"))
		if code, _, errOut := churnctl(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.flags, code, errOut)
		}
		s, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		as, err := s.Alerts(context.Background(), alerts.Query{})
		s.Close()
		if err != nil || len(as) != tc.want {
			t.Errorf("ingest %v: alerts %+v, %v; want %d", tc.flags, as, err, tc.want)
		}
	}
}
