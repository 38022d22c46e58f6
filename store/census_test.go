package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/simulate"
	"github.com/openchurn/churn/training/trainer"
)

// TestDryRunCensus checks the training census of a dry run: read in
// chunks inside the dry run's transaction, it equals the census of the
// same files loaded for real and swept by Histories, and each task's
// counts are those of the rows the trainer collects.
func TestDryRunCensus(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := simulate.Generate(ctx, simulate.Config{Accounts: 240, Months: 8, Seed: 3}, dir, ""); err != nil {
		t.Fatal(err)
	}
	files, err := store.ExportFiles([]string{dir}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer store.SetSnapshotAccounts(7)() // many chunks, and tables whose chunks end apart
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		loadAll := func(l store.Loader) error {
			for _, f := range files {
				if _, err := store.LoadFile(ctx, l, f, nil, load.Options{}); err != nil {
					return err
				}
			}
			return nil
		}
		q, err := s.DryRun(ctx, time.Now(), loadAll)
		if err != nil {
			t.Fatal(err)
		}
		if err := loadAll(s); err != nil {
			t.Fatal(err)
		}
		ext, err := s.Extent(ctx)
		if err != nil {
			t.Fatal(err)
		}
		src := dataset.SourceFunc(func(ctx context.Context, fn func(*features.History) error) error {
			return s.Histories(ctx, store.Shard{}, fn)
		})
		want, err := trainer.TakeCensus(ctx, ext, src)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(q.Training, want) {
			t.Errorf("dry-run census\n%+v\nwant the loaded store's\n%+v", q.Training, want)
		}
		if len(want) != 2 {
			t.Fatalf("census of %d tasks, want churn and conversion", len(want))
		}
		for _, c := range want {
			p, err := trainer.DefaultSpec(c.Task).Plan(ext)
			if err != nil {
				t.Fatal(err)
			}
			e, _, err := trainer.Collect(ctx, src, p.Task, dataset.Options{Features: p.Record.Features}, p.Labels)
			if err != nil {
				t.Fatal(err)
			}
			var positives, testRows, testPositives int64
			accounts, positiveAccounts := map[string]bool{}, map[string]bool{}
			cut := trainer.TestWindow(e, trainer.DefaultOptions()).Cut
			for i, y := range e.Data.Labels {
				accounts[e.Accounts[i]] = true
				test := !e.AsOf[i].Before(cut)
				if test {
					testRows++
				}
				if y == 1 {
					positives++
					positiveAccounts[e.Accounts[i]] = true
					if test {
						testPositives++
					}
				}
			}
			if !c.TestFrom.Equal(cut) || c.TestRows != testRows || c.TestPositives != testPositives || testRows == 0 {
				t.Errorf("%s census test set from %v: %d rows, %d positive; the trainer's from %v: %d, %d",
					c.Task, c.TestFrom, c.TestRows, c.TestPositives, cut, testRows, testPositives)
			}
			got := [4]int64{c.Rows, c.Positives, c.Accounts, c.PositiveAccounts}
			if w := [4]int64{int64(len(e.Data.Labels)), positives, int64(len(accounts)), int64(len(positiveAccounts))}; got != w || positives == 0 {
				t.Errorf("%s census rows, positives, accounts, positive accounts %v; the trainer collects %v", c.Task, got, w)
			}
			if !c.From.Equal(p.Record.From) || !c.DataEnd.Equal(p.Record.DataEnd) {
				t.Errorf("%s census from %v to data end %v, plan %v to %v", c.Task, c.From, c.DataEnd, p.Record.From, p.Record.DataEnd)
			}
		}
	})
}

// day parses a YYYY-MM-DD date as midnight UTC.
func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}
