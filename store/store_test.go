package store_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/training/trainer"
)

var update = flag.Bool("update", false, "rewrite golden files")

var fixtures = filepath.Join("..", "testdata", "ingest")

// loadFile loads one export the way churnctl ingest does.
func loadFile(t *testing.T, s *store.Store, path string, m *recordio.Mapping) (load.Result, error) {
	t.Helper()
	files, err := store.ExportFiles([]string{path}, "")
	if err != nil || len(files) != 1 {
		t.Fatalf("ExportFiles(%s) = %v, %v", path, files, err)
	}
	res, err := store.LoadFile(context.Background(), s, files[0], m, load.Options{})
	return res.Result, err
}

func goodFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtures, "good", "*"))
	if err != nil || len(files) != 6 {
		t.Fatalf("good fixtures: %v, %v", files, err)
	}
	return files
}

// decodeFile returns every record of a fixture.
func decodeFile(t *testing.T, path string) []recordio.Record {
	t.Helper()
	table, _ := recordio.TableOf(path)
	format, _ := recordio.FormatOf(path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := recordio.NewDecoder(f, path, table, format, nil)
	if err != nil {
		t.Fatal(err)
	}
	var recs []recordio.Record
	for {
		rec, err := d.Next()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

// flatten lists a history's records in the order Histories yields them.
func flatten(h *features.History) []recordio.Record {
	var recs []recordio.Record
	if h.Account != nil {
		recs = append(recs, h.Account)
	}
	for i := range h.Usage {
		recs = append(recs, &h.Usage[i])
	}
	for i := range h.Tickets {
		recs = append(recs, &h.Tickets[i])
	}
	for i := range h.Escalations {
		recs = append(recs, &h.Escalations[i])
	}
	for i := range h.Surveys {
		recs = append(recs, &h.Surveys[i])
	}
	for i := range h.Billing {
		recs = append(recs, &h.Billing[i])
	}
	return recs
}

// readAll returns every record of the store, copied out of the reused
// histories, with the account ids in the order they came.
func readAll(t *testing.T, s *store.Store, shard store.Shard) ([]recordio.Record, []string) {
	t.Helper()
	var (
		recs     []recordio.Record
		accounts []string
	)
	err := s.Histories(context.Background(), shard, func(h *features.History) error {
		accounts = append(accounts, h.AccountID)
		for _, r := range flatten(h) {
			recs = append(recs, clone(r))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs, accounts
}

func clone(r recordio.Record) recordio.Record {
	v := reflect.New(reflect.TypeOf(r).Elem())
	v.Elem().Set(reflect.ValueOf(r).Elem())
	return v.Interface().(recordio.Record)
}

// sortKey orders records as Histories does: by account, table, time, key.
func sortKey(r recordio.Record) string {
	switch r := r.(type) {
	case *features.Account:
		return r.AccountID + "\x00" + "0"
	case *features.UsageEvent:
		return fmt.Sprintf("%s\x001%s%s", r.AccountID, r.At.Format(time.RFC3339Nano), r.EventID)
	case *features.Ticket:
		return fmt.Sprintf("%s\x002%s%s", r.AccountID, r.OpenedAt.Format(time.RFC3339Nano), r.TicketID)
	case *features.Escalation:
		return fmt.Sprintf("%s\x003%s%s", r.AccountID, r.At.Format(time.RFC3339Nano), r.EscalationID)
	case *features.SurveyResponse:
		return fmt.Sprintf("%s\x004%s%s", r.AccountID, r.At.Format(time.RFC3339Nano), r.ResponseID)
	case *features.BillingChange:
		return fmt.Sprintf("%s\x005%s%s", r.AccountID, r.At.Format(time.RFC3339Nano), r.ChangeID)
	}
	panic(fmt.Sprintf("unknown record %T", r))
}

func TestOpenUnknownScheme(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"mysql://localhost/churn", `opening store: unknown DSN scheme "mysql" (want sqlite:PATH or postgres://…)`},
		{"churn.db", `opening store: DSN "churn.db" has no scheme (want sqlite:PATH or postgres://…)`},
		{"sqlite:", `opening store: sqlite: DSN has no path`},
	}
	for _, tt := range tests {
		_, err := store.Open(context.Background(), tt.dsn)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Open(%q) error = %v, want %q", tt.dsn, err, tt.want)
		}
	}
}

func TestMigrateTwice(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		// storetest.Open has migrated once already.
		applied, err := s.Migrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Errorf("second Migrate applied %v, want nothing", applied)
		}
	})
}

// TestRoundTrip loads every table and reads every record back unchanged,
// in (account_id, time) order.
func TestRoundTrip(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		var want []recordio.Record
		for _, path := range goodFiles(t) {
			if _, err := loadFile(t, s, path, nil); err != nil {
				t.Fatal(err)
			}
			want = append(want, decodeFile(t, path)...)
		}
		slices.SortStableFunc(want, func(a, b recordio.Record) int { return cmp.Compare(sortKey(a), sortKey(b)) })

		got, accounts := readAll(t, s, store.Shard{})
		if want := []string{"acme", "globex", "initech"}; !slices.Equal(accounts, want) {
			t.Errorf("accounts %v, want %v", accounts, want)
		}
		if len(got) != len(want) {
			t.Fatalf("read %d records, want %d", len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("record %d:\ngot  %+v\nwant %+v", i, got[i], want[i])
			}
		}

		h, err := s.History(context.Background(), "initech")
		if err != nil {
			t.Fatal(err)
		}
		if h.Account == nil || h.Account.Name != "Initech" || len(h.Usage) != 2 || len(h.Surveys) != 1 || len(h.Billing) != 1 {
			t.Errorf("History(initech) = %+v", h)
		}
		h, err = s.History(context.Background(), "nobody")
		if err != nil || h.AccountID != "nobody" || h.Account != nil || len(h.Usage) != 0 {
			t.Errorf("History(nobody) = %+v, %v", h, err)
		}
	})
}

// TestReload checks that loading the same files twice changes nothing, and
// that a corrected row updates the stored one.
func TestReload(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var first []load.Result
		for _, path := range goodFiles(t) {
			res, err := loadFile(t, s, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Inserted != res.Read || res.Updated != 0 || res.Unchanged != 0 {
				t.Errorf("%s: first load %+v, want every row inserted", path, res)
			}
			first = append(first, res)
		}
		before, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, path := range goodFiles(t) {
			res, err := loadFile(t, s, path, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := load.Result{Table: first[i].Table, Read: first[i].Read, Unchanged: first[i].Read}
			if res != want {
				t.Errorf("%s: second load %+v, want %+v", path, res, want)
			}
		}
		after, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(before, after) {
			t.Errorf("stats changed on re-load:\nbefore %+v\nafter  %+v", before, after)
		}

		// A corrected row replaces the stored one; a new one is added.
		corrected := "escalation_id,account_id,at,direction,severity,note\n" +
			"x2,acme,2024-03-10T12:00:00Z,positive,high,Wants more seats\n" +
			"x3,acme,2024-03-11T12:00:00Z,negative,low,\n"
		d, err := recordio.NewDecoder(strings.NewReader(corrected), "escalations.csv", features.Escalations, recordio.CSV, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Load(ctx, features.Escalations, d)
		if err != nil {
			t.Fatal(err)
		}
		if want := (load.Result{Table: features.Escalations, Read: 2, Inserted: 1, Updated: 1}); res != want {
			t.Errorf("corrected load %+v, want %+v", res, want)
		}
		h, err := s.History(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Escalations) != 2 || h.Escalations[0].Severity != "high" {
			t.Errorf("acme escalations after correction: %+v", h.Escalations)
		}
	})
}

// TestRepeatedKeys loads files that give one key twice. On PostgreSQL a
// table that never held rows is bulk loaded and any other is merged, so
// both ways are tried; each load is sent twice, and the second must change
// nothing.
func TestRepeatedKeys(t *testing.T) {
	const explicit = "event_id,account_id,feature,at,count\n" +
		"e1,a,reports,2024-01-01T00:00:00Z,1\n" +
		"e2,a,reports,2024-01-02T00:00:00Z,1\n" +
		"e1,a,reports,2024-01-01T00:00:00Z,5\n"
	// Three identical id-less events and a fourth that differs in its
	// user: one row counting three, and one of its own.
	const idless = "account_id,user_id,feature,at,duration_s\n" +
		"a,u1,reports,2024-01-01 10:00:00,2\n" +
		"a,u1,reports,2024-01-01T10:00:00Z,2\n" +
		"a,u2,reports,2024-01-01 10:00:00,2\n" +
		"a,u1,reports,2024-01-01 10:00:00.000,2\n"
	tests := []struct {
		name      string
		in        string
		opts      load.Options
		wantErr   string
		want      load.Result // of the first load
		wantUsage []string    // user:count:duration of a's events, sorted
	}{
		{
			name:    "explicit key refused",
			in:      explicit,
			wantErr: `usage.csv:4: key (account_id "a", at 2024-01-01T00:00:00Z, event_id "e1") was already given at line 2`,
		},
		{
			name:      "explicit key, last wins",
			in:        explicit,
			opts:      load.Options{LastWins: true},
			want:      load.Result{Read: 3, Inserted: 2, Superseded: 1},
			wantUsage: []string{":1:0", ":5:0"},
		},
		{
			name:      "identical id-less events counted",
			in:        idless,
			want:      load.Result{Read: 4, Inserted: 2, Merged: 2},
			wantUsage: []string{"u1:3:6", "u2:1:2"},
		},
	}
	for _, tt := range tests {
		for _, filled := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/filled=%t", tt.name, filled), func(t *testing.T) {
				storetest.Run(t, func(t *testing.T, s *store.Store) {
					ctx := context.Background()
					loadCSV := func(csv string) (load.Result, error) {
						d, err := recordio.NewDecoder(strings.NewReader(csv), "usage.csv", features.UsageEvents, recordio.CSV, nil)
						if err != nil {
							t.Fatal(err)
						}
						return s.LoadWith(ctx, features.UsageEvents, d, tt.opts)
					}
					if _, err := loadCSV("account_id,feature,at\nb,reports,2024-01-01T00:00:00Z\n"); filled && err != nil {
						t.Fatal(err)
					}
					res, err := loadCSV(tt.in)
					if tt.wantErr != "" {
						if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
							t.Fatalf("load = %+v, %v; want error %q", res, err, tt.wantErr)
						}
						if h, err := s.History(ctx, "a"); err != nil || len(h.Usage) != 0 {
							t.Errorf("a refused load stored %+v, %v", h.Usage, err)
						}
						return
					}
					want := tt.want
					want.Table = features.UsageEvents
					want.Orphans = load.Orphans{Rows: want.Read - want.Merged - want.Superseded, Accounts: 1, First: "a"}
					if err != nil || res != want {
						t.Fatalf("first load = %+v, %v;\nwant %+v", res, err, want)
					}
					again, err := loadCSV(tt.in)
					want.Unchanged, want.Inserted = want.Inserted, 0
					if err != nil || again != want {
						t.Errorf("second load = %+v, %v;\nwant %+v", again, err, want)
					}
					h, err := s.History(ctx, "a")
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for _, e := range h.Usage {
						got = append(got, fmt.Sprintf("%s:%d:%g", e.UserID, e.Count, e.DurationS))
					}
					slices.Sort(got)
					if !slices.Equal(got, tt.wantUsage) {
						t.Errorf("a's usage %v, want %v", got, tt.wantUsage)
					}
				})
			})
		}
	}
}

// TestLoadNewRows loads events with new keys into a table that holds
// others: all are inserted, none is counted as updated, and the stored
// ones stay.
func TestLoadNewRows(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, want := range []int64{2, 3} {
			var in strings.Builder
			in.WriteString("event_id,account_id,feature,at\n")
			for j := range want {
				fmt.Fprintf(&in, "e%d-%d,a,reports,2024-01-%02dT00:00:00Z\n", i, j, 10*i+int(j)+1)
			}
			d, err := recordio.NewDecoder(strings.NewReader(in.String()), "usage.csv", features.UsageEvents, recordio.CSV, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Load(ctx, features.UsageEvents, d)
			if err != nil || res.Inserted != want || res.Updated != 0 || res.Unchanged != 0 {
				t.Errorf("load %d = %+v, %v; want %d inserted", i, res, err, want)
			}
		}
		h, err := s.History(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Usage) != 5 || h.Usage[4].EventID != "e1-2" {
			t.Errorf("usage %+v, want 5 events ending with e1-2", h.Usage)
		}
	})
}

// TestConcurrentLoads runs loads of one table side by side into an empty
// store: on PostgreSQL one of them bulk loads and the others wait for it,
// then merge. All must succeed and keep every row.
func TestConcurrentLoads(t *testing.T) {
	const loads, rows = 4, 500
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		errs := make(chan error, loads)
		for i := range loads {
			go func() {
				var in strings.Builder
				in.WriteString("event_id,account_id,feature,at\n")
				for j := range rows {
					fmt.Fprintf(&in, "e%d-%d,a%d,reports,2024-01-01T00:00:00Z\n", i, j, j%10)
				}
				d, err := recordio.NewDecoder(strings.NewReader(in.String()), "usage.csv", features.UsageEvents, recordio.CSV, nil)
				if err == nil {
					_, err = s.Load(ctx, features.UsageEvents, d)
				}
				errs <- err
			}()
		}
		for range loads {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != loads*rows {
			t.Errorf("%d rows stored, want %d", st.Rows, loads*rows)
		}
	})
}

// TestBulkLoadKeepsIndexes checks, on PostgreSQL, that loads into tables
// that never held rows, which drop and rebuild the indexes, leave every
// index as the migrations made it, whether the load succeeds or fails.
func TestBulkLoadKeepsIndexes(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, "postgres")
	want, err := s.IndexDefinitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) < len(features.Tables) {
		t.Fatalf("%d indexes before loading, want at least one per table", len(want))
	}
	check := func(when string) {
		t.Helper()
		got, err := s.IndexDefinitions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("indexes %s:\n%s\nwant\n%s", when, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if _, err := loadFile(t, s, filepath.Join(fixtures, "bad", "usage.csv"), nil); err == nil {
		t.Fatal("bad usage file loaded")
	}
	check("after a refused load")
	for _, f := range goodFiles(t) {
		if _, err := loadFile(t, s, f, nil); err != nil {
			t.Fatal(err)
		}
	}
	check("after loading every table")
	res, err := loadFile(t, s, filepath.Join(fixtures, "good", "usage.csv"), nil)
	if err != nil || res.Inserted != 0 || res.Unchanged != res.Read {
		t.Errorf("reloading usage (merged this time) = %+v, %v; want all unchanged", res, err)
	}
	check("after a merge")
}

// TestLoadAsWriter loads, on PostgreSQL, as a role that may read and
// write rows but does not own the tables, as production deployments often
// run: a load into an empty table, which the owner would bulk load, must
// merge instead and leave the indexes alone.
func TestLoadAsWriter(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t, "postgres")
	owner, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() }) // after the role's cleanup below
	if _, err := owner.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	want, err := owner.IndexDefinitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	role := "writer_" + schema
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"GRANT USAGE ON SCHEMA " + schema + " TO " + role,
		"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA " + schema + " TO " + role,
	} {
		if err := owner.ExecRaw(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, q := range []string{"DROP OWNED BY " + role, "DROP ROLE " + role} {
			if err := owner.ExecRaw(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	u.User = url.User(role)
	writer, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	path := filepath.Join(fixtures, "good", "usage.csv")
	res, err := loadFile(t, writer, path, nil)
	if n := int64(len(decodeFile(t, path))); err != nil || res.Inserted != n {
		t.Fatalf("load as writer = %+v, %v; want %d inserted", res, err, n)
	}
	got, err := owner.IndexDefinitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("indexes after a writer's load:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestMigrateRekeysUsageEvents upgrades a store holding usage events keyed
// by (account_id, event_id) to the key (account_id, at, event_id): every
// event survives, reads come in time order, and loads keep to the new key.
func TestMigrateRekeysUsageEvents(t *testing.T) {
	upgradeFrom(t, 6, func(t *testing.T, ctx context.Context, s *store.Store) {
		day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
		for _, e := range []struct {
			id, account string
			at          time.Time
		}{{"e2", "a", day(3)}, {"e1", "a", day(2)}, {"e1", "b", day(2)}} {
			if err := s.ExecRaw(ctx, "INSERT INTO usage_events (event_id, account_id, feature, at) VALUES (?, ?, 'reports', ?)",
				e.id, e.account, e.at); err != nil {
				t.Fatal(err)
			}
		}
		applied, err := s.MigrateTo(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		// Later migrations follow; this one must come first.
		if want := []string{"0007_usage_events_keyed_by_time"}; len(applied) == 0 || !slices.Equal(applied[:1], want) {
			t.Errorf("applied %v, want %v", applied, want)
		}
		// Reading goes through today's columns, which later
		// migrations add.
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		h, err := s.History(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Usage) != 2 || h.Usage[0].EventID != "e1" || h.Usage[1].EventID != "e2" {
			t.Errorf("a's usage after the upgrade: %+v, want e1 then e2", h.Usage)
		}
		in := "event_id,account_id,feature,at,count\n" +
			"e1,a,reports,2024-01-02T00:00:00Z,7\n" + // stored: its count changes
			"e1,a,reports,2024-01-05T00:00:00Z,1\n" // another time: another event
		d, err := recordio.NewDecoder(strings.NewReader(in), "usage.csv", features.UsageEvents, recordio.CSV, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Load(ctx, features.UsageEvents, d)
		if want := (load.Result{Table: features.UsageEvents, Read: 2, Inserted: 1, Updated: 1,
			Orphans: load.Orphans{Rows: 2, Accounts: 1, First: "a"}}); err != nil || res != want {
			t.Errorf("load after the upgrade = %+v, %v; want %+v", res, err, want)
		}
	})
}

// TestEmptyExport loads exports without rows: nothing to do, no error.
func TestEmptyExport(t *testing.T) {
	tests := []struct {
		name   string
		format recordio.Format
		input  string
	}{
		{"usage.csv", recordio.CSV, "account_id,feature,at\n"},
		{"usage.ndjson", recordio.NDJSON, "\n\n"},
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		for _, tt := range tests {
			d, err := recordio.NewDecoder(strings.NewReader(tt.input), tt.name, features.UsageEvents, tt.format, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Load(context.Background(), features.UsageEvents, d)
			if want := (load.Result{Table: features.UsageEvents}); err != nil || res != want {
				t.Errorf("%s: Load = %+v, %v; want %+v", tt.name, res, err, want)
			}
		}
	})
}

// TestBadRowLate fails a load after several batches have reached the
// database: the whole file must still be refused.
func TestBadRowLate(t *testing.T) {
	var in strings.Builder
	in.WriteString("account_id,feature,at\n")
	for i := range 3000 {
		at := "2024-01-01T00:00:00Z"
		if i == 2500 {
			at = "yesterday"
		}
		fmt.Fprintf(&in, "a%d,reports,%s\n", i%7, at)
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		d, err := recordio.NewDecoder(strings.NewReader(in.String()), "usage.csv", features.UsageEvents, recordio.CSV, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Load(ctx, features.UsageEvents, d)
		if want := `usage.csv:2502: column "at": cannot parse "yesterday" as a time`; err == nil || err.Error() != want {
			t.Errorf("error %v, want %s", err, want)
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != 0 {
			t.Errorf("%d rows kept from a refused file", st.Rows)
		}
	})
}

// TestAwkwardText round-trips text holding the characters that delimit
// CSV, NDJSON and COPY's text format.
func TestAwkwardText(t *testing.T) {
	notes := []string{"tab\there", "new\nline", "carriage\rreturn", `back\slash`, `\N`, `quote " and ,comma`, "ünïcødé ✓", ""}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		var in strings.Builder
		for i, n := range notes {
			line, _ := json.Marshal(map[string]any{"escalation_id": strconv.Itoa(i), "account_id": "a",
				"at": fmt.Sprintf("2024-01-01T00:00:%02dZ", i), "direction": "negative", "severity": "low", "note": n})
			in.Write(append(line, '\n'))
		}
		d, err := recordio.NewDecoder(strings.NewReader(in.String()), "escalations.ndjson", features.Escalations, recordio.NDJSON, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Load(context.Background(), features.Escalations, d); err != nil {
			t.Fatal(err)
		}
		h, err := s.History(context.Background(), "a")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range h.Escalations {
			got = append(got, e.Note)
		}
		// The decoder trims surrounding space; none of these has any.
		if !slices.Equal(got, notes) {
			t.Errorf("notes\ngot  %q\nwant %q", got, notes)
		}
	})
}

// TestBadRows loads a file with one bad row per table: the load fails with
// the message in bad/errors.golden and keeps nothing of the file.
func TestBadRows(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtures, "bad", "*.*sv"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join(fixtures, "bad", "*.ndjson"))
	files = append(files, more...)
	slices.Sort(files)
	if len(files) != 6 {
		t.Fatalf("want a bad file per table, have %v", files)
	}
	golden, err := filepath.Abs(filepath.Join(fixtures, "bad", "errors.golden"))
	if err != nil {
		t.Fatal(err)
	}
	// Errors name files as given; load them by base name, as a user in
	// that folder would.
	t.Chdir(filepath.Join(fixtures, "bad"))
	for i := range files {
		files[i] = filepath.Base(files[i])
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		var got strings.Builder
		for _, path := range files {
			_, err := loadFile(t, s, path, nil)
			var re *recordio.Error
			if !errors.As(err, &re) {
				t.Fatalf("%s: error %v is not a *recordio.Error", path, err)
			}
			fmt.Fprintln(&got, err)
		}
		if *update {
			if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want) {
			t.Errorf("errors:\n%s\nwant (%s):\n%s", got.String(), golden, want)
		}
		st, err := s.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != 0 {
			t.Errorf("bad files left %d rows: %+v", st.Rows, st.Tables)
		}
	})
}

// TestMappedExport loads an export with renamed columns, M/D/YYYY dates
// and Y/N flags through its mapping file.
func TestMappedExport(t *testing.T) {
	m, err := recordio.LoadMapping(filepath.Join(fixtures, "mapped", "mapping.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		for _, name := range []string{"accounts.csv", "tickets.csv"} {
			if _, err := loadFile(t, s, filepath.Join(fixtures, "mapped", name), m); err != nil {
				t.Fatal(err)
			}
		}
		h, err := s.History(context.Background(), "c-100")
		if err != nil {
			t.Fatal(err)
		}
		wantAccount := &features.Account{AccountID: "c-100", Name: "Hooli", Segment: "enterprise", Owner: "carol",
			CreatedAt: time.Date(2024, 3, 7, 0, 0, 0, 0, time.UTC), MRR: 5000}
		if !reflect.DeepEqual(h.Account, wantAccount) {
			t.Errorf("account\ngot  %+v\nwant %+v", h.Account, wantAccount)
		}
		wantTickets := []features.Ticket{{TicketID: "9001", AccountID: "c-100", Priority: "high", Escalated: true,
			OpenedAt:   time.Date(2024, 3, 8, 9, 5, 0, 0, time.UTC),
			ResolvedAt: time.Date(2024, 3, 9, 17, 30, 0, 0, time.UTC)}}
		if !reflect.DeepEqual(h.Tickets, wantTickets) {
			t.Errorf("tickets\ngot  %+v\nwant %+v", h.Tickets, wantTickets)
		}
	})
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in   string
		want store.Shard
		err  bool
	}{
		{"", store.Shard{}, false},
		{"0/1", store.Shard{Index: 0, Count: 1}, false},
		{"3/4", store.Shard{Index: 3, Count: 4}, false},
		{"4/4", store.Shard{}, true},
		{"-1/4", store.Shard{}, true},
		{"1", store.Shard{}, true},
		{"a/b", store.Shard{}, true},
	}
	for _, tt := range tests {
		got, err := store.ParseShard(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseShard(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestStats(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != 0 || st.MinTime != nil || len(st.Tables) != 6 {
			t.Errorf("empty store stats %+v", st)
		}
		for _, path := range goodFiles(t) {
			if _, err := loadFile(t, s, path, nil); err != nil {
				t.Fatal(err)
			}
		}
		st, err = s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rows := map[features.Table]int64{}
		for _, ts := range st.Tables {
			rows[ts.Table] = ts.Rows
		}
		want := map[features.Table]int64{"accounts": 3, "usage_events": 6, "tickets": 3, "escalations": 2, "survey_responses": 3, "billing_changes": 4}
		if !reflect.DeepEqual(rows, want) || st.Rows != 21 {
			t.Errorf("rows %v (total %d), want %v", rows, st.Rows, want)
		}
		lo, hi := time.Date(2023, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 31, 12, 0, 0, 0, time.UTC)
		if st.MinTime == nil || !st.MinTime.Equal(lo) || st.MaxTime == nil || !st.MaxTime.Equal(hi) {
			t.Errorf("time range %v to %v, want %v to %v", st.MinTime, st.MaxTime, lo, hi)
		}
	})
}

// TestAccountAttributes loads accounts with attr_ columns: they come back
// in histories and lookups, re-sending them changes nothing, and a changed
// attribute updates the account.
func TestAccountAttributes(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		loadIn := func(in string) load.Result {
			t.Helper()
			d, err := recordio.NewDecoder(strings.NewReader(in), "accounts.csv", features.Accounts, recordio.CSV, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Load(ctx, features.Accounts, d)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		const in = "account_id,created_at,attr_country,attr_channel\na,2024-01-01,IN,ads\nb,2024-01-01,,\n"
		if res := loadIn(in); res.Inserted != 2 {
			t.Errorf("first load %+v, want 2 inserted", res)
		}
		if res := loadIn(in); res.Unchanged != 2 {
			t.Errorf("second load %+v, want 2 unchanged", res)
		}
		h, err := s.History(ctx, "a")
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"country": "IN", "channel": "ads"}; h.Account == nil || !reflect.DeepEqual(h.Account.Attributes, want) {
			t.Errorf("a's attributes %+v, want %v", h.Account, want)
		}
		if b, err := s.Account(ctx, "b"); err != nil || b.Attributes != nil {
			t.Errorf("b = %+v, %v; want no attributes", b, err)
		}
		if res := loadIn("account_id,created_at,attr_country,attr_channel\na,2024-01-01,DE,ads\n"); res.Updated != 1 {
			t.Errorf("changed attribute: %+v, want 1 updated", res)
		}
		if a, err := s.Account(ctx, "a"); err != nil || a.Attributes["country"] != "DE" {
			t.Errorf("a after the change = %+v, %v", a, err)
		}
	})
}

// TestInferredStarts loads accounts without created_at: each starts at its
// earliest record of any table, later loads of older records move it, and
// re-sending the accounts keeps it.
func TestInferredStarts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		start := func(id string) time.Time {
			t.Helper()
			a, err := s.Account(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return a.CreatedAt
		}
		day := func(m time.Month, d int) time.Time { return time.Date(2024, m, d, 0, 0, 0, 0, time.UTC) }
		// b has a billing change stored before its accounts row arrives.
		mustLoadCSV(t, s, features.BillingChanges, "change_id,account_id,at,kind,mrr\nc1,b,2024-03-05,new,10\n")
		const accounts = "account_id,created_at,trial_started_at\na,,2024-02-01\nb,,\nc,2024-01-10,\nd,,\n"
		before := time.Now()
		if res := mustLoadCSV(t, s, features.Accounts, accounts); res.Inserted != 4 || res.StartsInferred != 3 {
			t.Errorf("accounts load %+v, want 4 inserted, 3 starts inferred", res)
		}
		if got := start("a"); !got.Equal(day(2, 1)) {
			t.Errorf("a starts %v, want its trial start", got)
		}
		if got := start("b"); !got.Equal(day(3, 5)) {
			t.Errorf("b starts %v, want its billing change", got)
		}
		if got := start("d"); got.Before(before.Add(-time.Second)) || got.After(time.Now()) {
			t.Errorf("d, of which nothing is known, starts %v, want the load's time", got)
		}
		mustLoadCSV(t, s, features.UsageEvents, "account_id,feature,at\na,f,2024-01-15\nb,f,2024-04-01\nc,f,2023-12-01\n")
		for id, want := range map[string]time.Time{"a": day(1, 15), "b": day(3, 5), "c": day(1, 10)} {
			if got := start(id); !got.Equal(want) {
				t.Errorf("after usage, %s starts %v, want %v", id, got, want)
			}
		}
		if res := mustLoadCSV(t, s, features.Accounts, accounts); res.Unchanged != 4 || res.StartsInferred != 0 {
			t.Errorf("accounts again %+v, want 4 unchanged", res)
		}
		if got := start("a"); !got.Equal(day(1, 15)) {
			t.Errorf("after re-sending, a starts %v, want 2024-01-15", got)
		}
		// A start given later replaces the inferred one, and stays.
		mustLoadCSV(t, s, features.Accounts, "account_id,created_at\na,2024-01-20\n")
		mustLoadCSV(t, s, features.UsageEvents, "account_id,feature,at\na,f,2024-01-02\n")
		if got := start("a"); !got.Equal(day(1, 20)) {
			t.Errorf("a, given a start, starts %v, want 2024-01-20", got)
		}
	})
}

// TestDryRun loads two files in a dry run: the second sees the first's
// accounts, a refused file is undone, the counts are a real load's, the
// quality report counts the planted problems, and the store is left empty.
func TestDryRun(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
		decoder := func(table features.Table, in string) *recordio.Decoder {
			d, err := recordio.NewDecoder(strings.NewReader(in), string(table)+".csv", table, recordio.CSV, nil)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		var results []load.Result
		var refused error
		q, err := s.DryRun(ctx, now, func(l store.Loader) error {
			for _, f := range []struct {
				table features.Table
				in    string
			}{
				{features.Accounts, "account_id,created_at,trial_started_at\na,2024-02-01,\nb,,2024-03-01\nc,2024-01-01,\nd,2024-01-01,2024-01-01\n"},
				{features.BillingChanges, "change_id,account_id,at,kind,mrr\nn1,a,2024-02-05,new,10\nc1,a,2024-04-01,churn,0\nn2,b,2024-03-10,new,20\n"},
				{features.UsageEvents, "account_id,feature,at\na,f,2024-01-15\na,f,2024-03-01\nx,f,2024-03-01\nb,f,2024-07-01\n"},
				{features.Tickets, "ticket_id,account_id,opened_at,priority\nt1,a,2024-03-01,bad\n"},
			} {
				res, err := l.LoadWith(ctx, f.table, decoder(f.table, f.in), load.Options{})
				if err != nil {
					refused = err
					continue
				}
				results = append(results, res)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(results) != 3 || results[0].Inserted != 4 || results[0].StartsInferred != 1 ||
			results[2].Inserted != 4 || results[2].Orphans != (load.Orphans{Rows: 1, Accounts: 1, First: "x"}) {
			t.Errorf("dry-run loads %+v", results)
		}
		if refused == nil || !strings.Contains(refused.Error(), `tickets.csv:2: column "priority"`) {
			t.Errorf("refused %v, want the bad ticket", refused)
		}
		want := store.Quality{
			Orphans:        []store.TableCount{{Table: features.UsageEvents, Count: store.Count{Count: 1, First: "x"}}},
			BeforeStart:    []store.TableCount{{Table: features.UsageEvents, Count: store.Count{Count: 1, First: "a"}}},
			InFuture:       []store.TableCount{{Table: features.UsageEvents, Count: store.Count{Count: 1, First: "b"}}},
			NeverBilled:    store.Count{Count: 2, First: "c"},
			EndlessTrials:  store.Count{Count: 1, First: "d"},
			StartsInferred: store.Count{Count: 1, First: "b"},
			Churn:          store.TaskAccounts{Eligible: 2, Positives: 1},
			Conversion:     store.TaskAccounts{Eligible: 2, Positives: 1},
			// The default plans observe churn monthly from the month
			// after the first usage event (2024-01-15) to the day after
			// the latest record (2024-07-01): a, paying from 02-05, on
			// 03-01 (its 04-01 churn is in [03-08, 04-07): positive); b,
			// paying from 03-10, on 04-01 and 05-01 (06-01's window and
			// grace end after the data). Conversion observes trial day 7
			// from 01-23: b's trial on 03-08, converted by its 03-10
			// billing change; d's day 7 is before the first observation.
			// The test set is the latest fifth of the rows: b's 05-01;
			// b's trial, the only conversion row.
			Training: []trainer.Census{
				{Task: "churn", From: day("2024-02-01"), To: day("2024-07-02"), DataEnd: day("2024-07-02"),
					Rows: 3, Positives: 1, Accounts: 2, PositiveAccounts: 1, TestFrom: day("2024-05-01"), TestRows: 1},
				{Task: "conversion", From: day("2024-01-23"), DataEnd: day("2024-07-02"),
					Rows: 1, Positives: 1, Accounts: 1, PositiveAccounts: 1, TestFrom: day("2024-03-08"), TestRows: 1, TestPositives: 1},
			},
		}
		if !reflect.DeepEqual(q, want) {
			t.Errorf("quality\n%+v\nwant\n%+v", q, want)
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tb := range st.Tables {
			if tb.Rows != 0 {
				t.Errorf("after a dry run %s holds %d rows", tb.Table, tb.Rows)
			}
		}
	})
}

// TestCollectInvalid refuses a load with bad rows of two kinds, counting
// them all, on both stores; nothing is stored.
func TestCollectInvalid(t *testing.T) {
	const in = "ticket_id,account_id,opened_at,priority\n" +
		"t1,a,2024-01-01,medium\n" +
		"t2,a,2024-13-01,low\n" +
		"t3,a,2024-01-02,low\n" +
		"t4,a,2024-01-03,meh\n" +
		"t5,a,2024-01-04,medium\n"
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		d, err := recordio.NewDecoder(strings.NewReader(in), "tickets.csv", features.Tickets, recordio.CSV, nil)
		if err != nil {
			t.Fatal(err)
		}
		d.SkipInvalid()
		res, err := s.LoadWith(context.Background(), features.Tickets, d, load.Options{CollectInvalid: true})
		if err == nil || !strings.Contains(err.Error(), `tickets.csv:2: column "priority": "medium" is not one of`) {
			t.Errorf("error %v, want the first bad row", err)
		}
		want := &load.Invalid{Rows: 4, Kinds: []load.InvalidKind{
			{Column: "priority", Reason: `"…" is not one of [low normal high urgent]`, Rows: 3, Examples: []string{
				`tickets.csv:2: column "priority": "medium" is not one of [low normal high urgent]`,
				`tickets.csv:5: column "priority": "meh" is not one of [low normal high urgent]`,
				`tickets.csv:6: column "priority": "medium" is not one of [low normal high urgent]`}},
			{Column: "opened_at", Reason: `cannot parse "…" as a time`, Rows: 1, Examples: []string{
				`tickets.csv:3: column "opened_at": cannot parse "2024-13-01" as a time`}},
		}}
		if !reflect.DeepEqual(res.Invalid, want) {
			t.Errorf("invalid %+v\nwant %+v", res.Invalid, want)
		}
		if h, err := s.History(context.Background(), "a"); err != nil || len(h.Tickets) != 0 {
			t.Errorf("a refused load stored %+v, %v", h.Tickets, err)
		}
	})
}

// TestOpenSQLitePathWithHash opens a store whose file name holds the
// characters a URI gives meaning to: the file is the one named, not the
// name cut at "#".
func TestOpenSQLitePathWithHash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, name := range []string{"seed#3.db", "100%.db"} {
		s, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("opening sqlite:%s made no file of that name: %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "seed")); err == nil {
		t.Error(`opening "seed#3.db" made a file named "seed"`)
	}
}

// mustLoadCSV loads csv, a CSV export of table, into s with the default
// options, failing the test on any error.
func mustLoadCSV(t *testing.T, s *store.Store, table features.Table, csv string) load.Result {
	t.Helper()
	d, err := recordio.NewDecoder(strings.NewReader(csv), string(table)+".csv", table, recordio.CSV, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Load(context.Background(), table, d)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
