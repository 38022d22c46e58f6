package store_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/features/recordio"
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

// TestEachTrialUsage reads the key-feature events of trials, within
// them, only.
func TestEachTrialUsage(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for table, csv := range map[features.Table]string{
			features.Accounts: "account_id,created_at,trial_started_at,trial_ends_at\ntrial,2025-01-01,2025-01-01,2025-01-15\n" +
				"open,2025-01-01,2025-01-01,\npaying,2024-01-01,,\n",
			features.UsageEvents: "account_id,feature,at\ntrial,reports,2025-01-03\ntrial,login,2025-01-02\npaying,reports,2025-01-02\n" +
				"trial,export,2025-01-01\ntrial,reports,2025-01-15\nopen,reports,2024-12-31\nopen,reports,2025-03-01\n",
		} {
			d, err := recordio.NewDecoder(strings.NewReader(csv), string(table)+".csv", table, recordio.CSV, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Load(ctx, table, d); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		err := s.EachTrialUsage(ctx, []string{"reports", "export"}, func(e *features.UsageEvent) error {
			got = append(got, e.AccountID+" "+e.Feature)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Not the login, the paying account's, the events before a trial or
		// at its end; all after the start of a trial that has no end.
		if want := []string{"open reports", "trial export", "trial reports"}; !reflect.DeepEqual(got, want) {
			t.Errorf("events %v, want %v", got, want)
		}
	})
}
