package simulate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
)

// history holds every record of a simulation, collected in memory.
type history struct {
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
}

func (h *history) account(a *features.Account)       { h.accounts = append(h.accounts, *a) }
func (h *history) usage(e *features.UsageEvent)      { h.events = append(h.events, *e) }
func (h *history) ticket(t *features.Ticket)         { h.tickets = append(h.tickets, *t) }
func (h *history) escalation(e *features.Escalation) { h.escalations = append(h.escalations, *e) }
func (h *history) survey(r *features.SurveyResponse) { h.surveys = append(h.surveys, *r) }
func (h *history) billing(b *features.BillingChange) { h.changes = append(h.changes, *b) }
func (h *history) conversionTruth(id string, p float64) {
	h.conversion = append(h.conversion, truthRow{id, "", p})
}
func (h *history) churnTruth(id string, period time.Time, p float64) {
	h.churn = append(h.churn, truthRow{id, period.Format("2006-01"), p})
}

// simulateInMemory runs cfg sequentially into a history.
func simulateInMemory(t testing.TB, cfg Config) (*history, Config) {
	t.Helper()
	cfg, err := cfg.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(cfg)
	h := new(history)
	var a acct
	for i := range cfg.Accounts {
		a.simulate(s, uint64(i), h)
	}
	return h, cfg
}

func TestRecordsAreValidAndConsistent(t *testing.T) {
	h, cfg := simulateInMemory(t, Config{Accounts: 400, Months: 6, Seed: 7})
	end := cfg.End()
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
	for id, want := range snapshotsFromBilling(h, end) {
		if got := accountState(accounts[id]); got != want {
			t.Errorf("account %s: row says %+v, billing history says %+v", id, got, want)
		}
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
	// the billing history cannot tell; take them from the row.
	for _, a := range h.accounts {
		if st, ok := out[a.AccountID]; ok && st.seats == -1 {
			st.seats = a.Seats
			out[a.AccountID] = st
		}
	}
	return out
}
