package today_test

import (
	"context"
	"io"
	"math"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/serving/today"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// accounts is a load.Source of accounts rows.
type accounts []*features.Account

func (r *accounts) Next() (recordio.Record, error) {
	if len(*r) == 0 {
		return nil, io.EOF
	}
	a := (*r)[0]
	*r = (*r)[1:]
	return a, nil
}

// TestBuild reads a small book from each store: two weekly batches, a
// trial, open and resolved alerts, and renewals in and past the window.
func TestBuild(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	asOf := t0.AddDate(0, 0, 7)
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rows := accounts{
			{AccountID: "c1", Owner: "rep-1", CreatedAt: t0, RenewalAt: asOf.AddDate(0, 0, 10)},
			{AccountID: "c2", Owner: "rep-1", CreatedAt: t0, RenewalAt: asOf.AddDate(0, 0, 90)},
			{AccountID: "c3", Owner: "rep-2", CreatedAt: t0, RenewalAt: asOf.AddDate(0, 0, 30)},
			{AccountID: "t1", Owner: "rep-1", CreatedAt: t0, TrialStartedAt: t0, TrialEndsAt: t0.AddDate(0, 0, 14)},
		}
		if _, err := s.Load(ctx, features.Accounts, &rows); err != nil {
			t.Fatal(err)
		}
		churn := func(id, owner string, at time.Time, p, prev, arr float64) score.Score {
			return score.Score{AccountID: id, Task: score.TaskChurn, AsOf: at, ModelVersion: 1, Owner: owner, Probability: p,
				Health: 100 * math.Pow(1-p, 12), Band: "yellow", ARR: arr, RevenueAtRisk: p * arr, Previous: prev, Fingerprint: "f", ScoredAt: at}
		}
		nan := math.NaN()
		for _, batch := range [][]score.Score{
			{churn("c1", "rep-1", t0, 0.10, nan, 12_000), churn("c2", "rep-1", t0, 0.049, nan, 6_000), churn("c3", "rep-2", t0, 0.02, nan, 50_000)},
			{churn("c1", "rep-1", asOf, 0.20, 0.10, 12_000), churn("c2", "rep-1", asOf, 0.05, 0.049, 6_000), churn("c3", "rep-2", asOf, 0.02, 0.02, 50_000),
				{AccountID: "t1", Task: score.TaskConversion, AsOf: asOf, ModelVersion: 2, Owner: "rep-1", Probability: 0.5, ARR: 6_000,
					RevenueAtRisk: 3_000, Previous: nan, Fingerprint: "f", ScoredAt: asOf}},
		} {
			if err := s.PutScores(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
		for _, a := range []alerts.Alert{
			{ID: "al-c2", AccountID: "c2", Rule: "usage_drop", Owner: "rep-1", Severity: "medium"},
			{ID: "al-t1", AccountID: "t1", Rule: "trial_going_cold", Owner: "rep-1", Severity: "medium"},
			{ID: "al-c3", AccountID: "c3", Rule: "usage_drop", Owner: "rep-2", Severity: "medium"},
		} {
			a.ObservedAt, a.OpenedAt = asOf, asOf
			d := alerts.Delivery{ID: "d-" + a.ID, Owner: a.Owner, Payload: []byte("{}"), NextAttemptAt: asOf, CreatedAt: asOf}
			if ok, err := s.OpenAlert(ctx, a, d, t0); err != nil || !ok {
				t.Fatalf("opening %s: %v, %v", a.ID, ok, err)
			}
		}
		if _, err := s.ActOnAlerts(ctx, []string{"al-c3"}, alerts.Action{Kind: alerts.ActionResolve, At: asOf}); err != nil {
			t.Fatal(err)
		}

		v, err := today.Build(ctx, s, "rep-1", asOf)
		if err != nil {
			t.Fatal(err)
		}
		if want := (today.Counts{Alerts: 2, Drops: 1, Renewals: 1}); v.Counts != want || !v.RenewalsBefore.Equal(asOf.AddDate(0, 0, today.RenewalDays)) {
			t.Errorf("rep-1's counts %+v, renewals before %v; want %+v, 60 days on", v.Counts, v.RenewalsBefore, want)
		}
		// t1: 0.5 × 6,000 expected ARR won; c1: 0.2 × 12,000 (renews,
		// and its rise of 0.1 is a drop); c2: an alert, 0.05 × 6,000 (its
		// rise of 0.001 is below MinRise).
		want := []struct {
			id    string
			value float64
		}{{"t1", 3_000}, {"c1", 2_400}, {"c2", 300}}
		if len(v.Items) != len(want) {
			t.Fatalf("rep-1's items %+v, want %v", v.Items, want)
		}
		for i, w := range want {
			if it := v.Items[i]; it.AccountID != w.id || math.Abs(it.Value-w.value) > 1e-6 {
				t.Errorf("item %d: %s at %v, want %s at %v", i, it.AccountID, it.Value, w.id, w.value)
			}
		}
		c1 := v.Items[1]
		if !c1.Renews || c1.Drop == nil || math.Abs(c1.Drop.PreviousHealth-100*math.Pow(0.9, 12)) > 1e-9 || math.Abs(c1.Drop.RiseARR-1_200) > 1e-6 {
			t.Errorf("c1: renews %v, drop %+v; want a renewal and a drop from health %.1f adding 1,200", c1.Renews, c1.Drop, 100*math.Pow(0.9, 12))
		}
		if v.Items[0].Task != score.TaskConversion || len(v.Items[0].Alerts) != 1 || len(v.Items[2].Alerts) != 1 {
			t.Errorf("the trial's and c2's items: %+v, %+v", v.Items[0], v.Items[2])
		}

		all, err := today.Build(ctx, s, "", asOf)
		if err != nil {
			t.Fatal(err)
		}
		if want := (today.Counts{Alerts: 2, Drops: 1, Renewals: 2}); all.Counts != want || len(all.Items) != 4 || all.Items[0].AccountID != "t1" {
			t.Errorf("every owner's counts %+v and items %+v; want %+v and c3's renewal among 4", all.Counts, all.Items, want)
		}
		none, err := today.Build(ctx, s, "rep-1", time.Time{})
		if err != nil || none.Counts.Renewals != 0 || len(none.Items) != 3 || !none.RenewalsBefore.IsZero() {
			t.Errorf("without an as-of time: %+v, %v; want no renewals", none, err)
		}
	})
}
