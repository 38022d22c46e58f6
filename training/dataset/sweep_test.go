package dataset_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/simulate"
)

// simulated returns the histories of a synthetic run, in memory.
func simulated(t testing.TB, cfg simulate.Config) dataset.Memory {
	t.Helper()
	ctx := context.Background()
	bufs := map[string]io.Writer{}
	tables := map[features.Table]io.Reader{}
	for _, tab := range features.Tables {
		var b bytes.Buffer
		bufs[simulate.FileName(tab)] = &b
		tables[tab] = &b
	}
	if _, err := simulate.Run(ctx, cfg, bufs); err != nil {
		t.Fatal(err)
	}
	m, err := dataset.ReadMemory(ctx, tables)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// everything observes every account at fixed times and keeps every
// vector, so that tests see all of them.
type everything []time.Time

func (e everything) AsOf(_ *features.History, dst []time.Time) []time.Time {
	return append(dst[:0], e...)
}
func (e everything) Label(*features.History, *features.Vector) (float64, bool) {
	return math.NaN(), true
}
func (e everything) Labelled() bool { return false }

// vectors sweeps src under task and returns copies of every kept vector.
func vectors(t *testing.T, src dataset.Source, task dataset.Task, workers int) []features.Vector {
	t.Helper()
	var out []features.Vector
	_, err := dataset.Sweep(context.Background(), src, task, dataset.Options{Workers: workers}, func(b *dataset.Batch) error {
		for _, v := range b.Vectors {
			v.Values = slices.Clone(v.Values)
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameVectors fails unless got and want hold the same vectors, values
// compared bit for bit (NaN equals NaN).
func sameVectors(t *testing.T, got, want []features.Vector) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d vectors, want %d", len(got), len(want))
	}
	names := features.FeatureNames()
	for i := range got {
		g, w := &got[i], &want[i]
		if g.AccountID != w.AccountID || !g.AsOf.Equal(w.AsOf) {
			t.Fatalf("vector %d is %s as of %s, want %s as of %s", i, g.AccountID, g.AsOf, w.AccountID, w.AsOf)
		}
		for j := range g.Values {
			if math.Float64bits(g.Values[j]) != math.Float64bits(w.Values[j]) {
				t.Errorf("%s as of %s: %s = %v, want %v", g.AccountID, g.AsOf.Format(time.DateOnly), names[j], g.Values[j], w.Values[j])
			}
		}
	}
}

func TestSweepDeterministic(t *testing.T) {
	m := simulated(t, simulate.Config{Accounts: 150, Months: 4, Seed: 11})
	sched, err := dataset.Schedule(simulate.DefaultStart, simulate.DefaultStart.AddDate(0, 4, 0), dataset.Span{Months: 1})
	if err != nil {
		t.Fatal(err)
	}
	task := &dataset.Churn{Schedule: sched, Lead: 7 * day, Horizon: 30 * day, Grace: 14 * day, DataEnd: simulate.DefaultStart.AddDate(0, 4, 0)}
	write := func(workers int) []byte {
		var buf bytes.Buffer
		w, err := dataset.NewWriter(&buf, features.Config{}, true)
		if err != nil {
			t.Fatal(err)
		}
		st, err := dataset.Sweep(context.Background(), m, task, dataset.Options{Workers: workers}, w.Write)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if st.Accounts != int64(len(m)) || st.Rows == 0 || st.Rows > st.Vectors {
			t.Errorf("stats %+v for %d accounts", st, len(m))
		}
		return buf.Bytes()
	}
	one := write(1)
	for _, workers := range []int{2, 5} {
		if got := write(workers); !bytes.Equal(got, one) {
			t.Errorf("%d workers wrote a different file from 1 worker", workers)
		}
	}
	// Rows come in account order.
	var ids []string
	for _, line := range bytes.Split(one, []byte("\n"))[1:] {
		if id, _, ok := bytes.Cut(line, []byte(",")); ok {
			ids = append(ids, string(id))
		}
	}
	if !slices.IsSorted(ids) {
		t.Error("rows are not in account order")
	}
}

func TestSweepErrors(t *testing.T) {
	m := simulated(t, simulate.Config{Accounts: 40, Months: 2, Seed: 2})
	boom := errors.New("disk full")
	calls := 0
	_, err := dataset.Sweep(context.Background(), m, everything{simulate.DefaultStart.AddDate(0, 1, 0)}, dataset.Options{Workers: 3},
		func(*dataset.Batch) error {
			calls++
			return boom
		})
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("emit failing: error %v after %d calls, want %v after 1", err, calls, boom)
	}

	bad := dataset.Memory{{AccountID: "a", Usage: []features.UsageEvent{
		{AccountID: "a", Feature: "f", Count: 1, At: t0}, {AccountID: "a", Feature: "f", Count: 1, At: t0.Add(-day)}}}}
	_, err = dataset.Sweep(context.Background(), bad, everything{t0.Add(day)}, dataset.Options{}, func(*dataset.Batch) error { return nil })
	if !errors.Is(err, features.ErrUnordered) {
		t.Errorf("unordered usage: error %v, want ErrUnordered", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := dataset.Sweep(ctx, m, everything{t0}, dataset.Options{}, func(*dataset.Batch) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error %v, want context.Canceled", err)
	}
}

// TestSimulatorPrefix builds vectors as of the end of month 12 from a
// 12-month and a 13-month run of the same seed. The longer run knows the
// 13th month, including resolutions of tickets opened before the cut and
// the accounts' later snapshot; none of it may change a value.
func TestSimulatorPrefix(t *testing.T) {
	cfg := simulate.Config{Accounts: 300, Months: 12, Seed: 5}
	cut := cfg.End()
	short := simulated(t, cfg)
	cfg.Months = 13
	long := simulated(t, cfg)
	// Trials that start in month 13 exist only in the longer run.
	long = slices.DeleteFunc(long, func(h *features.History) bool { return h.Account != nil && !h.Account.CreatedAt.Before(cut) })
	task := everything{cut.AddDate(0, -6, 0), cut.AddDate(0, -1, 0), cut}
	got, want := vectors(t, long, task, 2), vectors(t, short, task, 2)
	sameVectors(t, got, want)
	if n := len(want); n < 3*200 {
		t.Errorf("only %d vectors compared", n)
	}
}

// records is a load.Source of records in memory.
type records []recordio.Record

func (r *records) Next() (recordio.Record, error) {
	if len(*r) == 0 {
		return nil, io.EOF
	}
	rec := (*r)[0]
	*r = (*r)[1:]
	return rec, nil
}

// load stores records, grouped by table, in s.
func load(t *testing.T, s *store.Store, recs ...recordio.Record) {
	t.Helper()
	byTable := map[features.Table]records{}
	for _, r := range recs {
		var tab features.Table
		switch r.(type) {
		case *features.Account:
			tab = features.Accounts
		case *features.UsageEvent:
			tab = features.UsageEvents
		case *features.Ticket:
			tab = features.Tickets
		case *features.Escalation:
			tab = features.Escalations
		case *features.SurveyResponse:
			tab = features.SurveyResponses
		case *features.BillingChange:
			tab = features.BillingChanges
		}
		byTable[tab] = append(byTable[tab], r)
	}
	for _, tab := range features.Tables {
		if src, ok := byTable[tab]; ok {
			if _, err := s.Load(context.Background(), tab, &src); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func storeSource(s *store.Store, shard store.Shard) dataset.Source {
	return dataset.SourceFunc(func(ctx context.Context, fn func(*features.History) error) error {
		return s.Histories(ctx, shard, fn)
	})
}

// TestLeakage builds vectors as of T from a store, then loads what became
// known at or after T — new events, tickets answered and resolved after
// T, the accounts' later snapshot — and builds again: every value as of T
// must be bit-identical.
func TestLeakage(t *testing.T) {
	T := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	d := func(days float64) time.Time { return T.Add(time.Duration(days * float64(day))) }
	before := []recordio.Record{
		&features.Account{AccountID: "acme", Segment: "mid-market", Plan: "team-monthly", Seats: 5, MRR: 145, CreatedAt: d(-400), RenewalAt: d(15)},
		&features.Account{AccountID: "trial", Segment: "smb", Plan: "trial", CreatedAt: d(-5), TrialStartedAt: d(-5), TrialEndsAt: d(9)},
		&features.BillingChange{ChangeID: "b1", AccountID: "acme", At: d(-300), MRR: 145, Seats: 5, Plan: "team-monthly", Kind: "new"},
		&features.Ticket{TicketID: "t1", AccountID: "acme", OpenedAt: d(-10), Priority: "urgent"},
		&features.Ticket{TicketID: "t2", AccountID: "acme", OpenedAt: d(-5), FirstResponseAt: d(-4), Priority: "low"},
		&features.Escalation{EscalationID: "e1", AccountID: "acme", At: d(-20), Direction: "negative", Severity: "high"},
		&features.SurveyResponse{ResponseID: "s1", AccountID: "acme", UserID: "u1", At: d(-40), Kind: "nps", Score: 8},
		&features.SurveyResponse{ResponseID: "s2", AccountID: "acme", UserID: "u2", At: d(-3), Kind: "nps", Score: 5},
	}
	for i := range 60 {
		before = append(before,
			&features.UsageEvent{EventID: fmt.Sprintf("ua%d", i), AccountID: "acme", UserID: fmt.Sprintf("u%d", i%4), Feature: fmt.Sprintf("f%d", i%6), At: d(-0.01 - float64(i)*1.3), Count: 1},
			&features.UsageEvent{EventID: fmt.Sprintf("ut%d", i), AccountID: "trial", UserID: fmt.Sprintf("u%d", i%3), Feature: "reports", At: d(-0.01 - float64(i)*0.08), Count: 1})
	}
	after := []recordio.Record{
		// The snapshot as of a later end: churned, other plan and seats.
		&features.Account{AccountID: "acme", Segment: "mid-market", Plan: "business-annual", Seats: 1, MRR: 0, CreatedAt: d(-400), ChurnedAt: d(20)},
		&features.Account{AccountID: "trial", Segment: "smb", Plan: "team-monthly", Seats: 3, MRR: 87, CreatedAt: d(-5), TrialStartedAt: d(-5), TrialEndsAt: d(9), ConvertedAt: d(2)},
		&features.BillingChange{ChangeID: "b2", AccountID: "acme", At: T, MRR: 29, Seats: 1, Plan: "team-monthly", Kind: "contraction"},
		&features.BillingChange{ChangeID: "b3", AccountID: "acme", At: d(20), MRR: 0, Seats: 0, Plan: "team-monthly", Kind: "churn"},
		&features.BillingChange{ChangeID: "b4", AccountID: "trial", At: d(2), MRR: 87, Seats: 3, Plan: "team-monthly", Kind: "new"},
		// Tickets opened before T, answered and resolved at or after T.
		&features.Ticket{TicketID: "t1", AccountID: "acme", OpenedAt: d(-10), FirstResponseAt: T, ResolvedAt: d(2), Priority: "urgent", CSAT: 1},
		&features.Ticket{TicketID: "t2", AccountID: "acme", OpenedAt: d(-5), FirstResponseAt: d(-4), ResolvedAt: T, Priority: "low", CSAT: 5},
		&features.Ticket{TicketID: "t3", AccountID: "acme", OpenedAt: T, Priority: "urgent"},
		&features.Escalation{EscalationID: "e2", AccountID: "acme", At: T, Direction: "negative", Severity: "critical"},
		&features.SurveyResponse{ResponseID: "s3", AccountID: "acme", UserID: "u1", At: T, Kind: "nps", Score: 0},
		&features.SurveyResponse{ResponseID: "s4", AccountID: "acme", UserID: "u1", At: d(1), Kind: "csat", Score: 1},
		&features.UsageEvent{EventID: "late1", AccountID: "acme", UserID: "u9", Feature: "new-feature", At: T, Count: 1},
		&features.UsageEvent{EventID: "late2", AccountID: "trial", UserID: "u7", Feature: "api", At: d(0.5), Count: 1},
		&features.UsageEvent{EventID: "other", AccountID: "zeta", UserID: "z", Feature: "api", At: d(1), Count: 1},
	}
	task := everything{d(-30), d(-0.5), T}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		load(t, s, before...)
		want := vectors(t, storeSource(s, store.Shard{}), task, 2)
		load(t, s, after...)
		got := vectors(t, storeSource(s, store.Shard{}), task, 2)
		// zeta exists only in the later data; as of T it has no records.
		got = slices.DeleteFunc(got, func(v features.Vector) bool { return v.AccountID == "zeta" })
		sameVectors(t, got, want)
		if open := want[len(want)/2-1].Value("open_tickets"); open != 2 {
			t.Errorf("acme's open tickets as of T = %v, want 2", open)
		}
	})
}
