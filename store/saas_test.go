package store_test

import (
	"context"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/saas"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// TestMetricsInputs loads the metrics' optional inputs (spend, tickets'
// agent_replies) twice and reads them back with Each, and reads the first
// PQL flag of each account.
func TestMetricsInputs(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		spend := "month,channel,kind,amount\n2025-02,ads,marketing,500\n2025-01,ads,sales,100.25\n2025-01,ads,marketing,300\n"
		if res := mustLoadCSV(t, s, features.Spends, spend); res.Inserted != 3 || res.Orphans != (load.Orphans{}) {
			t.Errorf("first spend load %+v, want 3 inserted and no orphans (spend is by channel, of no account)", res)
		}
		if res := mustLoadCSV(t, s, features.Spends, spend); res.Unchanged != 3 {
			t.Errorf("second spend load %+v, want 3 unchanged", res)
		}
		mustLoadCSV(t, s, features.Tickets, "ticket_id,account_id,opened_at,priority,agent_replies\nt1,a,2025-01-02,low,2\nt2,a,2025-01-01,low,\n")
		month := func(m time.Month) time.Time { return time.Date(2025, m, 1, 0, 0, 0, 0, time.UTC) }
		var got []recordio.Record
		for _, table := range []features.Table{features.Spends, features.Tickets} {
			if err := s.Each(ctx, table, func(r recordio.Record) error { got = append(got, r); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		want := []recordio.Record{
			&features.Spend{Month: month(1), Channel: "ads", Kind: "marketing", Amount: 300},
			&features.Spend{Month: month(1), Channel: "ads", Kind: "sales", Amount: 100.25},
			&features.Spend{Month: month(2), Channel: "ads", Kind: "marketing", Amount: 500},
			&features.Ticket{TicketID: "t2", AccountID: "a", OpenedAt: month(1), Priority: "low"},
			&features.Ticket{TicketID: "t1", AccountID: "a", OpenedAt: month(1).AddDate(0, 0, 1), Priority: "low", AgentReplies: 2},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("read back\n got %+v\nwant %+v", got, want)
		}

		for _, sc := range []struct {
			account, task string
			day           int
			pql           bool
		}{{"a", "conversion", 3, false}, {"a", "conversion", 5, true}, {"a", "conversion", 9, true}, {"b", "churn", 2, true}, {"c", "conversion", 4, true}} {
			if err := s.ExecRaw(ctx, `INSERT INTO scores (account_id, task, as_of, model_version, probability, health, pql, fingerprint, scored_at)
				VALUES (?, ?, ?, 'v1', 0.5, 50, ?, 'f', ?)`, sc.account, sc.task, month(1).AddDate(0, 0, sc.day-1), sc.pql, month(2)); err != nil {
				t.Fatal(err)
			}
		}
		flags := map[string]time.Time{}
		if err := s.EachFirstPQL(ctx, "conversion", func(id string, at time.Time) error { flags[id] = at; return nil }); err != nil {
			t.Fatal(err)
		}
		if want := map[string]time.Time{"a": month(1).AddDate(0, 0, 4), "c": month(1).AddDate(0, 0, 3)}; !reflect.DeepEqual(flags, want) {
			t.Errorf("first PQLs %v, want %v", flags, want)
		}
	})
}

// TestEachTrialKeyUse finds the first and last key-feature use of each
// trial, within it.
func TestEachTrialKeyUse(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		mustLoadCSV(t, s, features.Accounts, "account_id,created_at,trial_started_at,trial_ends_at\ntrial,2025-01-01,2025-01-01,2025-01-15\n"+
			"open,2025-01-01,2025-01-01,\npaying,2024-01-01,,\n")
		mustLoadCSV(t, s, features.UsageEvents, "account_id,feature,at\ntrial,reports,2025-01-03\ntrial,login,2025-01-09\npaying,reports,2025-01-02\n"+
			"trial,export,2025-01-01\ntrial,reports,2025-01-15\nopen,reports,2024-12-31\nopen,reports,2025-03-01\nopen,export,2025-02-01\n")
		got := map[string][2]time.Time{}
		var order []string
		err := s.EachTrialKeyUse(ctx, []string{"reports", "export"}, func(id string, first, last time.Time) error {
			got[id] = [2]time.Time{first, last}
			order = append(order, id)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		day := func(m time.Month, d int) time.Time { return time.Date(2025, m, d, 0, 0, 0, 0, time.UTC) }
		// Not the login, the paying account's, the events before a trial or
		// at its end; all after the start of a trial that has no end.
		want := map[string][2]time.Time{"open": {day(2, 1), day(3, 1)}, "trial": {day(1, 1), day(1, 3)}}
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(order, []string{"open", "trial"}) {
			t.Errorf("key-feature use %v in order %v, want %v in account order", got, order, want)
		}
		if err := s.EachTrialKeyUse(ctx, nil, func(string, time.Time, time.Time) error { return errors.New("called") }); err != nil {
			t.Errorf("without key features: %v", err)
		}
	})
}

// usageMonths reads the usage rollup of s.
func usageMonths(t *testing.T, s *store.Store) []saas.UsageMonth {
	t.Helper()
	var got []saas.UsageMonth
	if err := s.EachUsageMonth(context.Background(), func(u saas.UsageMonth) error { got = append(got, u); return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

// rolledUp rolls up the usage events stored in s with saas.UsageRollup and
// sums the account-months by month: what the store's rollup must hold.
func rolledUp(t *testing.T, s *store.Store) []saas.UsageMonth {
	t.Helper()
	sums := map[saas.Month]*saas.UsageMonth{}
	r := saas.NewUsageRollup(func(_ string, u saas.UsageMonth) {
		m := sums[u.Month]
		if m == nil {
			m = &saas.UsageMonth{Month: u.Month}
			sums[u.Month] = m
		}
		m.Add(u)
	})
	err := s.Each(context.Background(), features.UsageEvents, func(rec recordio.Record) error { return r.Add(rec.(*features.UsageEvent)) })
	if err != nil {
		t.Fatal(err)
	}
	r.Flush()
	var out []saas.UsageMonth
	for _, m := range sums {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b saas.UsageMonth) int { return int(a.Month - b.Month) })
	return out
}

// usageRollupCSV holds events of two accounts over three months: users
// on several days, an event without a user, a month's last microsecond
// and a day's last second.
const usageRollupCSV = `event_id,account_id,user_id,feature,at
e1,a,u1,reports,2025-01-01T00:00:00Z
e2,a,u1,export,2025-01-01T23:59:59Z
e3,a,u2,reports,2025-01-02T10:00:00Z
e4,a,u1,reports,2025-01-02T11:00:00Z
e5,a,,login,2025-01-31T23:59:59.999999Z
e6,a,u1,reports,2025-02-01T00:00:00Z
e7,b,u9,reports,2025-01-15T08:00:00Z
e8,b,u9,reports,2025-03-15T08:00:00Z
`

// TestUsageRollup checks the rollup that loads of usage events keep
// against saas.UsageRollup over the stored events, and by hand: after a
// first load, after a re-sent one (which changes nothing), after loads
// that add events to months that have some and that replace an event.
func TestUsageRollup(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		jan, feb, mar := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		check := func(step string, want []saas.UsageMonth) {
			t.Helper()
			got := usageMonths(t, s)
			if !reflect.DeepEqual(got, rolledUp(t, s)) {
				t.Errorf("%s: rollup %+v, the events roll up to %+v", step, got, rolledUp(t, s))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: rollup\n got %+v\nwant %+v", step, got, want)
			}
		}
		stale := func() string {
			t.Helper()
			v, err := s.QueryString(context.Background(), "SELECT CAST(count(*) AS TEXT) || ' ' || CAST(coalesce(sum(marks), 0) AS TEXT) FROM usage_months_stale")
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		mustLoadCSV(t, s, features.UsageEvents, usageRollupCSV)
		// The load marks its accounts' months stale, which the next read
		// of the rollup rebuilds and clears; a second load marks again.
		if got := stale(); got != "2 2" {
			t.Errorf("after a load, %q stale accounts and marks, want 2 2", got)
		}
		mustLoadCSV(t, s, features.UsageEvents, usageRollupCSV)
		if got := stale(); got != "2 4" {
			t.Errorf("after a second load, %q stale accounts and marks, want 2 4", got)
		}
		// January: a has users u1 (days 1, 2) and u2 (day 2): 2 users, 3
		// user-days, features reports, export, login; b has u9 on one day.
		want := []saas.UsageMonth{
			{Month: saas.MonthOf(jan), Accounts: 2, Users: 3, UserDays: 4, Features: 4, Last: jan.AddDate(0, 1, 0).Add(-time.Microsecond)},
			{Month: saas.MonthOf(feb), Accounts: 1, Users: 1, UserDays: 1, Features: 1, Last: feb},
			{Month: saas.MonthOf(mar), Accounts: 1, Users: 1, UserDays: 1, Features: 1, Last: mar.AddDate(0, 0, 14).Add(8 * time.Hour)},
		}
		check("first load", want)
		if got := stale(); got != "0 0" {
			t.Errorf("after a read of the rollup, %q stale accounts and marks, want none", got)
		}
		if res := mustLoadCSV(t, s, features.UsageEvents, usageRollupCSV); res.Unchanged != 8 {
			t.Errorf("re-sent load %+v, want 8 unchanged", res)
		}
		check("re-sent load", want)
		// February gains u3 on two days and a feature; March a second
		// account.
		mustLoadCSV(t, s, features.UsageEvents, "event_id,account_id,user_id,feature,at\n"+
			"e9,a,u3,alerts,2025-02-10T00:00:00Z\ne10,a,u3,alerts,2025-02-11T00:00:00Z\ne11,c,u1,reports,2025-03-02T00:00:00Z\n")
		want[1] = saas.UsageMonth{Month: saas.MonthOf(feb), Accounts: 1, Users: 2, UserDays: 3, Features: 2, Last: feb.AddDate(0, 0, 10)}
		want[2].Accounts, want[2].Users, want[2].UserDays, want[2].Features = 2, 2, 2, 2
		check("added events", want)
		// e3 turns out to be u1's: a's January has one user, on two days.
		mustLoadCSV(t, s, features.UsageEvents, "event_id,account_id,user_id,feature,at\ne3,a,u1,reports,2025-01-02T10:00:00Z\n")
		want[0].Users, want[0].UserDays = 2, 3
		check("replaced event", want)
	})
}

// TestMigrateUsageRollup checks that migration 0014 rolls up the usage
// events a store already holds as loads do.
func TestMigrateUsageRollup(t *testing.T) {
	upgradeFrom(t, 13, func(t *testing.T, ctx context.Context, s *store.Store) {
		d, err := recordio.NewDecoder(strings.NewReader(usageRollupCSV), "usage.csv", features.UsageEvents, recordio.CSV, nil)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := d.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			e := rec.(*features.UsageEvent)
			if err := s.ExecRaw(ctx, "INSERT INTO usage_events (event_id, account_id, user_id, feature, at) VALUES (?, ?, ?, ?, ?)",
				e.EventID, e.AccountID, e.UserID, e.Feature, e.At); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		got, want := usageMonths(t, s), rolledUp(t, s)
		if len(want) != 3 || !reflect.DeepEqual(got, want) {
			t.Errorf("rollup after the upgrade %+v, want %+v", got, want)
		}
	})
}

// TestSupportCounts reads the tickets, escalations and survey responses as
// the support report does (EachSupportTicket, EachEscalationCount,
// EachSurveyCount) and record by record with Each, and gets the same
// report and the same end of data: the database's months are those of
// package saas, at a month's first and last instant, in 1970 too.
func TestSupportCounts(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		mustLoadCSV(t, s, features.Tickets, "ticket_id,account_id,opened_at,first_response_at,resolved_at,priority,category,csat,agent_replies\n"+
			"t1,a,2025-01-31T23:59:59.5Z,2025-02-01T00:00:00Z,2025-02-03T10:00:00Z,low,bug,5,1\n"+
			"t2,a,2025-01-02T08:00:00Z,,,high,,0,0\n"+
			"t3,b,2025-02-10T08:00:00Z,2025-02-10T09:30:00Z,2025-03-01T00:00:00Z,normal,billing,3,2\n")
		mustLoadCSV(t, s, features.Escalations, "escalation_id,account_id,at,direction,severity\n"+
			"x1,a,2025-01-31T23:59:59.999999Z,negative,low\nx2,a,2025-02-01T00:00:00Z,negative,low\n"+
			"x3,b,2025-02-14T12:00:00Z,positive,low\nx4,b,1970-01-31T23:59:59.5Z,negative,high\nx5,c,2025-02-20T12:00:00Z,negative,low\n")
		mustLoadCSV(t, s, features.SurveyResponses, "response_id,account_id,user_id,at,kind,score\n"+
			"r1,a,u1,2025-01-15T00:00:00Z,nps,10\nr2,a,u2,2025-01-20T00:00:00Z,nps,10\nr3,b,u3,2025-03-31T23:59:59Z,nps,8\n"+
			"r4,b,u3,2025-04-01T00:00:00Z,nps,3\nr5,a,u1,2025-02-01T00:00:00Z,csat,4\nr6,c,u4,2025-02-28T00:00:00Z,csat,2\n"+
			"r7,c,u4,1970-01-01T00:00:00Z,csat,5\nr8,c,u4,2025-02-28T23:00:00Z,csat,2\n")

		each, err := saas.NewBook(saas.Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Each(ctx, features.Tickets, func(r recordio.Record) error { each.AddTicket(r.(*features.Ticket)); return nil })
		if err == nil {
			err = s.Each(ctx, features.Escalations, func(r recordio.Record) error { each.AddEscalation(r.(*features.Escalation)); return nil })
		}
		if err == nil {
			err = s.Each(ctx, features.SurveyResponses, func(r recordio.Record) error {
				each.AddSurveyResponse(r.(*features.SurveyResponse))
				return nil
			})
		}
		if err != nil {
			t.Fatal(err)
		}
		each.Finish()

		counted, _ := saas.NewBook(saas.Options{})
		var escalations, surveys int
		err = s.EachSupportTicket(ctx, func(tk *features.Ticket) error {
			if tk.TicketID != "" || tk.AccountID != "" || tk.Priority != "" {
				t.Errorf("ticket %+v holds more than the metrics read", tk)
			}
			counted.AddTicket(tk)
			return nil
		})
		if err == nil {
			err = s.EachEscalationCount(ctx, func(day time.Time, direction string, n int, last time.Time) error {
				escalations += n
				if day.Hour() != 0 || day.Minute() != 0 || day.Second() != 0 || day.Nanosecond() != 0 || day.After(last) || !day.AddDate(0, 0, 1).After(last) {
					t.Errorf("escalations of day %v, the latest at %v", day, last)
				}
				counted.AddEscalations(saas.MonthOf(day), direction, n, last)
				return nil
			})
		}
		if err == nil {
			err = s.EachSurveyCount(ctx, func(day time.Time, kind string, score, n int, last time.Time) error {
				surveys += n
				if kind == "nps" && score == 10 && n != 1 {
					t.Errorf("NPS 10s of %v counted %d, want 1", day, n)
				}
				counted.AddSurveyResponses(saas.MonthOf(day), kind, score, n, last)
				return nil
			})
		}
		if err != nil {
			t.Fatal(err)
		}
		counted.Finish()
		if escalations != 5 || surveys != 8 {
			t.Errorf("counted %d escalations and %d survey responses, want 5 and 8", escalations, surveys)
		}

		for _, r := range []saas.Range{{From: saas.MonthOf(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)), To: saas.MonthOf(time.Date(1970, 2, 1, 0, 0, 0, 0, time.UTC))},
			{From: saas.MonthOf(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)), To: saas.MonthOf(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC))}} {
			want, err := each.Support(r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := counted.Support(r)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("support %v from the counts\n got %+v\nwant %+v", r, got, want)
			}
			if r.From.String() == "1970-01" && (want.Months[0].NegativeEscalations != 1 || want.Months[0].CSATRatings != 1) {
				t.Errorf("January 1970 %+v, want its escalation and its rating", want.Months[0])
			}
		}
		if got, want := counted.DataEnd(), each.DataEnd(); !got.Equal(want) {
			t.Errorf("end of data %v from the counts, want %v", got, want)
		}
	})
}
