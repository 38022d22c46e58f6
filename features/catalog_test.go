package features_test

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/models"
)

var update = flag.Bool("update", false, "rewrite golden files")

// renderCatalog lists the catalog as a table: what CatalogVersion
// promises, plus the descriptions, which may change without a new version.
func renderCatalog(t *testing.T) string {
	t.Helper()
	fs, err := features.Config{}.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "version %s\n", features.CatalogVersion)
	for _, f := range fs {
		fmt.Fprintf(&b, "%s | %s | %s | %s | %s | %s | missing: %s\n", f.Name, f.Group, f.Window, f.Unit, f.Kind, f.Description, f.Missing)
	}
	return b.String()
}

// TestCatalogGolden pins the catalog to testdata/catalog.golden, so that a
// change to a feature shows in review, and fails when the catalog changed
// but CatalogVersion did not.
func TestCatalogGolden(t *testing.T) {
	path := filepath.Join("testdata", "catalog.golden")
	got := renderCatalog(t)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got == string(want) {
		return
	}
	gotVersion, _, _ := strings.Cut(got, "\n")
	wantVersion, _, _ := strings.Cut(string(want), "\n")
	if gotVersion == wantVersion {
		t.Fatalf("the catalog changed but CatalogVersion is still %s: bump it, then run go test -update\ngot:\n%s", features.CatalogVersion, got)
	}
	t.Fatalf("catalog differs from %s; run go test -update\ngot:\n%s", path, got)
}

func TestCatalogEntries(t *testing.T) {
	fs, err := features.Config{}.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	groups := []features.Group{features.Usage, features.Support, features.Sentiment, features.Commercial, features.Trial, features.Firmographic}
	seen := map[string]bool{}
	for i, f := range fs {
		if seen[f.Name] || f.Name == "" {
			t.Errorf("feature %d: name %q is empty or repeated", i, f.Name)
		}
		seen[f.Name] = true
		if !slices.Contains(groups, f.Group) || f.Window == "" || f.Unit == "" || f.Description == "" {
			t.Errorf("feature %s: incomplete entry %+v", f.Name, f)
		}
		if (f.Kind == models.Categorical) != (f.Categories != nil) {
			t.Errorf("feature %s: kind %s with categories %v", f.Name, f.Kind, f.Categories)
		}
		if features.FeatureIndex(f.Name) != i {
			t.Errorf("FeatureIndex(%s) = %d, want %d", f.Name, features.FeatureIndex(f.Name), i)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []features.Config{
		{CatalogueSize: -1},
		{TrialDays: -3},
		{Plans: []string{"a", "a"}},
		{Segments: []string{""}},
		{KeyFeatures: []string{"x", "y", "x"}},
		{ResponseTargets: map[string]time.Duration{"low": 0}},
	} {
		if _, err := features.NewBuilder(cfg); err == nil {
			t.Errorf("NewBuilder(%+v) succeeded, want an error", cfg)
		}
		if _, err := cfg.Schema(); err == nil {
			t.Errorf("Schema(%+v) succeeded, want an error", cfg)
		}
	}
}

// TestSchemaDataset feeds vectors to a models.Dataset through Schema: the
// categorical codes must be valid and an unknown plan missing.
func TestSchemaDataset(t *testing.T) {
	cfg := features.Config{Plans: []string{"basic", "pro"}}
	schema, err := cfg.Schema()
	if err != nil {
		t.Fatal(err)
	}
	if len(schema) != len(features.FeatureNames()) || !slices.Equal(schema.Names(), features.FeatureNames()) {
		t.Fatalf("schema names %v", schema.Names())
	}
	b, err := features.NewBuilder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := &models.Dataset{Schema: schema, Columns: make([][]float64, len(schema))}
	for _, h := range []*features.History{
		hist(account("smb", -100), billing("new", "pro", 3, 90, -50)),
		hist(account("unknown-segment", -100), billing("new", "gold", 3, 90, -50)),
	} {
		vs, err := b.Build(h, []time.Time{asOf}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.CheckRow(vs[0].Values); err != nil {
			t.Fatal(err)
		}
		for j, v := range vs[0].Values {
			d.Columns[j] = append(d.Columns[j], v)
		}
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	plan := features.FeatureIndex("plan")
	if d.Columns[plan][0] != 1 || !math.IsNaN(d.Columns[plan][1]) {
		t.Errorf("plan codes %v, want [1 NaN]", d.Columns[plan])
	}
	if seg := features.FeatureIndex("segment"); d.Columns[seg][0] != 0 || !math.IsNaN(d.Columns[seg][1]) {
		t.Errorf("segment codes %v, want [0 NaN]", d.Columns[seg])
	}
}
