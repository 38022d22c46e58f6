package main

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/api"
	"github.com/openchurn/churn/store"
)

// TestTrainHorizonInWeeksIsServed trains with --horizon 2w and checks that
// serving uses 14 days everywhere: the scorer's horizon, the sentence, the
// health score's annualisation and /v1/models. Before the typed record,
// "2w" was stored as text that serving could not read, and it served 30.
func TestTrainHorizonInWeeksIsServed(t *testing.T) {
	db, truth := loadedStore(t, "sqlite")
	if code, _, stderr := churnctl(t, trainArgs(db, truth, "churn", "--horizon", "2w", "--every", "1w")...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	scorer := &serving.Scorer{Registry: s, Reference: s, Bands: serving.DefaultBands()}
	m, err := scorer.Model(ctx, serving.TaskChurn)
	if err != nil {
		t.Fatal(err)
	}
	if m.HorizonDays != 14 || !strings.Contains(m.Horizon, "within the 14 days") {
		t.Errorf("scorer reads horizon %v days: %q", m.HorizonDays, m.Horizon)
	}

	var h *features.History
	err = s.Histories(ctx, store.Shard{}, func(x *features.History) error {
		if h == nil && x.Account != nil && x.Account.ChurnedAt.IsZero() && !x.Account.ConvertedAt.IsZero() {
			h = x
		}
		return nil
	})
	if err != nil || h == nil {
		t.Fatalf("no paying account to score (%v)", err)
	}
	sc, err := scorer.ScoreHistory(ctx, serving.TaskChurn, h, m.Record.DataEnd.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if want := serving.Health(sc.Probability, 14); math.Abs(sc.Health-want) > 1e-9 {
		t.Errorf("health %v, want %v from a 14-day horizon (30 days would give %v)", sc.Health, want, serving.Health(sc.Probability, 30))
	}

	key, rec, err := access.NewKey(access.Viewer, "t", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx, rec); err != nil {
		t.Fatal(err)
	}
	srv := api.New(s, scorer, nil, api.Options{})
	req := httptest.NewRequest(http.MethodGet, "/v1/models?task=churn", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	rr := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rr, req)
	var body struct {
		Models []struct {
			Horizon string `json:"horizon"`
			Serving struct {
				Horizon string `json:"horizon"`
			} `json:"serving"`
		} `json:"items"`
	}
	if err := json.Unmarshal(rr.Body.Bytes(), &body); err != nil || rr.Code != http.StatusOK || len(body.Models) != 1 {
		t.Fatalf("/v1/models: %d %s (%v)", rr.Code, rr.Body, err)
	}
	if got := body.Models[0]; got.Horizon != "14d" || !strings.Contains(got.Serving.Horizon, "14 days") {
		t.Errorf("/v1/models says horizon %q, serving %q", got.Horizon, got.Serving.Horizon)
	}
}
