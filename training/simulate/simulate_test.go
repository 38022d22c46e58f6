package simulate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
)

// history holds every record of a simulation, collected in memory.
type history struct {
	// usageRows counts usage rows; they are kept in events only when
	// keepUsage is set, as they dominate memory.
	keepUsage   bool
	usageRows   int
	accounts    []features.Account
	events      []features.UsageEvent
	tickets     []features.Ticket
	escalations []features.Escalation
	surveys     []features.SurveyResponse
	changes     []features.BillingChange
	churn       []truthRow
	conversion  []truthRow
}

type truthRow struct {
	account string
	month   string // YYYY-MM; empty for conversion rows
	p       float64
	// early is the truth as of the default observation (see
	// TruthChurnStartFile).
	early float64
}

func (h *history) account(a *features.Account)       { h.accounts = append(h.accounts, *a) }
func (h *history) ticket(t *features.Ticket)         { h.tickets = append(h.tickets, *t) }
func (h *history) escalation(e *features.Escalation) { h.escalations = append(h.escalations, *e) }
func (h *history) survey(r *features.SurveyResponse) { h.surveys = append(h.surveys, *r) }
func (h *history) billing(b *features.BillingChange) { h.changes = append(h.changes, *b) }
func (h *history) acquired(int, time.Time)           {}
func (h *history) usage(e *features.UsageEvent) {
	h.usageRows++
	if h.keepUsage {
		h.events = append(h.events, *e)
	}
}
func (h *history) conversionTruth(id string, p, atWeek float64) {
	h.conversion = append(h.conversion, truthRow{id, "", p, atWeek})
}
func (h *history) churnTruth(id string, period time.Time, p, atStart float64) {
	h.churn = append(h.churn, truthRow{id, period.Format("2006-01"), p, atStart})
}

// simulateInMemory runs cfg sequentially into a history, keeping usage
// rows if keepUsage is set.
func simulateInMemory(t testing.TB, cfg Config, keepUsage bool) (*history, Config) {
	t.Helper()
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(cfg)
	h := &history{keepUsage: keepUsage}
	var a acct
	for i := range cfg.Accounts {
		a.simulate(s, uint64(i), h)
	}
	return h, cfg
}

func TestRecordsAreValidAndConsistent(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"default start", Config{Accounts: 400, Months: 6, Seed: 7}},
		{"mid-month start", Config{Accounts: 300, Months: 4, Seed: 8, Start: time.Date(2025, 1, 28, 15, 4, 5, 0, time.UTC)}},
		{"trials in the first month", Config{Accounts: 300, Months: 3, Seed: 9, TrialWindow: 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, cfg := simulateInMemory(t, tt.cfg, true)
			checkHistory(t, h, cfg)
		})
	}
}

// checkHistory validates every record of h and checks that the records
// agree with one another.
func checkHistory(t *testing.T, h *history, cfg Config) {
	t.Helper()
	end := cfg.End()
	if len(h.events) == 0 || len(h.tickets) == 0 || len(h.conversion) == 0 || len(h.churn) == 0 {
		t.Fatalf("too little history to check: %d usage rows, %d tickets, %d conversions, %d churn truth rows",
			len(h.events), len(h.tickets), len(h.conversion), len(h.churn))
	}
	months := map[string]bool{}
	for m := range cfg.Months {
		months[cfg.Start.AddDate(0, m, 0).Format("2006-01")] = true
	}
	if len(months) != cfg.Months {
		t.Fatalf("%d simulated months have %d distinct labels", cfg.Months, len(months))
	}
	for _, r := range h.churn {
		if !months[r.month] {
			t.Fatalf("churn truth row for month %s, not a simulated month", r.month)
		}
	}
	check := func(kind string, i int, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s %d: %v", kind, i, err)
		}
	}
	inRun := func(kind string, at time.Time) {
		t.Helper()
		if !at.Before(end) {
			t.Fatalf("%s at %v is not before the end %v", kind, at, end)
		}
	}
	accounts := map[string]*features.Account{}
	for i := range h.accounts {
		a := &h.accounts[i]
		check("account", i, a.Validate())
		accounts[a.AccountID] = a
	}
	for i := range h.events {
		check("usage event", i, h.events[i].Validate())
		inRun("usage", h.events[i].At)
		if !strings.HasPrefix(h.events[i].UserID, h.events[i].AccountID+"-u") {
			t.Fatalf("usage %d: user %s is not a user of %s", i, h.events[i].UserID, h.events[i].AccountID)
		}
	}
	for i := range h.tickets {
		tk := &h.tickets[i]
		check("ticket", i, tk.Validate())
		inRun("ticket", tk.OpenedAt)
		if !tk.ResolvedAt.IsZero() && (tk.FirstResponseAt.IsZero() || tk.ResolvedAt.Before(tk.FirstResponseAt)) {
			t.Fatalf("ticket %s resolved at %v before its first response %v", tk.TicketID, tk.ResolvedAt, tk.FirstResponseAt)
		}
		if tk.ResolvedAt.IsZero() && tk.CSAT != 0 {
			t.Fatalf("open ticket %s has a CSAT", tk.TicketID)
		}
	}
	for i := range h.escalations {
		check("escalation", i, h.escalations[i].Validate())
		inRun("escalation", h.escalations[i].At)
	}
	for i := range h.surveys {
		check("survey response", i, h.surveys[i].Validate())
		inRun("survey", h.surveys[i].At)
	}
	for i := range h.changes {
		check("billing change", i, h.changes[i].Validate())
		inRun("billing change", h.changes[i].At)
	}
	// Every record belongs to a written account; the accounts table agrees
	// with the billing history.
	for _, id := range slices.Concat(
		mapSlice(h.events, func(e features.UsageEvent) string { return e.AccountID }),
		mapSlice(h.tickets, func(e features.Ticket) string { return e.AccountID }),
		mapSlice(h.changes, func(e features.BillingChange) string { return e.AccountID }),
	) {
		if accounts[id] == nil {
			t.Fatalf("record of unknown account %s", id)
		}
	}
	checkLifecycleTimes(t, h)
	for id, want := range snapshotsFromBilling(h, end) {
		if got := accountState(accounts[id]); got != want {
			t.Errorf("account %s: row says %+v, billing history says %+v", id, got, want)
		}
	}
}

// checkLifecycleTimes checks that nothing happens to an account before it
// exists, while it is churned, or after its trial lapsed.
func checkLifecycleTimes(t *testing.T, h *history) {
	t.Helper()
	type gap struct{ from, to time.Time } // churned in [from, to)
	gaps := map[string][]gap{}
	subscribed := map[string]bool{}
	for _, b := range h.changes {
		switch b.Kind {
		case features.BillingNew:
			subscribed[b.AccountID] = true
		case features.BillingChurn:
			gaps[b.AccountID] = append(gaps[b.AccountID], gap{b.At, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)})
		case features.BillingReactivation:
			g := gaps[b.AccountID]
			g[len(g)-1].to = b.At
		}
	}
	accounts := map[string]*features.Account{}
	for i := range h.accounts {
		accounts[h.accounts[i].AccountID] = &h.accounts[i]
	}
	check := func(kind, account string, at time.Time) {
		t.Helper()
		a := accounts[account]
		if at.Before(a.CreatedAt) {
			t.Fatalf("%s of %s at %v, before its creation at %v", kind, account, at, a.CreatedAt)
		}
		if !subscribed[account] && !a.TrialEndsAt.IsZero() && !at.Before(a.TrialEndsAt) {
			t.Fatalf("%s of %s at %v, after its trial ended at %v", kind, account, at, a.TrialEndsAt)
		}
		for _, g := range gaps[account] {
			if !at.Before(g.from) && at.Before(g.to) {
				t.Fatalf("%s of %s at %v, while churned from %v to %v", kind, account, at, g.from, g.to)
			}
		}
	}
	for _, e := range h.events {
		check("usage", e.AccountID, e.At)
	}
	for _, tk := range h.tickets {
		check("ticket", tk.AccountID, tk.OpenedAt)
	}
	for _, e := range h.escalations {
		check("escalation", e.AccountID, e.At)
	}
	for _, r := range h.surveys {
		check("survey", r.AccountID, r.At)
	}
}

func mapSlice[T any](s []T, f func(T) string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

// state is the part of an account row that follows from its billing
// history.
type state struct {
	plan      string
	seats     int
	mrr       float64
	converted time.Time
	churned   time.Time
	renews    bool // renewal_at is set
}

func accountState(a *features.Account) state {
	return state{a.Plan, a.Seats, a.MRR, a.ConvertedAt, a.ChurnedAt, !a.RenewalAt.IsZero()}
}

// snapshotsFromBilling replays the billing changes before end into the
// state of every account that has one. Trials that converted before end
// have a "new" change at converted_at.
func snapshotsFromBilling(h *history, end time.Time) map[string]state {
	out := map[string]state{}
	for _, a := range h.accounts {
		if a.CreatedAt.Before(end) {
			out[a.AccountID] = state{plan: trialPlan, seats: -1}
		}
	}
	trialStarted := map[string]time.Time{}
	for _, a := range h.accounts {
		trialStarted[a.AccountID] = a.TrialStartedAt
	}
	for _, b := range h.changes {
		if !b.At.Before(end) {
			continue
		}
		st := out[b.AccountID]
		st.plan, st.seats, st.mrr = b.Plan, b.Seats, b.MRR
		switch b.Kind {
		case features.BillingNew:
			if !trialStarted[b.AccountID].IsZero() {
				st.converted = b.At
			}
		case features.BillingChurn:
			st.churned = b.At
		case features.BillingReactivation:
			st.churned = time.Time{}
		}
		st.renews = b.Kind != features.BillingChurn
		out[b.AccountID] = st
	}
	// Trials without billing keep the seats they were created with, which
	// the billing history cannot tell; take them from the row, unless the
	// trial converted after end, when the row holds the paid seats and the
	// trial's own stay unknown (-1).
	billedLater := map[string]bool{}
	for _, b := range h.changes {
		billedLater[b.AccountID] = true
	}
	for _, a := range h.accounts {
		if st, ok := out[a.AccountID]; ok && st.seats == -1 && !billedLater[a.AccountID] {
			st.seats = a.Seats
			out[a.AccountID] = st
		}
	}
	return out
}

// runHashes runs cfg through Run and returns the SHA-256 of every output.
func runHashes(t *testing.T, cfg Config) map[string]string {
	t.Helper()
	bufs := map[string]*bytes.Buffer{}
	out := map[string]io.Writer{}
	for _, name := range outputs {
		bufs[name] = new(bytes.Buffer)
		out[name] = bufs[name]
	}
	stats, err := Run(context.Background(), cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[string]string{}
	for name, b := range bufs {
		if got, want := int64(bytes.Count(b.Bytes(), []byte("\n"))-1), stats.Rows[name]; got != want {
			t.Errorf("%s: %d lines, stats say %d rows", name, got, want)
		}
		sum := sha256.Sum256(b.Bytes())
		hashes[name] = hex.EncodeToString(sum[:])
	}
	return hashes
}

func TestRunIsDeterministic(t *testing.T) {
	cfg := Config{Accounts: 300, Months: 3, Seed: 42}
	want := runHashes(t, cfg)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"same config", cfg},
		{"one worker", Config{Accounts: 300, Months: 3, Seed: 42, Workers: 1}},
		{"five workers", Config{Accounts: 300, Months: 3, Seed: 42, Workers: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runHashes(t, tt.cfg); !maps.Equal(got, want) {
				t.Errorf("hashes differ:\n got %v\nwant %v", got, want)
			}
		})
	}
	t.Run("other seed", func(t *testing.T) {
		got := runHashes(t, Config{Accounts: 300, Months: 3, Seed: 43})
		if got[FileName(features.UsageEvents)] == want[FileName(features.UsageEvents)] {
			t.Error("seeds 42 and 43 wrote the same usage events")
		}
	})
	t.Run("generate", func(t *testing.T) {
		dir, truth := t.TempDir(), filepath.Join(t.TempDir(), "truth")
		if _, err := Generate(context.Background(), cfg, dir, truth); err != nil {
			t.Fatal(err)
		}
		for name, h := range want {
			d := dir
			if strings.HasPrefix(name, "truth_") {
				d = truth
			}
			b, err := os.ReadFile(filepath.Join(d, name))
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != h {
				t.Errorf("%s written by Generate differs from Run's", name)
			}
		}
	})
}

// lines encodes records as CSV lines.
func lines[T any](recs []T, keep func(*T) bool, enc func([]byte, *T) []byte) []string {
	var out []string
	for i := range recs {
		if keep(&recs[i]) {
			out = append(out, string(enc(nil, &recs[i])))
		}
	}
	return out
}

func TestPrefixStable(t *testing.T) {
	short, shortCfg := simulateInMemory(t, Config{Accounts: 500, Months: 3, Seed: 11}, true)
	long, _ := simulateInMemory(t, Config{Accounts: 500, Months: 5, Seed: 11}, true)
	end := shortCfg.End()
	all := func(*features.UsageEvent) bool { return true }
	before := func(at time.Time) bool { return at.Before(end) }

	// Tickets are known as of the end: what happens after it is blank.
	censored := make([]features.Ticket, 0, len(long.tickets))
	for _, tk := range long.tickets {
		if !before(tk.OpenedAt) {
			continue
		}
		if !before(tk.FirstResponseAt) {
			tk.FirstResponseAt = time.Time{}
		}
		if !before(tk.ResolvedAt) {
			tk.ResolvedAt, tk.CSAT, tk.AgentReplies = time.Time{}, 0, 0
		}
		censored = append(censored, tk)
	}
	tests := []struct {
		table       string
		short, long []string
	}{
		{"usage", lines(short.events, all, recordio.AppendUsageEvent),
			lines(long.events, func(e *features.UsageEvent) bool { return before(e.At) }, recordio.AppendUsageEvent)},
		{"tickets", lines(short.tickets, func(*features.Ticket) bool { return true }, recordio.AppendTicket),
			lines(censored, func(*features.Ticket) bool { return true }, recordio.AppendTicket)},
		{"escalations", lines(short.escalations, func(*features.Escalation) bool { return true }, recordio.AppendEscalation),
			lines(long.escalations, func(e *features.Escalation) bool { return before(e.At) }, recordio.AppendEscalation)},
		{"surveys", lines(short.surveys, func(*features.SurveyResponse) bool { return true }, recordio.AppendSurveyResponse),
			lines(long.surveys, func(e *features.SurveyResponse) bool { return before(e.At) }, recordio.AppendSurveyResponse)},
		{"billing", lines(short.changes, func(*features.BillingChange) bool { return true }, recordio.AppendBillingChange),
			lines(long.changes, func(e *features.BillingChange) bool { return before(e.At) }, recordio.AppendBillingChange)},
		{"truth churn", mapSlice(short.churn, truthRow.String),
			mapSlice(slices.DeleteFunc(slices.Clone(long.churn), func(r truthRow) bool { return r.month >= end.Format("2006-01") }), truthRow.String)},
	}
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			if len(tt.short) == 0 {
				t.Fatal("no rows")
			}
			if !slices.Equal(tt.short, tt.long) {
				i := 0
				for i < min(len(tt.short), len(tt.long)) && tt.short[i] == tt.long[i] {
					i++
				}
				t.Fatalf("%d rows in the short run, %d before its end in the long run; first difference at row %d", len(tt.short), len(tt.long), i)
			}
		})
	}
	t.Run("truth conversion", func(t *testing.T) {
		longP := map[string]float64{}
		for _, r := range long.conversion {
			longP[r.account] = r.p
		}
		for _, r := range short.conversion {
			if p, ok := longP[r.account]; !ok || p != r.p {
				t.Fatalf("trial %s: p %v in the short run, %v (present %v) in the long one", r.account, r.p, p, ok)
			}
		}
	})
	t.Run("accounts", func(t *testing.T) {
		want := snapshotsFromBilling(long, end)
		var n int
		for _, la := range long.accounts {
			if before(la.CreatedAt) {
				n++
			}
		}
		if len(short.accounts) != n {
			t.Fatalf("%d accounts in the short run, %d created before its end in the long run", len(short.accounts), n)
		}
		longByID := map[string]features.Account{}
		for _, a := range long.accounts {
			longByID[a.AccountID] = a
		}
		for _, sa := range short.accounts {
			la := longByID[sa.AccountID]
			got, w := accountState(&sa), want[sa.AccountID]
			if w.seats == -1 {
				got.seats = -1
			}
			if got != w {
				t.Errorf("account %s: %+v, the long run's billing up to the short end says %+v", sa.AccountID, got, w)
			}
			// Attributes fixed at creation agree.
			la.Plan, la.Seats, la.MRR, la.ConvertedAt, la.ChurnedAt, la.RenewalAt = sa.Plan, sa.Seats, sa.MRR, sa.ConvertedAt, sa.ChurnedAt, sa.RenewalAt
			if !reflect.DeepEqual(la, sa) {
				t.Errorf("account %s differs beyond its lifecycle:\nshort %+v\nlong  %+v", sa.AccountID, sa, la)
			}
			if r := sa.RenewalAt; !r.IsZero() && (r.Before(end) || !r.Before(end.AddDate(1, 0, 1))) {
				t.Errorf("account %s renews at %v, not within a year of the end %v", sa.AccountID, r, end)
			}
		}
	})
}

func (r truthRow) String() string { return fmt.Sprintf("%s,%s,%v", r.account, r.month, r.p) }

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"negative accounts", Config{Accounts: -1, Months: 1}},
		{"no months", Config{Accounts: 1}},
		{"too many months", Config{Accounts: 1, Months: 1201}},
		{"negative trial window", Config{Accounts: 1, Months: 1, TrialWindow: -1}},
		{"negative workers", Config{Accounts: 1, Months: 1, Workers: -1}},
		{"start on the 29th", Config{Accounts: 1, Months: 1, Start: time.Date(2024, 1, 29, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tt.cfg, nil); err == nil {
				t.Error("Run accepted the config")
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	cfg := Config{Accounts: 2000, Months: 2, Seed: 1}
	errDisk := errors.New("disk full")
	tests := []struct {
		name string
		ctx  func() context.Context
		out  map[string]io.Writer
		want error
	}{
		{"unknown output", context.Background, map[string]io.Writer{"usage.csv": io.Discard}, nil},
		{"failing writer", context.Background, map[string]io.Writer{FileName(features.UsageEvents): &failAfter{n: 1 << 16, err: errDisk}}, errDisk},
		{"cancelled", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, map[string]io.Writer{FileName(features.Accounts): io.Discard}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(tt.ctx(), cfg, tt.out)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("got %v, want an error wrapping %v", err, tt.want)
			}
		})
	}
}

// failAfter accepts n bytes, then fails.
type failAfter struct {
	n   int
	err error
}

func (w *failAfter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, w.err
	}
	return len(p), nil
}

// BenchmarkGenerate simulates 10,000 accounts over 12 months, encoding
// every output and discarding it, and reports the rows of all eight
// outputs as events per second. Reproduce with
//
//	go test ./training/simulate -run '^$' -bench Generate -benchtime 3x
func BenchmarkGenerate(b *testing.B) {
	cfg := Config{Accounts: 10000, Months: 12, Seed: 1}
	out := map[string]io.Writer{}
	for _, name := range outputs {
		out[name] = io.Discard
	}
	var rows int64
	for b.Loop() {
		stats, err := Run(context.Background(), cfg, out)
		if err != nil {
			b.Fatal(err)
		}
		rows = 0
		for _, n := range stats.Rows {
			rows += n
		}
	}
	b.ReportMetric(float64(rows), "events/op")
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
