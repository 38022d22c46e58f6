package transform_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/openchurn/churn/store/transform"
)

// A transform stages an export keyed by subscription and defines the
// canonical usage_events as a view joining it to the subscriptions.
func ExampleStage() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "Feature Usage.csv"), []byte("sub,feature,ts\ns1,reports,2024-03-01 10:00:00\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "subscriptions.csv"), []byte("sub,customer\ns1,acme\n"), 0o644)

	w, err := transform.Stage(ctx, []string{dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	err = w.Apply(ctx, "transform.sql", `CREATE VIEW usage_events AS
		SELECT s.customer AS account_id, u.feature, u.ts AS at, u._line
		FROM feature_usage u JOIN subscriptions s ON s.sub = u.sub;`)
	if err != nil {
		fmt.Println(err)
		return
	}
	tables, _ := w.Canonical(ctx)
	fmt.Println("canonical:", tables)
	src, _ := w.Source(ctx, tables[0], nil)
	defer src.Close()
	rec, _ := src.Next()
	fmt.Printf("%+v (line %d)\n", rec, src.Line())
	// Output:
	// canonical: [usage_events]
	// &{EventID:47e73bc3f3511557dcb576ed856ea6de AccountID:acme UserID: Feature:reports At:2024-03-01 10:00:00 +0000 UTC Count:1 DurationS:0 Errors:0} (line 2)
}
