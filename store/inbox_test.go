package store_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// inboxRules are the rules of inboxBook's alerts, one alert per (account,
// rule).
var inboxRules = []string{"band_drop", "risk_jump", "usage_drop", "ticket_spike", "negative_escalation",
	"nps_detractor", "renewal_at_risk", "trial_became_pql", "trial_going_cold"}

// inboxAlerts is how many alerts inboxBook opens: more than the 100 that
// once capped the inbox.
const inboxAlerts = 250

// inboxBook stores 30 accounts (every seventh without MRR, two of those
// trials with a conversion score, the paying ones with a churn score
// except every fifth) and inboxAlerts open alerts on them, three opened
// in each minute so that the orders' ties show. It returns the ARR each
// account's rows must carry.
func inboxBook(t *testing.T, s *store.Store) map[string]float64 {
	t.Helper()
	ctx := context.Background()
	arr := map[string]float64{}
	var scores []score.Score
	for i := range 30 {
		id := fmt.Sprintf("acc_%02d", i)
		mrr := float64(100 * (i % 7))
		if err := s.ExecRaw(ctx, "INSERT INTO accounts (account_id, name, mrr, created_at) VALUES (?, ?, ?, ?)",
			id, "Account "+id, mrr, t0.AddDate(-1, 0, 0)); err != nil {
			t.Fatal(err)
		}
		arr[id] = 12 * mrr
		switch {
		case mrr == 0 && i < 10:
			arr[id] = 6000 + float64(i)
			scores = append(scores, score.Score{AccountID: id, Task: score.TaskConversion, AsOf: t0, ModelVersion: 2,
				Probability: 0.4, ARR: arr[id], Previous: math.NaN(), Fingerprint: "f", ScoredAt: t0})
		case mrr > 0 && i%5 != 0:
			scores = append(scores, score.Score{AccountID: id, Task: score.TaskChurn, AsOf: t0, ModelVersion: 1,
				Probability: 0.1, Health: float64(50 + i), Band: "yellow", ARR: 1, Previous: math.NaN(), Fingerprint: "f", ScoredAt: t0})
		}
	}
	if err := s.PutScores(ctx, scores); err != nil {
		t.Fatal(err)
	}
	for i := range inboxAlerts {
		at := t0.Add(time.Duration(i/3) * time.Minute)
		a := alerts.Alert{ID: fmt.Sprintf("al_%03d", i), AccountID: fmt.Sprintf("acc_%02d", i%30), Rule: inboxRules[i/30],
			Owner: fmt.Sprintf("rep-%d", i%2), Severity: alerts.Severities[i%len(alerts.Severities)], Message: "m",
			ObservedAt: at.Add(-time.Hour), OpenedAt: at}
		d := alerts.Delivery{ID: "d_" + a.ID, Payload: []byte(`{}`), NextAttemptAt: at, CreatedAt: at}
		if ok, err := s.OpenAlert(ctx, a, d, t0.Add(-time.Hour)); err != nil || !ok {
			t.Fatalf("opening %s: %v, %v", a.ID, ok, err)
		}
	}
	return arr
}

// listAll pages through the listing of q, pageSize alerts at a time, as
// the API and the dashboard do, and returns every row in order.
func listAll(t *testing.T, s *store.Store, q alerts.Query, pageSize int) []alerts.Row {
	t.Helper()
	var out []alerts.Row
	q.Limit = pageSize + 1
	for range inboxAlerts + 1 {
		rows, err := s.Alerts(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) <= pageSize {
			return append(out, rows...)
		}
		out = append(out, rows[:pageSize]...)
		sort := q.Sort
		if sort == "" {
			sort = alerts.SortNewest
		}
		c := alerts.CursorAfter(sort, &rows[pageSize-1])
		q.After = &c
	}
	t.Fatal("paging did not end")
	return nil
}

func TestAlertInboxPaging(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		arr := inboxBook(t, s)
		for _, tc := range []struct {
			sort   string
			before func(a, b *alerts.Row) bool // whether a must come before b
		}{
			{alerts.SortSeverityARR, func(a, b *alerts.Row) bool {
				if a.Value != b.Value {
					return a.Value > b.Value
				}
				if !a.OpenedAt.Equal(b.OpenedAt) {
					return a.OpenedAt.After(b.OpenedAt)
				}
				return a.ID < b.ID
			}},
			{alerts.SortNewest, func(a, b *alerts.Row) bool {
				if !a.OpenedAt.Equal(b.OpenedAt) {
					return a.OpenedAt.After(b.OpenedAt)
				}
				return a.ID < b.ID
			}},
		} {
			for _, size := range []int{1, 40, 100, 300} {
				t.Run(fmt.Sprintf("%s/%d", tc.sort, size), func(t *testing.T) {
					rows := listAll(t, s, alerts.Query{Status: alerts.StatusActive, Sort: tc.sort}, size)
					seen := map[string]bool{}
					for i := range rows {
						r := &rows[i]
						if seen[r.ID] {
							t.Fatalf("alert %s listed twice", r.ID)
						}
						seen[r.ID] = true
						if i > 0 && !tc.before(&rows[i-1], r) {
							t.Fatalf("row %d (%s, value %v, opened %v) after row %d (%s, value %v, opened %v)", i, r.ID, r.Value, r.OpenedAt,
								i-1, rows[i-1].ID, rows[i-1].Value, rows[i-1].OpenedAt)
						}
						if want := arr[r.AccountID] * float64(alerts.SeverityWeight(r.Severity)); r.ARR != arr[r.AccountID] || r.Value != want {
							t.Fatalf("%s on %s: ARR %v, value %v; want %v, %v", r.ID, r.AccountID, r.ARR, r.Value, arr[r.AccountID], want)
						}
					}
					if len(rows) != inboxAlerts {
						t.Errorf("paging by %d listed %d alerts, want %d", size, len(rows), inboxAlerts)
					}
				})
			}
		}
		// A cursor of one order continues no listing of the other.
		rows, err := s.Alerts(context.Background(), alerts.Query{Sort: alerts.SortNewest, Limit: 1})
		if err != nil || len(rows) != 1 {
			t.Fatal(rows, err)
		}
		c := alerts.CursorAfter(alerts.SortNewest, &rows[0])
		if _, err := s.Alerts(context.Background(), alerts.Query{Sort: alerts.SortSeverityARR, After: &c}); err == nil {
			t.Error("a newest-first cursor continued the severity × ARR listing")
		}
	})
}

func TestAlertInboxRowsAndFilters(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		inboxBook(t, s)
		all, err := s.Alerts(ctx, alerts.Query{Limit: 1000})
		if err != nil || len(all) != inboxAlerts {
			t.Fatalf("%d alerts, %v", len(all), err)
		}
		byID := map[string]alerts.Row{}
		for _, r := range all {
			byID[r.ID] = r
		}
		// acc_01: paying and scored; acc_00: a trial with a conversion
		// score (no health); acc_05: paying, not scored.
		for _, tc := range []struct {
			id, name, band string
			health         float64
			scored         bool
			arr            float64
		}{
			{"al_001", "Account acc_01", "yellow", 51, true, 1200},
			{"al_000", "Account acc_00", "", 0, false, 6000},
			{"al_005", "Account acc_05", "", 0, false, 6000},
			{"al_007", "Account acc_07", "", 0, false, 6007},
			{"al_014", "Account acc_14", "", 0, false, 0},
		} {
			r := byID[tc.id]
			if r.AccountName != tc.name || r.Band != tc.band || r.Health != tc.health || r.Scored != tc.scored || r.ARR != tc.arr {
				t.Errorf("%s: name %q band %q health %v scored %v ARR %v; want %q %q %v %v %v", tc.id, r.AccountName, r.Band, r.Health,
					r.Scored, r.ARR, tc.name, tc.band, tc.health, tc.scored, tc.arr)
			}
		}
		for _, tc := range []struct {
			name string
			q    alerts.Query
		}{
			{"one rule", alerts.Query{Rules: []string{"usage_drop"}}},
			{"two rules", alerts.Query{Rules: []string{"usage_drop", "trial_going_cold"}}},
			{"severities", alerts.Query{Severities: []string{"high", "critical"}}},
			{"rule and severity", alerts.Query{Rules: []string{"band_drop", "risk_jump"}, Severities: []string{"info"}}},
			{"owner and account", alerts.Query{Owner: "rep-1", AccountID: "acc_03"}},
			{"nothing matches", alerts.Query{Rules: []string{"band_drop"}, AccountID: "acc_99"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var want []string
				for _, r := range all {
					if (len(tc.q.Rules) == 0 || slices.Contains(tc.q.Rules, r.Rule)) &&
						(len(tc.q.Severities) == 0 || slices.Contains(tc.q.Severities, r.Severity)) &&
						(tc.q.Owner == "" || r.Owner == tc.q.Owner) && (tc.q.AccountID == "" || r.AccountID == tc.q.AccountID) {
						want = append(want, r.ID)
					}
				}
				var got []string
				for _, r := range listAll(t, s, tc.q, 7) {
					got = append(got, r.ID)
				}
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("got %d alerts %v, want %d %v", len(got), got, len(want), want)
				}
			})
		}
	})
}

func TestAlertSnooze(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		inboxBook(t, s)
		by := alerts.Actor{KeyID: "key_1", Name: "rep one"}
		now := t0.Add(10 * time.Hour)
		until := now.Add(24 * time.Hour)
		if got, err := s.ActOnAlerts(ctx, []string{"al_001", "al_002"}, alerts.Action{Kind: alerts.ActionSnooze, By: by, Until: until, At: now}); err != nil ||
			!slices.Equal(got, []string{"al_001", "al_002"}) {
			t.Fatalf("snooze: %v, %v", got, err)
		}
		listed := func(status string, at time.Time) map[string]bool {
			rows, err := s.Alerts(ctx, alerts.Query{Status: status, Now: at, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			for _, r := range rows {
				ids[r.ID] = true
			}
			return ids
		}
		for _, tc := range []struct {
			status string
			at     time.Time
			want   bool
		}{
			{alerts.StatusActive, now.Add(time.Hour), false},
			{alerts.StatusOpen, now.Add(time.Hour), false},
			{alerts.StatusSnoozed, now.Add(time.Hour), true},
			{"", now.Add(time.Hour), true},
			{alerts.StatusActive, until, true}, // back by itself when the snooze ends
			{alerts.StatusOpen, until.Add(time.Hour), true},
			{alerts.StatusSnoozed, until, false},
		} {
			got := listed(tc.status, tc.at)
			if got["al_001"] != tc.want || got["al_002"] != tc.want {
				t.Errorf("status %q at %v: snoozed alerts listed %v, %v; want %v", tc.status, tc.at, got["al_001"], got["al_002"], tc.want)
			}
			if tc.status != alerts.StatusSnoozed && !got["al_003"] {
				t.Errorf("status %q at %v: an alert not snoozed is missing", tc.status, tc.at)
			}
		}
		a, err := s.Alert(ctx, "al_001")
		if err != nil || !a.SnoozedUntil.Equal(until) || a.Status != alerts.StatusOpen {
			t.Errorf("snoozed alert: %+v, %v", a, err)
		}
		// An acknowledged, snoozed alert is out of the acknowledged list
		// until the snooze ends.
		if _, err := s.ActOnAlerts(ctx, []string{"al_002"}, alerts.Action{Kind: alerts.ActionAcknowledge, By: by, At: now}); err != nil {
			t.Fatal(err)
		}
		if listed(alerts.StatusAcknowledged, now)["al_002"] || !listed(alerts.StatusAcknowledged, until)["al_002"] {
			t.Error("a snoozed acknowledged alert is listed as acknowledged during its snooze, or not after it")
		}
		// A resolved alert cannot be snoozed.
		if _, err := s.ActOnAlerts(ctx, []string{"al_004"}, alerts.Action{Kind: alerts.ActionResolve, By: by, At: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ActOnAlerts(ctx, []string{"al_004"}, alerts.Action{Kind: alerts.ActionSnooze, By: by, Until: until, At: now}); !errors.Is(err, store.ErrAlertState) {
			t.Errorf("snoozing a resolved alert: %v, want ErrAlertState", err)
		}
	})
}

func TestAlertBulkAcknowledge(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		inboxBook(t, s)
		by := alerts.Actor{KeyID: "key_1", Name: "rep one"}
		at := t0.Add(time.Hour)
		ack := alerts.Action{Kind: alerts.ActionAcknowledge, By: by, At: at}
		if _, err := s.ActOnAlerts(ctx, []string{"al_010"}, alerts.Action{Kind: alerts.ActionResolve, By: by, At: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ActOnAlerts(ctx, []string{"al_011"}, ack); err != nil {
			t.Fatal(err)
		}
		status := func(id string) string {
			a, err := s.Alert(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return a.Status
		}
		// All or nothing: an unknown id or a resolved alert fails the
		// whole request, naming the ids, and changes nothing.
		for _, tc := range []struct {
			ids  []string
			want error
			name string
		}{
			{[]string{"al_020", "al_021", "al_nope", "al_gone"}, store.ErrNoAlert, "al_nope, al_gone"},
			{[]string{"al_020", "al_010", "al_021"}, store.ErrAlertState, "al_010"},
		} {
			_, err := s.ActOnAlerts(ctx, tc.ids, ack)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.name) {
				t.Errorf("acknowledging %v: %v, want %v naming %s", tc.ids, err, tc.want, tc.name)
			}
			if status("al_020") != alerts.StatusOpen || status("al_021") != alerts.StatusOpen {
				t.Errorf("a failed bulk acknowledgement of %v changed alerts", tc.ids)
			}
		}
		got, err := s.ActOnAlerts(ctx, []string{"al_020", "al_011", "al_021", "al_020"}, ack)
		if err != nil || !slices.Equal(got, []string{"al_020", "al_021"}) {
			t.Errorf("bulk acknowledgement changed %v, %v; want [al_020 al_021] (al_011 was acknowledged already)", got, err)
		}
		for _, id := range []string{"al_020", "al_021", "al_011"} {
			if status(id) != alerts.StatusAcknowledged {
				t.Errorf("%s is %s after the bulk acknowledgement", id, status(id))
			}
		}
		// al_011's second acknowledgement changed nothing and is not
		// logged.
		acts, err := s.AlertActions(ctx, "acc_11", "", 0)
		if err != nil || len(acts) != 1 {
			t.Errorf("acc_11's actions: %+v, %v; want the one acknowledgement", acts, err)
		}
	})
}

// TestAlertBulkAcknowledgeConcurrent acknowledges overlapping sets of
// alerts from several goroutines at once: each alert is reported changed
// by exactly one of them and logged once.
func TestAlertBulkAcknowledgeConcurrent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		inboxBook(t, s)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			changed = map[string]int{}
		)
		for g := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var ids []string
				for i := range 40 { // alerts 100 to 159, each goroutine a different window of 40, in a different order
					ids = append(ids, fmt.Sprintf("al_%03d", 100+(g*7+i*(1+2*(g%3)))%60))
				}
				got, err := s.ActOnAlerts(ctx, ids, alerts.Action{Kind: alerts.ActionAcknowledge,
					By: alerts.Actor{KeyID: fmt.Sprint("key_", g), Name: fmt.Sprint("rep ", g)}, At: t0.Add(time.Hour)})
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				for _, id := range got {
					changed[id]++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		for id, n := range changed {
			if n != 1 {
				t.Errorf("alert %s reported changed by %d requests", id, n)
			}
		}
		logged := 0
		for i := range 30 {
			acts, err := s.AlertActions(ctx, fmt.Sprintf("acc_%02d", i), "", 0)
			if err != nil {
				t.Fatal(err)
			}
			logged += len(acts)
		}
		if len(changed) == 0 || logged != len(changed) {
			t.Errorf("%d alerts changed, %d acknowledgements logged", len(changed), logged)
		}
	})
}

func TestAlertActionLog(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		inboxBook(t, s)
		// acc_03's alerts: al_003, al_033, al_063, …
		rep := alerts.Actor{KeyID: "key_rep", Name: "rep one"}
		lead := alerts.Actor{KeyID: "key_lead", Name: "cs lead"}
		until := t0.AddDate(0, 0, 7)
		steps := []struct {
			id  string
			act alerts.Action
		}{
			{"al_003", alerts.Action{Kind: alerts.ActionAcknowledge, By: rep, At: t0.Add(1 * time.Hour)}},
			{"al_033", alerts.Action{Kind: alerts.ActionSnooze, By: rep, Until: until, At: t0.Add(2 * time.Hour)}},
			{"al_003", alerts.Action{Kind: alerts.ActionResolve, By: lead, Note: "called them; renewal signed", At: t0.Add(3 * time.Hour)}},
			{"al_004", alerts.Action{Kind: alerts.ActionAcknowledge, By: lead, At: t0.Add(4 * time.Hour)}}, // another account
		}
		for _, st := range steps {
			if _, err := s.ActOnAlerts(ctx, []string{st.id}, st.act); err != nil {
				t.Fatal(err)
			}
		}
		acts, err := s.AlertActions(ctx, "acc_03", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []alerts.Action{
			{AlertID: "al_003", AccountID: "acc_03", Rule: "band_drop", Kind: alerts.ActionResolve, By: lead, Note: "called them; renewal signed", At: t0.Add(3 * time.Hour)},
			{AlertID: "al_033", AccountID: "acc_03", Rule: "risk_jump", Kind: alerts.ActionSnooze, By: rep, Until: until, At: t0.Add(2 * time.Hour)},
			{AlertID: "al_003", AccountID: "acc_03", Rule: "band_drop", Kind: alerts.ActionAcknowledge, By: rep, At: t0.Add(1 * time.Hour)},
		}
		if len(acts) != len(want) {
			t.Fatalf("acc_03's timeline: %+v, want %d actions", acts, len(want))
		}
		for i := range want {
			got := acts[i]
			if !strings.HasPrefix(got.ID, "ac_") {
				t.Errorf("action %d: id %q", i, got.ID)
			}
			got.ID = ""
			if got.AlertID != want[i].AlertID || got.Rule != want[i].Rule || got.Kind != want[i].Kind || got.By != want[i].By ||
				got.Note != want[i].Note || !got.Until.Equal(want[i].Until) || !got.At.Equal(want[i].At) || got.AccountID != want[i].AccountID {
				t.Errorf("action %d: %+v, want %+v", i, got, want[i])
			}
		}
		one, err := s.AlertActions(ctx, "acc_03", "al_003", 0)
		if err != nil || len(one) != 2 || one[0].Kind != alerts.ActionResolve || one[1].Kind != alerts.ActionAcknowledge {
			t.Errorf("al_003's actions: %+v, %v", one, err)
		}
		if limited, err := s.AlertActions(ctx, "acc_03", "", 1); err != nil || len(limited) != 1 || limited[0].Kind != alerts.ActionResolve {
			t.Errorf("the latest action: %+v, %v", limited, err)
		}
	})
}
