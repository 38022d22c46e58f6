package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"path"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/trainer"
)

// newModel returns a registrable model of task with the given test AUC.
func newModel(task string, auc float64) *trainer.RegisteredModel {
	return &trainer.RegisteredModel{
		Task: task, Algorithm: "gbdt", TestAUC: auc,
		WindowStart: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), WindowEnd: time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC),
		Record:   record(path.Base(task)), // cases prefix tasks with their names
		Artifact: []byte(fmt.Sprintf(`{"format":1,"auc":%g,"bias":0.5}`, auc)),
	}
}

// record returns a minimal valid record of task.
func record(task string) trainer.Record {
	r := trainer.Record{Task: task, Grace: dataset.Duration(14 * 24 * time.Hour)}
	if task == trainer.TaskChurn {
		r.Lead, r.Horizon = dataset.Duration(7*24*time.Hour), dataset.Duration(30*24*time.Hour)
	}
	return r
}

// states returns the state of every model by version.
func states(t *testing.T, s *store.Store) map[int64]trainer.ModelState {
	t.Helper()
	ms, err := s.Models(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]trainer.ModelState{}
	for _, m := range ms {
		out[m.Version] = m.State
	}
	return out
}

func TestRegistryActivationRules(t *testing.T) {
	type step struct {
		task string
		auc  float64
		act  trainer.Activation
	}
	const (
		c = trainer.ModelCandidate
		a = trainer.ModelActive
		r = trainer.ModelRetired
	)
	cases := []struct {
		name  string
		steps []step
		want  []trainer.ModelState // by registration order
	}{
		{"first model is activated", []step{{"churn", 0.7, trainer.ActivateAuto}}, []trainer.ModelState{a}},
		{"better model replaces", []step{{"churn", 0.7, "auto"}, {"churn", 0.8, "auto"}}, []trainer.ModelState{r, a}},
		{"equal AUC replaces", []step{{"churn", 0.7, "auto"}, {"churn", 0.7, "auto"}}, []trainer.ModelState{r, a}},
		{"worse model stays candidate", []step{{"churn", 0.8, "auto"}, {"churn", 0.79, "auto"}}, []trainer.ModelState{a, c}},
		{"always activates a worse model", []step{{"churn", 0.8, "auto"}, {"churn", 0.6, "always"}}, []trainer.ModelState{r, a}},
		{"never leaves the task without a model", []step{{"churn", 0.8, "never"}}, []trainer.ModelState{c}},
		{"never keeps the active one", []step{{"churn", 0.7, "auto"}, {"churn", 0.9, "never"}}, []trainer.ModelState{a, c}},
		{"unknown AUC never wins", []step{{"churn", 0.7, "auto"}, {"churn", math.NaN(), "auto"}}, []trainer.ModelState{a, c}},
		{"a known AUC beats an unknown one", []step{{"churn", math.NaN(), "auto"}, {"churn", 0.6, "auto"}}, []trainer.ModelState{r, a}},
		{"tasks are independent", []step{{"churn", 0.9, "auto"}, {"conversion", 0.6, "auto"}}, []trainer.ModelState{a, a}},
	}
	// One store serves every case: each case's tasks are prefixed with its
	// name, and tasks are independent.
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, tc := range cases {
			var versions []int64
			for _, st := range tc.steps {
				m := newModel(tc.name+"/"+st.task, st.auc)
				if _, err := s.RegisterModel(ctx, m, st.act); err != nil {
					t.Fatal(err)
				}
				versions = append(versions, m.Version)
			}
			got := states(t, s)
			for i, want := range tc.want {
				if got[versions[i]] != want {
					t.Errorf("%s: model %d is %s, want %s", tc.name, i+1, got[versions[i]], want)
				}
			}
		}
	})
}

func TestRegistryRoundTripAndRollback(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		m1 := newModel("churn", 0.8)
		if _, err := s.RegisterModel(ctx, m1, trainer.ActivateAuto); err != nil {
			t.Fatal(err)
		}
		prev, err := s.RegisterModel(ctx, newModel("churn", 0.85), trainer.ActivateAuto)
		if err != nil {
			t.Fatal(err)
		}
		if prev == nil || prev.Version != 1 {
			t.Fatalf("registering v2 displaced %+v, want v1", prev)
		}
		got, err := s.Model(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Artifact) != string(m1.Artifact) || got.Checksum != m1.Checksum || got.TestAUC != 0.8 ||
			!got.WindowStart.Equal(m1.WindowStart) || !got.WindowEnd.Equal(m1.WindowEnd) || !got.CreatedAt.Equal(m1.CreatedAt) ||
			!reflect.DeepEqual(got.Record, trainer.Record{Version: trainer.RecordVersion, Task: "churn", Lead: m1.Record.Lead,
				Horizon: m1.Record.Horizon, Grace: m1.Record.Grace}) || got.State != trainer.ModelRetired {
			t.Errorf("read back %+v, registered %+v", got, m1)
		}

		// Roll back: v1 again, v2 retired.
		prev, err = s.ActivateModel(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if prev == nil || prev.Version != 2 {
			t.Errorf("rollback displaced %+v, want v2", prev)
		}
		active, err := s.ActiveModel(ctx, "churn")
		if err != nil || active.Version != 1 {
			t.Fatalf("active after rollback: %+v, %v", active, err)
		}
		if st := states(t, s); st[2] != trainer.ModelRetired {
			t.Errorf("v2 is %s after rollback", st[2])
		}
		if _, err := s.ActivateModel(ctx, 1); err != nil {
			t.Errorf("activating the active model: %v", err)
		}

		if err := s.RetireModel(ctx, 1); !errors.Is(err, trainer.ErrActiveModel) {
			t.Errorf("retiring the active model: %v, want ErrActiveModel", err)
		}
		if err := s.RetireModel(ctx, 99); !errors.Is(err, trainer.ErrModelNotFound) {
			t.Errorf("retiring a missing model: %v", err)
		}
		if _, err := s.ActiveModel(ctx, "conversion"); !errors.Is(err, trainer.ErrModelNotFound) {
			t.Errorf("active model of a task without one: %v", err)
		}
		bt := &trainer.BacktestResult{Folds: []trainer.Fold{{}}}
		if err := s.SetModelBacktest(ctx, 2, bt); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Model(ctx, 2); got.Backtest == nil || len(got.Backtest.Folds) != 1 {
			t.Errorf("backtest read back as %+v", got.Backtest)
		}
		if err := s.SetModelBacktest(ctx, 99, bt); !errors.Is(err, trainer.ErrModelNotFound) {
			t.Errorf("backtest of a missing model: %v", err)
		}
	})
}

// rawDB opens a plain connection to the store at dsn, bypassing Store, to
// do what the store never would.
func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver, name := "pgx", dsn
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		driver, name = "sqlite", path
	}
	db, err := sql.Open(driver, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openDSN opens and migrates a fresh store of dialect, returning its DSN.
func openDSN(t *testing.T, dialect string) (*store.Store, string) {
	t.Helper()
	dsn := storetest.DSN(t, dialect)
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, dsn
}

func TestRegistryRefusesTamperedArtifact(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			s, dsn := openDSN(t, dialect)
			for _, auc := range []float64{0.7, 0.6} {
				if _, err := s.RegisterModel(ctx, newModel("churn", auc), trainer.ActivateAuto); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := rawDB(t, dsn).ExecContext(ctx, `UPDATE models SET artifact = replace(artifact, '"bias":0.5', '"bias":9.5')`); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Model(ctx, 1); !errors.Is(err, trainer.ErrChecksum) {
				t.Errorf("loading a tampered artifact: %v, want ErrChecksum", err)
			}
			if _, err := s.ActiveModel(ctx, "churn"); !errors.Is(err, trainer.ErrChecksum) {
				t.Errorf("loading a tampered active artifact: %v, want ErrChecksum", err)
			}
			if _, err := s.ActivateModel(ctx, 2); !errors.Is(err, trainer.ErrChecksum) {
				t.Errorf("activating a tampered artifact: %v, want ErrChecksum", err)
			}
			if st := states(t, s); st[1] != trainer.ModelActive || st[2] != trainer.ModelCandidate {
				t.Errorf("a refused activation changed states: %v", st)
			}
		})
	}
}

// TestRegistryOneActivePerTaskInSchema checks that the database itself,
// not only the store's code, refuses a second active model of a task.
func TestRegistryOneActivePerTaskInSchema(t *testing.T) {
	for _, dialect := range storetest.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			s, dsn := openDSN(t, dialect)
			for _, task := range []string{"churn", "churn", "conversion"} {
				if _, err := s.RegisterModel(ctx, newModel(task, 0.5), trainer.ActivateNever); err != nil {
					t.Fatal(err)
				}
			}
			db := rawDB(t, dsn)
			if _, err := db.ExecContext(ctx, `UPDATE models SET state = 'active' WHERE version IN (1, 3)`); err != nil {
				t.Fatalf("one active model per task refused: %v", err)
			}
			if _, err := db.ExecContext(ctx, `UPDATE models SET state = 'active' WHERE version = 2`); err == nil {
				t.Error("the schema accepted a second active churn model")
			}
			if _, err := db.ExecContext(ctx, `UPDATE models SET state = 'live' WHERE version = 2`); err == nil {
				t.Error("the schema accepted an unknown state")
			}
		})
	}
}

// TestRegistryConcurrentRegistration registers models from many
// goroutines at once, as concurrent `churnctl train` runs do, and checks
// that exactly one is active and that versions are distinct.
func TestRegistryConcurrentRegistration(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		const n = 16
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				act := trainer.ActivateAuto
				if i%3 == 0 {
					act = trainer.ActivateAlways
				}
				if _, err := s.RegisterModel(ctx, newModel("churn", 0.5+float64(i%5)/10), act); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		active := 0
		for _, st := range states(t, s) {
			if st == trainer.ModelActive {
				active++
			}
		}
		if got := len(states(t, s)); got != n || active != 1 {
			t.Errorf("%d models with %d active, want %d with 1", got, active, n)
		}
	})
}

func TestParseActivation(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want trainer.Activation
		ok   bool
	}{{"auto", trainer.ActivateAuto, true}, {"always", trainer.ActivateAlways, true}, {"never", trainer.ActivateNever, true}, {"sometimes", "", false}} {
		got, err := trainer.ParseActivation(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseActivation(%q) = %q, %v", tc.in, got, err)
		}
	}
}
