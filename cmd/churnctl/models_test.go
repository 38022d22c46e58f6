package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"

	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/training/trainer"
)

// loadedStore generates a small simulated history and returns the DSN of
// a migrated store of the dialect holding it, and the truth folder.
func loadedStore(t *testing.T, dialect string) (db, truth string) {
	t.Helper()
	sim := filepath.Join(t.TempDir(), "sim")
	db = storetest.DSN(t, dialect)
	for _, args := range [][]string{
		{"generate", "--accounts", "800", "--months", "9", "--seed", "3", "--out", sim},
		{"migrate", "--db", db},
		{"ingest", "--db", db, sim},
	} {
		if code, _, stderr := churnctl(t, args...); code != 0 {
			t.Fatalf("%s: exit %d: %s", args[0], code, stderr)
		}
	}
	return db, sim + "-truth"
}

// trainArgs are the flags of a fast training run on the small history.
// Its test sets are too small for the activation guard, so models are
// activated always unless extra says otherwise.
func trainArgs(db, truth, task string, extra ...string) []string {
	return append([]string{"train", "--db", db, "--task", task, "--algo", "logreg", "--truth", truth,
		"--key-features", "reports,integrations,workflows,automations", "--catalogue-size", "20",
		"--activate", "always"}, extra...)
}

// TestTrainGuardKeepsSmallModelsCandidates trains on a store too small for
// the default guard: the model is registered as a candidate, and train
// says why in one line; --activate always activates it, saying so.
func TestTrainGuardKeepsSmallModelsCandidates(t *testing.T) {
	db, _ := loadedStore(t, "sqlite")
	base := []string{"train", "--db", db, "--task", "conversion", "--algo", "logreg"}
	code, stdout, stderr := churnctl(t, base...)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "): candidate\n") ||
		!regexp.MustCompile(`left a candidate: its test set holds \d+ positives and \d+ negatives, fewer than the 50 and 50 needed`).MatchString(stdout) {
		t.Errorf("train on a small store printed:\n%s", stdout)
	}
	code, stdout, stderr = churnctl(t, append(base, "--activate", "always")...)
	if code != 0 {
		t.Fatalf("train --activate always: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "): active\n") || !strings.Contains(stdout, "activated by --activate always, although its test set holds") {
		t.Errorf("train --activate always printed:\n%s", stdout)
	}
}

// TestTrainFromStoreThenManageModels trains both tasks from the store,
// then lists, reports, backtests, rolls back and retires models.
func TestTrainFromStoreThenManageModels(t *testing.T) {
	db, truth := loadedStore(t, "sqlite")
	var reports []storeTrainReport
	for _, args := range [][]string{
		// Lead 0 and a 30-day horizon make the label window the calendar
		// month the simulator's truth is about, so the oracle is reported.
		trainArgs(db, truth, "churn", "--json", "--lead", "0d"),
		trainArgs(db, truth, "conversion", "--json", "--trial-day", "5"),
		trainArgs(db, truth, "churn", "--json", "--lead", "0d", "--activate", "never"),
	} {
		code, stdout, stderr := churnctl(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var r storeTrainReport
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("train --json printed %q: %v", stdout, err)
		}
		reports = append(reports, r)
	}
	for _, r := range reports {
		ev := r.Evaluation
		if ev.TrainRows == 0 || ev.ValidRows == 0 || ev.TestRows == 0 || !ev.ValidCut.Before(ev.Window.Cut) {
			t.Errorf("model %d: split %+v", r.Version, ev)
		}
		if ev.Oracle == nil || ev.Oracle.Rows == 0 || !(ev.Test.Lo.AUC <= ev.Test.AUC && ev.Test.AUC <= ev.Test.Hi.AUC) {
			t.Errorf("model %d: test %+v, oracle %+v", r.Version, ev.Test, ev.Oracle)
		}
	}
	if reports[0].State != trainer.ModelActive || reports[1].State != trainer.ModelActive || reports[2].State != trainer.ModelCandidate {
		t.Errorf("states %s %s %s, want active active candidate", reports[0].State, reports[1].State, reports[2].State)
	}

	code, stdout, stderr := churnctl(t, "models", "list", "--db", db, "--task", "churn")
	if code != 0 || strings.Count(stdout, "\n") != 3 || !strings.Contains(stdout, "candidate") {
		t.Errorf("models list: exit %d: %s%s", code, stdout, stderr)
	}
	if code, stdout, stderr = churnctl(t, "models", "show", "--db", db, "1"); code != 0 || !strings.Contains(stdout, "(verified)") {
		t.Errorf("models show: exit %d: %s%s", code, stdout, stderr)
	}

	if code, _, stderr = churnctl(t, "backtest", "--db", db, "--task", "churn", "--lead", "0d", "--folds", "2", "--algo", "logreg", "--model", "1"); code != 0 {
		t.Fatalf("backtest: exit %d: %s", code, stderr)
	}
	out := filepath.Join(t.TempDir(), "report.html")
	if code, _, stderr = churnctl(t, "report", "--db", db, "--model", "1", "--out", out); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := html.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if text := textOf(doc); !strings.Contains(text, "mean") || !strings.Contains(text, "Oracle AUC") {
		t.Errorf("the report lacks the recorded backtest or the oracle")
	}

	// Roll back to the candidate, then retire the displaced model.
	if code, stdout, stderr = churnctl(t, "models", "activate", "--db", db, "3"); code != 0 || !strings.Contains(stdout, "model 1 retired") {
		t.Errorf("activate: exit %d: %s%s", code, stdout, stderr)
	}
	if code, _, stderr = churnctl(t, "models", "retire", "--db", db, "3"); code != 1 || !strings.Contains(stderr, "active") {
		t.Errorf("retiring the active model: exit %d: %s", code, stderr)
	}
	for _, args := range [][]string{{"models", "--db", db}, {"models", "show", "--db", db, "x"}, {"models", "fly", "--db", db, "1"}} {
		if code, _, _ := churnctl(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestConcurrentTrainOnPostgres runs two `churnctl train` at once against
// one PostgreSQL store: both register, and exactly one model is active.
func TestConcurrentTrainOnPostgres(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip(storetest.EnvPostgres + " is not set")
	}
	db, truth := loadedStore(t, "postgres")
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range codes {
		wg.Go(func() {
			var b strings.Builder
			codes[i] = run(context.Background(), trainArgs(db, truth, "churn", "--activate", "always"), &b, &b)
		})
	}
	wg.Wait()
	if codes[0] != 0 || codes[1] != 0 {
		t.Fatalf("exit codes %v", codes)
	}
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ms, err := s.Models(context.Background(), "churn")
	if err != nil {
		t.Fatal(err)
	}
	active := 0
	for _, m := range ms {
		if m.State == trainer.ModelActive {
			active++
		}
	}
	if len(ms) != 2 || active != 1 {
		t.Errorf("%d models, %d active; want 2 and 1", len(ms), active)
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
