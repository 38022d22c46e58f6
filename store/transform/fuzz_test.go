package transform_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/transform"
)

// FuzzTransform stages any file and runs any SQL over it: staging, the
// script and the load may refuse, but nothing panics, and a view that is
// refused keeps nothing of itself in the store.
//
//	go test ./store/transform -run '^$' -fuzz FuzzTransform -fuzztime 5m
func FuzzTransform(f *testing.F) {
	f.Add("id,name\nc1,Acme\n", "CREATE VIEW accounts AS SELECT id AS account_id, name, '2024-01-01' AS created_at FROM export")
	f.Add("sub,ts,n\ns1,2024-01-02 10:00:00,3\n",
		"CREATE VIEW usage_events AS SELECT sub AS account_id, 'u' AS user_id, 'reports' AS feature, ts AS at, n AS count, _line FROM export")
	f.Add("a,b\n1,2\n", "CREATE VIEW tickets AS SELECT a AS ticket_id, b AS account_id, 'x' AS opened_at, 'medium' AS priority FROM export")
	f.Add("x\n\x00\n", "CREATE VIEW accounts AS SELECT x AS account_id, x AS bogus FROM export")
	f.Add("\"unterminated\n", "SELECT 1; DROP TABLE export")
	f.Fuzz(func(t *testing.T, data, script string) {
		ctx := context.Background()
		dir := t.TempDir()
		path := filepath.Join(dir, "export.csv")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		w, err := transform.Stage(ctx, []string{path})
		if err != nil {
			return // a file that does not stage is refused, with an error
		}
		defer w.Close()
		if err := w.Apply(ctx, "fuzz.sql", script); err != nil {
			return
		}
		s, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "churn.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		results, err := w.Load(ctx, s, nil, load.Options{})
		if err != nil {
			return
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rows := map[string]int64{}
		for _, ts := range st.Tables {
			rows[string(ts.Table)] = ts.Rows
		}
		for _, r := range results {
			if r.Err != nil && rows[string(r.Table)] != 0 {
				t.Errorf("view %s was refused (%v) but the store holds %d of its rows", r.Table, r.Err, rows[string(r.Table)])
			}
		}
	})
}
