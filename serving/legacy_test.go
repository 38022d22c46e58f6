package serving_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/demo"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/simulate"
	"github.com/openchurn/churn/training/trainer"
)

// legacyDir holds what the release before the typed model record wrote:
// the registry rows of two models with the two shapes of details document
// it knew (model 2 from churnd --demo, model 3 from churnctl train), and
// the scores that release stored for them on the same data. See its
// README for how they were made.
const legacyDir = "../testdata/registry/legacy"

// legacyScore is a score as the earlier release stored it.
type legacyScore struct {
	AccountID    string   `json:"account_id"`
	Task         string   `json:"task"`
	ModelVersion int64    `json:"model_version"`
	Probability  float64  `json:"probability"`
	Health       float64  `json:"health"`
	Band         string   `json:"band"`
	PQL          bool     `json:"pql"`
	Horizon      string   `json:"horizon"`
	PQLThreshold *float64 `json:"pql_threshold"`
	Reasons      []string `json:"reasons"`
}

// TestLegacyModelRecordsServeTheSameScores puts the earlier release's
// registry rows into a store holding the same simulated history, and
// checks that this release reads both shapes of record and stores the
// scores that release stored.
func TestLegacyModelRecordsServeTheSameScores(t *testing.T) {
	ctx := context.Background()
	s := openLegacyStore(t)

	// Both shapes read as typed records.
	for task, want := range map[string]trainer.Record{
		"conversion": {Task: "conversion"},
		"churn":      {Task: "churn", Lead: days(7), Horizon: days(30), Grace: days(14)},
	} {
		m, err := s.ActiveModel(ctx, task)
		if err != nil {
			t.Fatalf("reading the legacy %s model: %v", task, err)
		}
		r := m.Record
		if r.Task != want.Task || r.Lead != want.Lead || r.Horizon != want.Horizon || r.Grace != want.Grace || r.Result == nil {
			t.Errorf("legacy %s record read as %+v", task, r)
		}
	}

	got := scoreLegacyStore(t, s)
	var golden []legacyScore
	readJSON(t, filepath.Join(legacyDir, "scores.golden.json"), &golden)
	if len(got) != len(golden) {
		t.Errorf("%d scores, the earlier release stored %d", len(got), len(golden))
	}
	fs, err := features.Config{}.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	catalog := map[string]features.Feature{}
	for _, f := range fs {
		catalog[f.Name] = f
	}
	for _, w := range golden {
		sc, ok := got[w.Task+"/"+w.AccountID]
		if !ok {
			t.Errorf("%s %s: not scored", w.Task, w.AccountID)
			continue
		}
		var reasons []string
		for _, r := range sc.Detail.Reasons {
			reasons = append(reasons, r.Feature)
		}
		// The earlier release stored a conversion score's 100 × p as its
		// health.
		health := sc.Health
		if w.Task == serving.TaskConversion {
			health = sc.ConversionScore()
		}
		var threshold *float64
		if t := sc.Detail.PQLThreshold; t > 0 {
			threshold = &t
		}
		// The earlier release listed the top 5 contributions whatever
		// their feature; now reasons are actionable, one per signal, and
		// none reads as its typical value, so its reasons so filtered,
		// less those that read as typical (which only the values tell),
		// must come first in ours and in its order.
		var want []string
		seen := map[string]bool{}
		for _, name := range w.Reasons {
			f := catalog[name]
			if f.Actionable() && !seen[f.Signal()] {
				seen[f.Signal()] = true
				want = append(want, name)
			}
		}
		if math.Abs(sc.Probability-w.Probability) > 1e-12 || math.Abs(health-w.Health) > 1e-9 || sc.Band != w.Band ||
			sc.PQL != w.PQL || sc.Detail.Horizon != w.Horizon || !equalFloatPtr(threshold, w.PQLThreshold) ||
			!leadsWith(reasons, want) {
			t.Errorf("%s %s: p %v health %v band %q pql %v horizon %q threshold %v reasons %v\nwant p %v health %v band %q pql %v horizon %q threshold %v reasons %v",
				w.Task, w.AccountID, sc.Probability, health, sc.Band, sc.PQL, sc.Detail.Horizon, threshold, reasons,
				w.Probability, w.Health, w.Band, w.PQL, w.Horizon, w.PQLThreshold, want)
		}
	}
}

// openLegacyStore returns a SQLite store holding the simulated history the
// legacy models were trained on (600 accounts, 12 months, seed 1) and
// their registry rows as the earlier release wrote them.
func openLegacyStore(t *testing.T) *store.Store {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "legacy.db")
	s, err := store.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := demo.Generate(ctx, s, simulate.Config{Accounts: 600, Months: 12, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	insertLegacyModels(t, path)
	return s
}

// scoreLegacyStore runs a batch on a store of openLegacyStore as of
// 2025-01-01, without alerts, and returns the current scores, with their
// details, by task and account ("churn/A0000002").
func scoreLegacyStore(t *testing.T, s *store.Store) map[string]score.Score {
	t.Helper()
	ctx := context.Background()
	asOf := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	scorer := &serving.Scorer{Registry: s, Reference: s, Bands: serving.DefaultBands()}
	if _, err := (&serving.Batch{Store: s, Scorer: scorer, Tasks: serving.Tasks, AsOf: asOf}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[string]score.Score{}
	for _, task := range serving.Tasks {
		rows, err := s.ScoreRows(ctx, score.ListQuery{Task: task, Limit: 10_000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			got[r.Task+"/"+r.AccountID] = r.Score
		}
	}
	return got
}

// insertLegacyModels writes the earlier release's registry rows into the
// SQLite store at path as that release wrote them, bypassing the store.
// Times are as SQLite stores them: Unix microseconds.
func insertLegacyModels(t *testing.T, path string) {
	t.Helper()
	var rows []struct {
		Version     int64           `json:"version"`
		Task        string          `json:"task"`
		Algorithm   string          `json:"algorithm"`
		State       string          `json:"state"`
		CreatedAt   int64           `json:"created_at"`
		StateAt     int64           `json:"state_at"`
		WindowStart int64           `json:"window_start"`
		WindowEnd   int64           `json:"window_end"`
		TestAUC     float64         `json:"test_auc"`
		Metrics     json.RawMessage `json:"metrics"`
		Checksum    string          `json:"checksum"`
	}
	readJSON(t, filepath.Join(legacyDir, "models.json"), &rows)
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, r := range rows {
		name := "model-" + strconv.FormatInt(r.Version, 10)
		details, err := os.ReadFile(filepath.Join(legacyDir, name+".details.json"))
		if err != nil {
			t.Fatal(err)
		}
		artifact, err := os.ReadFile(filepath.Join(legacyDir, name+".artifact.json"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Exec(`INSERT INTO models (version, task, algorithm, state, created_at, state_at, window_start, window_end,
			test_auc, metrics, details, backtest, artifact, checksum) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)`,
			r.Version, r.Task, r.Algorithm, r.State, r.CreatedAt, r.StateAt, r.WindowStart, r.WindowEnd,
			r.TestAUC, string(r.Metrics), string(details), string(artifact), r.Checksum)
		if err != nil {
			t.Fatalf("inserting legacy model %d: %v", r.Version, err)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func days(n int) dataset.Duration { return dataset.Duration(time.Duration(n) * 24 * time.Hour) }

func equalFloatPtr(a, b *float64) bool {
	return a == nil && b == nil || a != nil && b != nil && math.Abs(*a-*b) < 1e-12
}

// leadsWith reports whether got begins with want less some of its
// elements, in want's order.
func leadsWith(got, want []string) bool {
	k := 0
	for _, name := range want {
		if k < len(got) && got[k] == name {
			k++
		} else if slices.Contains(got, name) {
			return false // listed, but out of want's order
		}
	}
	return k == len(got) || !slices.ContainsFunc(got[k:], func(n string) bool { return slices.Contains(want, n) })
}
