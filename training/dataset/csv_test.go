package dataset_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/table"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestWriterGolden writes the churn rows of two hand-built accounts and
// compares them with testdata/churn.golden.csv; the file must read back
// through training/table with plan and segment as categories.
func TestWriterGolden(t *testing.T) {
	start := t0.AddDate(0, -6, 0)
	acme := customer(change(features.BillingExpansion, t0.Add(-20*day)), change(features.BillingChurn, t0.Add(40*day)))
	// An id that must be quoted in CSV.
	acme.AccountID, acme.Account.AccountID = `acme, "inc"`, `acme, "inc"`
	acme.Usage = []features.UsageEvent{
		{AccountID: acme.AccountID, UserID: "ann", Feature: "reports", At: t0.Add(-40 * day), Count: 1},
		{AccountID: acme.AccountID, UserID: "bob", Feature: "search", At: t0.Add(-3 * day), Count: 2},
	}
	beta := customer()
	beta.AccountID, beta.Account.AccountID, beta.Account.Segment = "beta", "beta", "public-sector"
	beta.Billing[0].Plan = "custom"
	sched, err := dataset.Schedule(start, t0, dataset.Span{Months: 3})
	if err != nil {
		t.Fatal(err)
	}
	task := &dataset.Churn{Schedule: sched, Lead: 7 * day, Horizon: 60 * day, Grace: 14 * day, DataEnd: t0.Add(120 * day)}
	var buf bytes.Buffer
	cfg := features.Config{KeyFeatures: []string{"reports"}, CatalogueSize: 10}
	w, err := dataset.NewWriter(&buf, cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dataset.Sweep(context.Background(), dataset.Memory{acme, beta}, task, dataset.Options{Features: cfg}, w.Write); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "churn.golden.csv")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("rows differ from %s (go test -update rewrites it):\n%s", path, buf.String())
	}

	tab, err := table.Read(context.Background(), bytes.NewReader(buf.Bytes()), path)
	if err != nil {
		t.Fatal(err)
	}
	d, ids, err := tab.Dataset(context.Background(), table.Spec{Label: "label", ID: "account_id", Drop: []string{"as_of"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 4 || d.Labels[1] != 1 {
		t.Errorf("read back %d rows, labels %v; want 4 rows, acme's second churning", len(ids), d.Labels)
	}
	for _, f := range d.Schema {
		if (f.Name == "plan" || f.Name == "segment") != (f.Kind == models.Categorical) {
			t.Errorf("read back %s as %s", f.Name, f.Kind)
		}
	}
}
