package api

import (
	"context"
	"log/slog"
	"math"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/openchurn/churn/features/load"
	"github.com/openchurn/churn/saas"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// TestMetricsEndpoints serves the golden history of saas/golden_test.go
// (testdata/metrics/history) and checks figures derived there; every
// response is validated against openapi.yaml.
func TestMetricsEndpoints(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		files, err := store.ExportFiles([]string{filepath.Join("..", "..", "testdata", "metrics", "history")}, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if _, err := store.LoadFile(ctx, s, f, nil, load.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		keys := map[access.Role]string{}
		for _, role := range []access.Role{access.Viewer, access.Ingest} {
			key, rec, err := access.NewKey(role, string(role)+" key", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.CreateAPIKey(ctx, rec); err != nil {
				t.Fatal(err)
			}
			keys[role] = key
		}
		srv := httptest.NewServer(New(s, nil, nil, Options{Logger: slog.New(slog.DiscardHandler),
			Metrics: saas.Options{GrossMargin: 0.8}}).Handler())
		defer srv.Close()
		c := newClient(t, srv.URL)
		viewer := keys[access.Viewer]

		// Spend sent over HTTP counts: 50 of sales in February.
		if code, body := c.do("POST", "/v1/ingest/spend", keys[access.Ingest],
			`[{"month": "2025-02", "channel": "ads", "kind": "sales", "amount": 50}]`); code != 200 {
			t.Fatalf("POST /v1/ingest/spend: %d %v", code, body)
		}

		get := func(path string) map[string]any {
			t.Helper()
			code, body := c.do("GET", path, viewer, nil)
			if code != 200 {
				t.Fatalf("GET %s: %d %v", path, code, body)
			}
			return body
		}
		near := func(what string, got any, want float64) {
			t.Helper()
			if f, ok := got.(float64); !ok || math.Abs(f-want) > 1e-9 {
				t.Errorf("%s = %v, want %v", what, got, want)
			}
		}
		q := "?from=2025-01&to=2025-03"
		mrr := get("/v1/metrics/mrr" + q)["data"].([]any)
		jan, feb := mrr[0].(map[string]any), mrr[1].(map[string]any)
		near("January new MRR", jan["new"], 70)
		near("January quick ratio", jan["quick_ratio"], 12.0/13)
		near("February end MRR", feb["end_mrr"], 600)

		ret := get("/v1/metrics/retention" + q)["data"].([]any)
		near("February renewal rate", ret[1].(map[string]any)["renewal_rate"], 1)
		if r := ret[0].(map[string]any); r["grr_t12m"] != nil || r["absent"].(map[string]any)["grr_t12m"] == "" {
			t.Errorf("January T12M GRR %v, want null with a reason", r)
		}

		coh := get("/v1/metrics/cohorts" + q + "&by=signup_month")
		if coh["by"] != "signup_month" || len(coh["data"].([]any)) != 1 {
			t.Errorf("cohorts %v", coh)
		}
		near("January cohort at 1 month", coh["data"].([]any)[0].(map[string]any)["revenue"].([]any)[1], 40.0/70)
		get("/v1/metrics/cohorts" + q + "&by=channel")

		ue := get("/v1/metrics/unit-economics" + q)["data"].(map[string]any)
		total := ue["total"].(map[string]any)
		near("CAC over the range", total["cac"], (600.0+50)/2)
		near("margin-adjusted LTV over the range", total["ltv_gross_margin"], 1424.0/3)
		near("February spend", ue["months"].([]any)[1].(map[string]any)["spend"], 50)

		funnel := get("/v1/metrics/funnel" + q)["data"].(map[string]any)
		ft := funnel["total"].(map[string]any)
		near("trials", ft["trials"], 2)
		if ft["activated"] != nil || ft["absent"].(map[string]any)["activated"] != "no key features are configured" {
			t.Errorf("activation without key features: %v", ft)
		}
		sup := get("/v1/metrics/support" + q)["data"].(map[string]any)
		if len(sup["months"].([]any)) != 3 || len(sup["nps"].([]any)) != 1 {
			t.Errorf("support %v", sup)
		}
		// The default range: the twelve months to the latest record.
		if d := get("/v1/metrics/mrr"); d["from"] != "2024-04" || d["to"] != "2025-03" {
			t.Errorf("default range %v to %v", d["from"], d["to"])
		}

		for _, bad := range []struct {
			path, key string
			want      int
		}{
			{"/v1/metrics/mrr?from=January", viewer, 400},
			{"/v1/metrics/mrr?from=2025-05&to=2025-01", viewer, 400},
			{"/v1/metrics/mrr?by=channel", viewer, 400},
			{"/v1/metrics/cohorts?by=plan", viewer, 400},
			{"/v1/metrics/retention", "", 401},
		} {
			if code, _ := c.do("GET", bad.path, bad.key, nil); code != bad.want {
				t.Errorf("GET %s: %d, want %d", bad.path, code, bad.want)
			}
		}
	})
}
