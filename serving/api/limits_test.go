package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/demo"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/training/simulate"
)

// testServer is a server on a scored demo history, with a key of each
// role.
type testServer struct {
	store *store.Store
	srv   *Server
	url   string
	keys  map[access.Role]string
	batch *serving.Batch
}

// newTestServer generates and scores a small demo history on s and
// serves it.
func newTestServer(t *testing.T, s *store.Store, opts Options) *testServer {
	t.Helper()
	ctx := context.Background()
	cfg := simulate.Config{Accounts: 120, Months: 12, Seed: 5}
	if err := demo.Generate(ctx, s, cfg); err != nil {
		t.Fatal(err)
	}
	fc := demo.Features()
	if _, err := demo.Train(ctx, s, serving.TaskChurn, cfg.End(), fc, "logreg"); err != nil {
		t.Fatal(err)
	}
	scorer := &serving.Scorer{Registry: s, Reference: s, Bands: serving.DefaultBands()}
	eng := &alerts.Engine{Store: s, Rules: alerts.DefaultRules()}
	batch := &serving.Batch{Store: s, Scorer: scorer, Alerts: eng, Tasks: []string{serving.TaskChurn}, AsOf: cfg.End()}
	if _, err := batch.Run(ctx); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{store: s, keys: map[access.Role]string{}, batch: batch}
	for _, role := range []access.Role{access.Viewer, access.Ingest, access.Admin} {
		key, rec, err := access.NewKey(role, string(role)+" key", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAPIKey(ctx, rec); err != nil {
			t.Fatal(err)
		}
		ts.keys[role] = key
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ts.srv = New(s, scorer, eng, opts)
	hs := httptest.NewServer(ts.srv.Handler())
	t.Cleanup(hs.Close)
	ts.url = hs.URL
	return ts
}

// TestIngestLimits holds HTTP ingestion to the limits on both stores: rows
// at each limit are stored, rows past one are refused with a 422 naming
// the row, field and reason, and stored values at the limits flow through
// scoring, the SaaS metrics and the listings without a NaN, an Inf or a
// 500.
func TestIngestLimits(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ts := newTestServer(t, s, Options{})
		c := newClient(t, ts.url)
		ingest, viewer := ts.keys[access.Ingest], ts.keys[access.Viewer]
		big := strings.Repeat("é", 128) // 256 bytes
		at := time.Now().UTC().Add(-48 * time.Hour).Format(time.RFC3339)

		accepted := []struct{ table, body string }{
			{"accounts", fmt.Sprintf(`{"account_id":%q,"created_at":"2024-01-02","mrr":1e12,"seats":10000000,"owner":%q,"renewal_at":"2999-12-31"}`, big, big)},
			{"billing_changes", fmt.Sprintf(`{"change_id":%q,"account_id":%q,"at":%q,"mrr":1e12,"seats":10000000,"kind":"new"}`, big, big, at)},
			{"usage_events", fmt.Sprintf(`{"event_id":%q,"account_id":%q,"user_id":%q,"feature":%q,"at":%q,"count":1000000000,"duration_s":1e9,"errors":1000000000}`, big, big, big, big, at)},
			{"escalations", fmt.Sprintf(`{"escalation_id":%q,"account_id":%q,"at":"1970-01-01","direction":"positive","severity":"low","note":%q}`, big, big, strings.Repeat("ü\n", 2048))},
		}
		for _, a := range accepted {
			if code, body := c.do("POST", "/v1/ingest/"+a.table, ingest, a.body); code != 200 {
				t.Fatalf("%s at the limits: %d %v", a.table, code, body)
			}
		}

		refused := []struct{ table, body, field, reason string }{
			{"billing_changes", `{"change_id":"b","account_id":"a","at":"2024-02-01","mrr":1e308,"kind":"new"}`, "mrr", "1e+308 is not an amount from 0 to 1e+12"},
			{"usage_events", `{"account_id":"a","feature":"f","at":"2024-02-01","count":9223372036854775807}`, "count", "9223372036854775807 is not between 1 and 1000000000"},
			{"escalations", `{"escalation_id":"e","account_id":"a","at":"2024-02-01","direction":"negative","severity":"low","note":"a\u0000b"}`, "note", "holds a NUL byte at byte 1"},
			{"escalations", `{"escalation_id":"e","account_id":"a","at":"2024-02-01","direction":"negative","severity":"low","note":"\ud800"}`, "note", "holds a lone UTF-16 surrogate escape"},
			{"escalations", fmt.Sprintf(`{"escalation_id":%q,"account_id":"a","at":"2024-02-01","direction":"negative","severity":"low"}`, strings.Repeat("x", 10000)), "escalation_id", "is 10000 bytes long; ids are at most 256"},
			{"accounts", `{"account_id":"a\u001b[31m","created_at":"2024-01-01"}`, "account_id", "holds the non-printable character U+001B at byte 1; ids are printable text"},
			{"surveys", `{"response_id":"r","account_id":"a","at":"3000-01-01","kind":"nps","score":3}`, "at", "3000-01-01T00:00:00Z is not between 1970-01-01 and"},
			{"tickets", `{"ticket_id":"t","account_id":"a","opened_at":"1800-01-01","priority":"low"}`, "opened_at", "1800-01-01T00:00:00Z is not between 1970-01-01 and"},
			{"accounts", `{"account_id":"a","created_at":"0001-01-01"}`, "created_at", "0001-01-01T00:00:00Z is the zero time"},
			{"accounts", `{"account_id":"a","created_at":"2024-01-01","seats":10000001}`, "seats", "10000001 is not between 0 and 10000000"},
		}
		for _, r := range refused {
			// The bad row is the second, after a good one: nothing is stored.
			body := `{"account_id":"good","created_at":"2024-01-01"}` + "\n" + r.body
			if r.table != "accounts" {
				body = r.body
			}
			code, out := c.do("POST", "/v1/ingest/"+r.table, ingest, body)
			if code != 422 {
				t.Errorf("%s %.60s: %d, want 422: %v", r.table, r.body, code, out)
				continue
			}
			rows := out["error"].(map[string]any)["details"].(map[string]any)["rows"].([]any)
			row := rows[0].(map[string]any)
			wantRow := 1.0
			if r.table == "accounts" {
				wantRow = 2
			}
			if row["row"] != wantRow || row["field"] != r.field || !strings.HasPrefix(row["reason"].(string), r.reason) {
				t.Errorf("%s %.60s: refused as %v, want row %v, field %s, reason %q", r.table, r.body, row, wantRow, r.field, r.reason)
			}
		}
		if _, err := s.Account(context.Background(), "good"); err == nil {
			t.Error("a refused request stored its good row")
		}

		// Values at the limits through scoring, metrics and listings.
		ctx := context.Background()
		ts.batch.AsOf = time.Now().UTC().Truncate(time.Microsecond)
		if rep, err := ts.batch.Run(ctx); err != nil {
			t.Fatalf("batch over the limits: %+v, %v", rep, err)
		}
		for _, path := range []string{"/v1/metrics/saas", "/v1/metrics/saas?window_days=366", "/v1/accounts?limit=500",
			"/v1/accounts/" + big + "?refresh=true", "/v1/accounts/" + big} {
			if code, body := c.do("GET", path, viewer, nil); code != 200 {
				t.Errorf("GET %.60s: %d %v", path, code, body)
			}
		}
		if code, body := c.do("POST", "/v1/score", viewer, map[string]any{"account_ids": []string{big}}); code != 200 {
			t.Errorf("POST /v1/score: %d %v", code, body)
		}
		_, m := c.do("GET", "/v1/metrics/saas", viewer, nil)
		if mrr, _ := m["mrr"].(float64); mrr < 1e12 {
			t.Errorf("SaaS MRR %v does not hold the account of 1e12", m["mrr"])
		}
	})
}
