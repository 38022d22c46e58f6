package transform_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/store/transform"
)

// export is a small real-shaped export: usage keyed by subscription, a
// response time in minutes, priorities in other words, trials and
// zero-count rows to drop, churn in a table of its own, overlapping
// subscriptions and attributes.
var export = map[string]string{
	"CRM Accounts.csv": "id,company,signup,country,referral\n" +
		"c1,Acme,2024-01-01,IN,ads\n" +
		"c2,Globex,2024-01-05,DE,\n",
	"subscriptions.csv": "sub_id,customer,kind,amount,started,ended\n" +
		"s1,c1,paid,100,2024-01-01,\n" +
		"s2,c1,paid,50,2024-02-01,2024-03-01\n" +
		"s3,c2,trial,0,2024-01-05,2024-01-19\n" +
		"s4,c2,paid,80,2024-01-19,\n",
	"feature_usage.ndjson": `{"sub":"s1","feature":"reports","ts":"2024-01-02 10:00:00","n":3}` + "\n" +
		`{"sub":"s2","feature":"exports","ts":"2024-02-03 11:00:00","n":0}` + "\n" +
		`{"sub":"s4","feature":"reports","ts":"2024-01-20 09:30:00","n":1}` + "\n",
	"helpdesk_tickets.csv": "no,customer,submitted,first_response_minutes,priority\n" +
		"t1,c1,2024-01-10 08:00:00,90,medium\n" +
		"t2,c2,2024-01-11 08:00:00,,urgent\n",
	"churn.csv": "customer,on\n" +
		"c1,2024-04-01\n",
}

const script = `
CREATE VIEW accounts AS
	SELECT id AS account_id, company AS name, signup AS created_at,
		country AS attr_country, referral AS attr_channel, _line
	FROM crm_accounts;
CREATE VIEW usage_events AS
	SELECT s.customer AS account_id, u.feature, u.ts AS at, u.n AS count, u._line
	FROM feature_usage u JOIN subscriptions s ON s.sub_id = u.sub
	WHERE CAST(u.n AS INTEGER) > 0;
CREATE VIEW tickets AS
	SELECT no AS ticket_id, customer AS account_id, submitted AS opened_at,
		datetime(submitted, '+' || first_response_minutes || ' minutes') AS first_response_at,
		CASE priority WHEN 'medium' THEN 'normal' ELSE priority END AS priority, _line
	FROM helpdesk_tickets;
-- MRR is the running sum of the active paid subscriptions.
CREATE VIEW subscription_moves AS
	SELECT customer, sub_id || '-start' AS id, started AS at, CAST(amount AS REAL) AS delta FROM subscriptions WHERE kind = 'paid'
	UNION ALL
	SELECT customer, sub_id || '-end', ended, -CAST(amount AS REAL) FROM subscriptions WHERE kind = 'paid' AND ended IS NOT NULL;
CREATE VIEW billing_changes AS
	SELECT id AS change_id, customer AS account_id, at,
		sum(delta) OVER (PARTITION BY customer ORDER BY at, id) AS mrr,
		CASE WHEN row_number() OVER (PARTITION BY customer ORDER BY at, id) = 1 THEN 'new'
			WHEN delta > 0 THEN 'expansion' ELSE 'contraction' END AS kind
	FROM subscription_moves
	UNION ALL
	SELECT 'churn-' || customer, customer, "on", 0, 'churn' FROM churn;
`

func writeExport(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// stage stages files and applies script.
func stage(t *testing.T, files map[string]string, script string) *transform.Workspace {
	t.Helper()
	w, err := transform.Stage(context.Background(), []string{writeExport(t, files)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := w.Apply(context.Background(), "transform.sql", script); err != nil {
		t.Fatal(err)
	}
	return w
}

// dump lists every stored row of the store, one line per record.
func dump(t *testing.T, s *store.Store) []string {
	t.Helper()
	var out []string
	err := s.Histories(context.Background(), store.Shard{}, func(h *features.History) error {
		if a := h.Account; a != nil {
			out = append(out, fmt.Sprintf("account %s %s %s %v", a.AccountID, a.Name, a.CreatedAt.Format("2006-01-02"), a.Attributes))
		}
		for _, e := range h.Usage {
			out = append(out, fmt.Sprintf("usage %s %s %s x%d", e.AccountID, e.Feature, e.At.Format("2006-01-02T15:04"), e.Count))
		}
		for _, k := range h.Tickets {
			response := "unanswered"
			if !k.FirstResponseAt.IsZero() {
				response = k.FirstResponseAt.Format("01-02T15:04")
			}
			out = append(out, fmt.Sprintf("ticket %s %s %s %s %s", k.TicketID, k.AccountID, k.OpenedAt.Format("01-02T15:04"), response, k.Priority))
		}
		for _, b := range h.Billing {
			out = append(out, fmt.Sprintf("billing %s %s %s %g %s", b.ChangeID, b.AccountID, b.At.Format("2006-01-02"), b.MRR, b.Kind))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var wantRows = []string{
	"account c1 Acme 2024-01-01 map[channel:ads country:IN]",
	"usage c1 reports 2024-01-02T10:00 x3",
	"ticket t1 c1 01-10T08:00 01-10T09:30 normal",
	"billing s1-start c1 2024-01-01 100 new",
	"billing s2-start c1 2024-02-01 150 expansion",
	"billing s2-end c1 2024-03-01 100 contraction",
	"billing churn-c1 c1 2024-04-01 0 churn",
	"account c2 Globex 2024-01-05 map[country:DE]",
	"usage c2 reports 2024-01-20T09:30 x1",
	"ticket t2 c2 01-11T08:00 unanswered urgent",
	"billing s4-start c2 2024-01-19 80 new",
}

// TestTransformLoads loads the export through the transform, twice: the
// expected rows, then nothing changed.
func TestTransformLoads(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := stage(t, export, script)
		for pass, wantInserted := range []bool{true, false} {
			results, err := w.Load(ctx, s, nil, load.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range results {
				if r.Err != nil {
					t.Fatalf("pass %d: %s: %v", pass, r.Table, r.Err)
				}
				n := r.Inserted
				if !wantInserted {
					n = r.Unchanged
				}
				got = append(got, fmt.Sprintf("%s %d/%d", r.Table, n, r.Read))
			}
			want := []string{"accounts 2/2", "usage_events 2/2", "tickets 2/2", "billing_changes 5/5"}
			if !slices.Equal(got, want) {
				t.Errorf("pass %d: loaded %v, want %v", pass, got, want)
			}
		}
		if got := dump(t, s); !slices.Equal(got, wantRows) {
			t.Errorf("stored rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
		}
	})
}

// TestTransformRefuses names the view, file, line, column and reason of a
// bad value, and refuses a column no table has.
func TestTransformRefuses(t *testing.T) {
	tests := []struct {
		name   string
		files  map[string]string
		script string
		view   features.Table
		want   string
	}{
		{
			name:   "bad value with its file and line",
			files:  export,
			script: strings.Replace(script, "CASE priority WHEN 'medium' THEN 'normal' ELSE priority END", "priority", 1),
			view:   features.Tickets,
			want:   `tickets (helpdesk_tickets.csv:2): column "priority": "medium" is not one of [low normal high urgent]`,
		},
		{
			name:   "unknown column",
			files:  export,
			script: strings.Replace(script, "company AS name", "company AS nmae", 1),
			view:   features.Accounts,
			want:   `accounts: column "nmae": is not a column of accounts (free attributes are named attr_NAME)`,
		},
		{
			name:   "bad value of a view without _line",
			files:  export,
			script: strings.Replace(script, "'new'\n", "'newish'\n", 1),
			view:   features.BillingChanges,
			want:   `billing_changes (row 1): column "kind": "newish" is not one of`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, s *store.Store) {
				w := stage(t, tt.files, tt.script)
				results, err := w.Load(context.Background(), s, nil, load.Options{})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range results {
					if r.Table != tt.view {
						continue
					}
					var te *transform.Error
					if r.Err == nil || !strings.Contains(r.Err.Error(), tt.want) || !errors.As(r.Err, &te) {
						t.Errorf("%s: error %v, want a *transform.Error holding %q", r.Table, r.Err, tt.want)
					}
					if r.Inserted != 0 {
						t.Errorf("%s: a refused view stored %d rows", r.Table, r.Inserted)
					}
				}
			})
		})
	}
}

func TestTableName(t *testing.T) {
	for in, want := range map[string]string{
		"Billing Export (2).csv": "billing_export__2_",
		"dir/usage.ndjson":       "usage",
		"Ümlaut-Daten.jsonl":     "__mlaut_daten",
	} {
		if got := transform.TableName(in); got != want {
			t.Errorf("TableName(%q) = %q, want %q", in, got, want)
		}
	}
}

// pgScript is script in PostgreSQL's dialect.
var pgScript = strings.NewReplacer(
	"datetime(submitted, '+' || first_response_minutes || ' minutes')", "submitted::timestamp + (first_response_minutes || ' minutes')::interval",
	"AS REAL", "AS DOUBLE PRECISION",
).Replace(script)

// TestSourcePostgres runs the transform against a PostgreSQL schema
// holding the export's tables: the same rows as from the files, and the
// transform leaves nothing behind in the source.
func TestSourcePostgres(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip(storetest.EnvPostgres + " is not set")
	}
	ctx := context.Background()
	dsn := storetest.DSN(t, "postgres")
	src, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// The source holds the staged tables, as a warehouse would: copy them
	// from a staging database.
	staged, err := transform.Stage(ctx, []string{writeExport(t, export)})
	if err != nil {
		t.Fatal(err)
	}
	copyStaged(t, staged, src)
	staged.Close()
	before := objects(t, src)

	storetest.Run(t, func(t *testing.T, s *store.Store) {
		w, err := transform.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := w.Apply(ctx, "transform.sql", pgScript); err != nil {
			t.Fatal(err)
		}
		results, err := w.Load(ctx, s, nil, load.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if r.Err != nil {
				t.Fatalf("%s: %v", r.Table, r.Err)
			}
		}
		if got := dump(t, s); !slices.Equal(got, wantRows) {
			t.Errorf("stored rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
		}
	})
	if after := objects(t, src); !slices.Equal(before, after) {
		t.Errorf("the transform left objects behind: %v, before %v", after, before)
	}
}

// copyStaged copies the staging tables of w into db as TEXT tables.
func copyStaged(t *testing.T, w *transform.Workspace, db *sql.DB) {
	t.Helper()
	for name, cols := range map[string][]string{
		"crm_accounts":     {"id", "company", "signup", "country", "referral"},
		"subscriptions":    {"sub_id", "customer", "kind", "amount", "started", "ended"},
		"feature_usage":    {"sub", "feature", "ts", "n"},
		"helpdesk_tickets": {"no", "customer", "submitted", "first_response_minutes", "priority"},
		"churn":            {"customer", "on"},
	} {
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = `"` + c + `"`
		}
		list := "_line, " + strings.Join(quoted, ", ")
		if _, err := db.Exec("CREATE TABLE " + name + " (_line INTEGER, " + strings.Join(quoted, " TEXT, ") + " TEXT)"); err != nil {
			t.Fatal(err)
		}
		rows, err := w.Query(context.Background(), "SELECT "+list+" FROM "+name)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols)+1)
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			marks := make([]string, len(vals))
			for i := range marks {
				marks[i] = fmt.Sprintf("$%d", i+1)
			}
			if _, err := db.Exec("INSERT INTO "+name+" ("+list+") VALUES ("+strings.Join(marks, ", ")+")", vals...); err != nil {
				t.Fatal(err)
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// objects lists the tables and views of db's schema, and the schemas a
// transform would have made (others come and go with concurrent tests).
func objects(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema = current_schema()
		UNION ALL SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'churn_transform_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestStage stages a CSV and an NDJSON file: names, TEXT values, NULL for
// empty fields, _line, and NDJSON keys that first appear late.
func TestStage(t *testing.T) {
	ctx := context.Background()
	dir := writeExport(t, map[string]string{
		"Billing Export (2).csv": "id,Amount,note\n1,10,\n2,,\"two\nlines\"\n3,30,x\n",
		"events.ndjson":          `{"id":1,"kind":"a"}` + "\n\n" + `{"id":2,"extra":true,"kind":null}` + "\n",
	})
	w, err := transform.Stage(ctx, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{`SELECT _line || ':' || id || ':' || coalesce("Amount", 'NULL') || ':' || coalesce(note, 'NULL') FROM billing_export__2_ ORDER BY _line`,
			[]string{"2:1:10:NULL", "3:2:NULL:two\nlines", "5:3:30:x"}},
		{`SELECT _line || ':' || id || ':' || coalesce(kind, 'NULL') || ':' || coalesce(extra, 'NULL') || ':' || typeof(id) FROM events ORDER BY _line`,
			[]string{"1:1:a:NULL:text", "3:2:NULL:true:text"}},
	} {
		rows, err := w.Query(ctx, tt.query)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		rows.Close()
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s\n= %q, want %q", tt.query, got, tt.want)
		}
	}
	// Two files that map to one table are refused.
	twice := writeExport(t, map[string]string{"usage.csv": "a\n1\n", "Usage.ndjson": `{"a":1}`})
	if w, err := transform.Stage(ctx, []string{twice}); err == nil || !strings.Contains(err.Error(), "are both staged as table usage") {
		if w != nil {
			w.Close()
		}
		t.Errorf("Stage of usage.csv and Usage.ndjson: %v", err)
	}
}
