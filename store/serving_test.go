package store_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

var t0 = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

func TestAPIKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		k := access.Key{ID: "key_1", Role: "admin", Hash: "abc", Name: "ops", CreatedAt: t0}
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAPIKey(ctx, access.Key{ID: "key_2", Role: "viewer", Hash: "abc", CreatedAt: t0}); err == nil {
			t.Error("a second key with the same hash was stored")
		}
		if err := s.RevokeAPIKey(ctx, "key_1", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAPIKey(ctx, "key_1", t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAPIKey(ctx, "nope", t0); !errors.Is(err, store.ErrUnknownKey) {
			t.Errorf("revoking an unknown key: %v, want ErrUnknownKey", err)
		}
		keys, err := s.APIKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || !keys[0].RevokedAt.Equal(t0.Add(time.Hour)) || keys[0].Hash != "abc" || keys[0].Role != "admin" {
			t.Errorf("keys = %+v", keys)
		}
	})
}

// testDetail is the detail every test score carries.
var testDetail = score.Detail{Horizon: "churns within 30 days", Components: map[string]score.Component{"usage": {Score: 40, Contribution: 0.4}},
	Reasons: []score.Reason{{Feature: "active_days_30d", Description: "Active days", Group: "usage", Value: ptr(3.0), Contribution: 0.4}}}

func ptr(x float64) *float64 { return &x }

func scoreOf(id string, asOf time.Time, version int64, p float64) score.Score {
	return score.Score{AccountID: id, Task: "churn", AsOf: asOf, ModelVersion: version, Owner: "rep-" + id[len(id)-1:],
		Probability: p, Health: 100 * (1 - p), Band: "green", ARR: 1200, RevenueAtRisk: p * 1200, Previous: math.NaN(),
		Detail: testDetail, Fingerprint: "f", ScoredAt: asOf}
}

func TestScoresAreIdempotentAndCurrent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		day2 := t0.AddDate(0, 0, 1)
		first := []score.Score{scoreOf("a1", t0, 1, 0.1), scoreOf("a2", t0, 1, 0.5), scoreOf("a3", t0, 1, 0.5)}
		for range 2 {
			if err := s.PutScores(ctx, first); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.CountScores(ctx, "churn"); err != nil || n != 3 {
			t.Fatalf("after storing 3 scores twice: %d rows, %v", n, err)
		}
		// A later score becomes current; an earlier one stored afterwards does not.
		later := scoreOf("a1", day2, 1, 0.7)
		later.Previous = 0.1
		if err := s.PutScores(ctx, []score.Score{later}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutScores(ctx, []score.Score{scoreOf("a1", t0.AddDate(0, 0, -1), 1, 0.2)}); err != nil {
			t.Fatal(err)
		}
		cur, err := s.CurrentScore(ctx, "a1", "churn")
		if err != nil || cur.Probability != 0.7 || cur.Previous != 0.1 || !reflect.DeepEqual(cur.Detail, testDetail) || cur.ModelVersion != 1 {
			t.Errorf("current score of a1 = %+v, %v", cur, err)
		}
		prev, err := s.PreviousProbabilities(ctx, "churn", day2, []string{"a1", "a2", "zz"})
		if err != nil || len(prev) != 2 || prev["a1"] != 0.1 || prev["a2"] != 0.5 {
			t.Errorf("previous = %v, %v", prev, err)
		}
		hist, err := s.ScoreHistory(ctx, "a1", "churn", 10)
		if err != nil || len(hist) != 3 || hist[0].Probability != 0.7 {
			t.Errorf("history = %+v, %v", hist, err)
		}
		if _, err := s.CurrentScore(ctx, "a9", "churn"); !errors.Is(err, store.ErrNoScore) {
			t.Errorf("score of an unscored account: %v", err)
		}

		// Keyset pages cover every row once, riskiest first.
		var got []string
		q := score.Query{Task: "churn", Limit: 2}
		for {
			page, err := s.CurrentScores(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, sc := range page {
				got = append(got, sc.AccountID)
			}
			if len(page) < q.Limit {
				break
			}
			last := page[len(page)-1]
			q.After = &score.Cursor{Probability: last.Probability, AccountID: last.AccountID}
		}
		if fmt.Sprint(got) != "[a1 a2 a3]" {
			t.Errorf("paged listing = %v", got)
		}
		owned, err := s.CurrentScores(ctx, score.Query{Task: "churn", Owner: "rep-2", Band: "green", Limit: 10})
		if err != nil || len(owned) != 1 || owned[0].AccountID != "a2" {
			t.Errorf("listing by owner = %+v, %v", owned, err)
		}
		tot, err := s.CurrentRiskTotals(ctx, "churn")
		if err != nil || tot.Accounts != 3 || math.Abs(tot.RevenueAtRisk-1200*(0.7+0.5+0.5)) > 1e-9 {
			t.Errorf("totals = %+v, %v", tot, err)
		}
	})
}

func alert(id string) (alerts.Alert, alerts.Delivery) {
	return alerts.Alert{ID: id, AccountID: "a1", Rule: "band_drop", Owner: "rep-1", Severity: "high", Message: "m",
			ObservedAt: t0, OpenedAt: t0},
		alerts.Delivery{ID: "d-" + id, Owner: "rep-1", Payload: []byte(`{"text":"m"}`), NextAttemptAt: t0, CreatedAt: t0}
}

func TestAlertsOneOpenAndCooldown(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		// Concurrent openers: exactly one wins.
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			opened int
		)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, d := alert(fmt.Sprint("al", i))
				ok, err := s.OpenAlert(ctx, a, d, t0.Add(-time.Hour))
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					opened++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if opened != 1 {
			t.Fatalf("%d concurrent openers succeeded, want 1", opened)
		}
		open, err := s.Alerts(ctx, alerts.Query{Status: "active"})
		if err != nil || len(open) != 1 {
			t.Fatalf("active alerts = %+v, %v", open, err)
		}
		id := open[0].ID
		by := alerts.Actor{KeyID: "key_1", Name: "ops"}
		act := func(kind string, id string, at time.Time) (alerts.Alert, error) {
			if _, err := s.ActOnAlerts(ctx, []string{id}, alerts.Action{Kind: kind, By: by, At: at}); err != nil {
				return alerts.Alert{}, err
			}
			return s.Alert(ctx, id)
		}
		if a, err := act(alerts.ActionAcknowledge, id, t0.Add(time.Minute)); err != nil || a.Status != alerts.StatusAcknowledged {
			t.Errorf("ack: %+v, %v", a, err)
		}
		resolvedAt := t0.Add(time.Hour)
		if a, err := act(alerts.ActionResolve, id, resolvedAt); err != nil || a.Status != alerts.StatusResolved || !a.ResolvedAt.Equal(resolvedAt) {
			t.Errorf("resolve: %+v, %v", a, err)
		}
		if _, err := act(alerts.ActionAcknowledge, id, resolvedAt); !errors.Is(err, store.ErrAlertState) {
			t.Errorf("acknowledging a resolved alert: %v", err)
		}
		if _, err := act(alerts.ActionResolve, "nope", resolvedAt); !errors.Is(err, store.ErrNoAlert) {
			t.Errorf("resolving an unknown alert: %v", err)
		}
		// Within the cooldown nothing opens; after it, a new alert does.
		a, d := alert("again")
		if ok, err := s.OpenAlert(ctx, a, d, resolvedAt.Add(-time.Minute)); err != nil || ok {
			t.Errorf("open within cooldown: %v, %v", ok, err)
		}
		if ok, err := s.OpenAlert(ctx, a, d, resolvedAt.Add(time.Minute)); err != nil || !ok {
			t.Errorf("open after cooldown: %v, %v", ok, err)
		}
	})
}

func TestOutboxClaims(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i := range 3 {
			a, d := alert(fmt.Sprint("o", i))
			a.Rule = fmt.Sprint("rule", i)
			if ok, err := s.OpenAlert(ctx, a, d, t0); err != nil || !ok {
				t.Fatal(ok, err)
			}
		}
		first, err := s.ClaimDeliveries(ctx, t0, time.Minute, 10)
		if err != nil || len(first) != 3 || first[0].Attempts != 1 {
			t.Fatalf("claimed %+v, %v", first, err)
		}
		if again, err := s.ClaimDeliveries(ctx, t0.Add(30*time.Second), time.Minute, 10); err != nil || len(again) != 0 {
			t.Errorf("claimed leased deliveries again: %+v, %v", again, err)
		}
		if err := s.MarkDelivered(ctx, first[0].ID, t0); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkFailed(ctx, first[1].ID, "503", t0.Add(time.Second), false); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkFailed(ctx, first[2].ID, "503", t0.Add(time.Second), true); err != nil {
			t.Fatal(err)
		}
		retry, err := s.ClaimDeliveries(ctx, t0.Add(2*time.Second), time.Minute, 10)
		if err != nil || len(retry) != 1 || retry[0].ID != first[1].ID || retry[0].Attempts != 2 || string(retry[0].Payload) != `{"text":"m"}` {
			t.Errorf("retry claim = %+v, %v", retry, err)
		}
		for status, want := range map[string]int{alerts.DeliveryDelivered: 1, alerts.DeliveryDead: 1, alerts.DeliveryPending: 1, "": 3} {
			if ds, err := s.Deliveries(ctx, status, 10); err != nil || len(ds) != want {
				t.Errorf("deliveries %q: %d, %v; want %d", status, len(ds), err, want)
			}
		}
	})
}

// TestScoreOfThePreviousRelease reads a score row as the previous release
// wrote it: the model version as text and the detail with each reason's
// sentence and without its description (testdata/score-detail-v0.json).
func TestScoreOfThePreviousRelease(t *testing.T) {
	detail, err := os.ReadFile(filepath.Join("testdata", "score-detail-v0.json"))
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for _, table := range []string{"scores", "current_scores"} {
			err := s.ExecRaw(ctx, `INSERT INTO `+table+` (account_id, task, as_of, model_version, owner, probability, health, band,
				pql, arr, revenue_at_risk, previous, detail, fingerprint, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)`,
				"a1", "churn", t0, "7", "rep-1", 0.3, 61.4, "yellow", false, 1200.0, 360.0, string(detail), "f", t0)
			if err != nil {
				t.Fatal(err)
			}
		}
		sc, err := s.CurrentScore(ctx, "a1", "churn")
		if err != nil {
			t.Fatal(err)
		}
		if sc.ModelVersion != 7 || sc.Health != 61.4 || !math.IsNaN(sc.Previous) || len(sc.Detail.Components) != 2 {
			t.Errorf("score = %+v", sc)
		}
		want := []string{
			"active_days_30d: 3 (typical 18); raises churn risk",
			"plan: pro; lowers churn risk",
			"nps_latest: unknown (typical 8); raises churn risk",
		}
		if len(sc.Detail.Reasons) != len(want) {
			t.Fatalf("reasons = %+v", sc.Detail.Reasons)
		}
		for i, r := range sc.Detail.Reasons {
			if got := r.Text(sc.Task); got != want[i] {
				t.Errorf("reason %d reads %q, want %q", i, got, want[i])
			}
		}
	})
}
