package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/demo"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
	"github.com/openchurn/churn/training/simulate"
)

// client calls a test server and validates every JSON response against
// the OpenAPI document.
type client struct {
	t      *testing.T
	base   string
	router routers.Router
}

func newClient(t *testing.T, base string) *client {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, router: router}
}

// do sends a request and returns the status and the decoded JSON body.
func (c *client) do(method, path, key string, body any) (int, map[string]any) {
	c.t.Helper()
	code, out, _ := c.doHeader(method, path, key, body)
	return code, out
}

// doHeader is do that also returns the response's header.
func (c *client) doHeader(method, path, key string, body any) (int, map[string]any, http.Header) {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("X-Request-Id") == "" {
		c.t.Errorf("%s %s: no X-Request-Id", method, path)
	}
	var out map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, &out); err != nil {
			c.t.Errorf("%s %s: body %q: %v", method, path, data, err)
		}
		c.validate(req, resp, data)
		if resp.StatusCode >= 400 {
			e, _ := out["error"].(map[string]any)
			if e == nil || e["code"] == "" || e["message"] == "" {
				c.t.Errorf("%s %s: error body %s", method, path, data)
			}
		}
	}
	return resp.StatusCode, out, resp.Header
}

func (c *client) validate(req *http.Request, resp *http.Response, body []byte) {
	c.t.Helper()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		if resp.StatusCode != http.StatusNotFound {
			c.t.Errorf("%s %s: not in openapi.yaml: %v", req.Method, req.URL.Path, err)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		c.t.Errorf("%s %s → %d does not match openapi.yaml: %v\nbody: %.400s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
}

// receiver collects webhook deliveries.
type receiver struct {
	mu     sync.Mutex
	got    map[string]alerts.Payload
	secret []byte
	bad    int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !alerts.Verify(r.secret, body, req.Header.Get(alerts.SignatureHeader)) {
		r.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p alerts.Payload
	json.Unmarshal(body, &p)
	r.got[p.IdempotencyKey] = p
}

func TestEndToEnd(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cfg := simulate.Config{Accounts: 300, Months: 12, Seed: 11}
		if err := demo.Generate(ctx, s, cfg); err != nil {
			t.Fatal(err)
		}
		fc := demo.Features()
		for _, task := range serving.Tasks {
			if _, err := demo.Train(ctx, s, task, cfg.End(), fc, "logreg"); err != nil {
				t.Fatal(err)
			}
		}
		scorer := &serving.Scorer{Registry: s, Reference: s, Bands: serving.DefaultBands()}
		eng := &alerts.Engine{Store: s, Rules: alerts.DefaultRules()}
		// Two batch runs a week apart, so that scores have a previous one
		// and score-change rules can fire.
		for _, asOf := range []time.Time{cfg.End().AddDate(0, 0, -7), cfg.End()} {
			rep, err := (&serving.Batch{Store: s, Scorer: scorer, Alerts: eng, Tasks: serving.Tasks, AsOf: asOf}).Run(ctx)
			if err != nil || len(rep.Failed) > 0 || rep.Scored[serving.TaskChurn] == 0 || rep.Scored[serving.TaskConversion] == 0 {
				t.Fatalf("batch as of %v: %+v, %v", asOf, rep, err)
			}
		}

		keys := map[access.Role]string{}
		for _, role := range []access.Role{access.Viewer, access.Ingest, access.Admin} {
			key, rec, err := access.NewKey(role, string(role)+" key", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.CreateAPIKey(ctx, rec); err != nil {
				t.Fatal(err)
			}
			keys[role] = key
		}
		srv := httptest.NewServer(New(s, scorer, eng, Options{Logger: slog.New(slog.DiscardHandler), AccessLog: true}).Handler())
		defer srv.Close()
		c := newClient(t, srv.URL)
		viewer, ingest, admin := keys[access.Viewer], keys[access.Ingest], keys[access.Admin]

		// Auth and roles, endpoint by endpoint.
		auth := []struct {
			method, path, key string
			body              any
			want              int
		}{
			{"GET", "/healthz", "", nil, 200},
			{"GET", "/readyz", "", nil, 200},
			{"GET", "/v1/accounts", "", nil, 401},
			{"GET", "/v1/accounts", "churn_not-a-key", nil, 401},
			{"GET", "/v1/accounts", viewer, nil, 200},
			{"GET", "/v1/trials", viewer, nil, 200},
			{"GET", "/v1/alerts", viewer, nil, 200},
			{"GET", "/v1/features", viewer, nil, 200},
			{"GET", "/v1/models", viewer, nil, 200},
			{"GET", "/v1/metrics/saas", viewer, nil, 200},
			{"POST", "/v1/ingest/escalations", viewer, "[]", 403},
			{"POST", "/v1/ingest/nope", ingest, "[]", 404},
			{"POST", "/v1/models/1/activate", ingest, nil, 403},
			{"GET", "/v1/keys", ingest, nil, 403},
			{"GET", "/v1/keys", admin, nil, 200},
			{"DELETE", "/v1/keys/key_nope", admin, nil, 404},
			{"GET", "/v1/accounts/NOPE", viewer, nil, 404},
			{"GET", "/v1/accounts?limit=0", viewer, nil, 400},
			{"GET", "/v1/accounts?band=purple", viewer, nil, 400},
			{"GET", "/v1/accounts?cursor=zzz", viewer, nil, 400},
			{"GET", "/v1/accounts?sort=name", viewer, nil, 400},
			{"GET", "/v1/trials?sort=arr", viewer, nil, 400},
			{"GET", "/v1/alerts/al_nope", viewer, nil, 404},
			{"GET", "/v1/alerts?status=lost", viewer, nil, 400},
			{"POST", "/v1/alerts/al_nope/ack", viewer, nil, 404},
			{"POST", "/v1/alerts/al_nope/snooze", viewer, `{"until":"2999-01-01"}`, 422},
			{"POST", "/v1/alerts/al_nope/resolve", viewer, `{"note":"gone"}`, 404},
			{"POST", "/v1/alerts/ack", viewer, `{"ids":["al_nope"]}`, 404},
			{"POST", "/v1/alerts/ack", "", `{"ids":["al_nope"]}`, 401},
			{"GET", "/v1/alerts?sort=severity_arr&rule=band_drop,renewal_at_risk&severity=high", viewer, nil, 200},
			{"POST", "/v1/score", viewer, `{"task":"x","account_ids":["a"]}`, 400},
			{"POST", "/v1/score", viewer, `not json`, 400},
			{"GET", "/v1/nothing", viewer, nil, 404},
		}
		for _, tc := range auth {
			if got, body := c.do(tc.method, tc.path, tc.key, tc.body); got != tc.want {
				t.Errorf("%s %s with %.12q: %d, want %d: %v", tc.method, tc.path, tc.key, got, tc.want, body)
			}
		}

		// Accounts: pages cover every scored account once, riskiest first.
		var (
			seen = map[string]bool{}
			prev = 2.0
			path = "/v1/accounts?limit=37"
			id   string
		)
		for path != "" {
			code, page := c.do("GET", path, viewer, nil)
			if code != 200 {
				t.Fatalf("GET %s: %d %v", path, code, page)
			}
			for _, it := range page["items"].([]any) {
				row := it.(map[string]any)
				p, a := row["probability"].(float64), row["account_id"].(string)
				if p > prev || seen[a] {
					t.Fatalf("listing out of order or repeated at %s", a)
				}
				prev, seen[a] = p, true
				if id == "" {
					id = a
				}
			}
			path = ""
			if next, _ := page["next_cursor"].(string); next != "" {
				path = "/v1/accounts?limit=37&cursor=" + next
			}
		}
		totals, err := s.CurrentRiskTotals(ctx, serving.TaskChurn)
		if err != nil || int64(len(seen)) != totals.Accounts {
			t.Errorf("pages listed %d accounts, %d are scored (%v)", len(seen), totals.Accounts, err)
		}
		_, red := c.do("GET", "/v1/accounts?band=red&owner=rep-01", viewer, nil)
		for _, it := range red["items"].([]any) {
			if row := it.(map[string]any); row["band"] != "red" || row["owner"] != "rep-01" {
				t.Errorf("filtered listing holds %v", row)
			} else if h := row["health"].(float64); h != math.Round(10*h)/10 {
				t.Errorf("health %v has more than one decimal", h)
			}
		}

		// One account: health, components, reasons, trend.
		_, acc := c.do("GET", "/v1/accounts/"+id, viewer, nil)
		churn, _ := acc["churn"].(map[string]any)
		if churn == nil || churn["source"] != "stored" || len(churn["reasons"].([]any)) == 0 || churn["previous_probability"] == nil {
			t.Errorf("account %s: %v", id, acc)
		} else if len(acc["trend"].([]any)) != 2 {
			t.Errorf("trend of %s: %v", id, acc["trend"])
		}
		if info, _ := acc["account"].(map[string]any); info == nil || info["attributes"] == nil || info["attributes"].(map[string]any)["channel"] == "" {
			t.Errorf("account %s carries no channel attribute: %v", id, acc["account"])
		}
		if _, fresh := c.do("GET", "/v1/accounts/"+id+"?refresh=true", viewer, nil); fresh["churn"] == nil {
			t.Errorf("refresh: %v", fresh)
		}

		// Trials.
		_, trials := c.do("GET", "/v1/trials?sort=conversion", viewer, nil)
		items := trials["items"].([]any)
		if len(items) == 0 {
			t.Fatal("no scored trials")
		}
		trialID := items[0].(map[string]any)["account_id"].(string)
		if code, tr := c.do("GET", "/v1/trials/"+trialID, viewer, nil); code != 200 || tr["conversion"] == nil {
			t.Errorf("trial %s: %d %v", trialID, code, tr)
		}
		if code, _ := c.do("GET", "/v1/trials?pql=true", viewer, nil); code != 200 {
			t.Errorf("pql filter: %d", code)
		}
		// The trials worklist by expected ARR won, with its facts; the
		// accounts by ARR at risk in a segment, with their names.
		_, byValue := c.do("GET", "/v1/trials", viewer, nil)
		prev = math.Inf(1)
		for _, it := range byValue["items"].([]any) {
			row := it.(map[string]any)
			if v := row["revenue_at_risk"].(float64); v > prev || row["trial"] == nil || row["name"] == "" {
				t.Errorf("trials by value: %v after %v", row, prev)
			} else {
				prev = v
			}
		}
		_, byARR := c.do("GET", "/v1/accounts?sort=arr&segment=smb&limit=50", viewer, nil)
		prev = math.Inf(1)
		for _, it := range byARR["items"].([]any) {
			row := it.(map[string]any)
			if v := row["revenue_at_risk"].(float64); v > prev || row["segment"] != "smb" || row["name"] == "" {
				t.Errorf("accounts by ARR at risk in smb: %v after %v", row, prev)
			} else {
				prev = v
			}
		}
		if len(byARR["items"].([]any)) == 0 {
			t.Error("no smb account listed by ARR at risk")
		}

		// On-demand scoring of accounts and raw vectors.
		code, scored := c.do("POST", "/v1/score", viewer, map[string]any{"account_ids": []string{id, trialID}})
		if code != 200 || len(scored["results"].([]any)) != 4 {
			t.Errorf("POST /v1/score: %d %v", code, scored)
		}
		past := "2024-01-01T00:00:00Z"
		code, scored = c.do("POST", "/v1/score", viewer, map[string]any{"task": "churn", "as_of": past, "account_ids": []string{id}})
		if res, _ := scored["results"].([]any); code != 200 || len(res) != 1 {
			t.Errorf("POST /v1/score as of %s: %d %v", past, code, scored)
		} else if sc, _ := res[0].(map[string]any)["score"].(map[string]any); sc != nil && sc["as_of"] != past {
			t.Errorf("POST /v1/score as of %s scored as of %v", past, sc["as_of"])
		}
		if code, body := c.do("POST", "/v1/score", viewer, map[string]any{"account_ids": []string{id, "no-such-account"}}); code != 404 {
			t.Errorf("scoring an unknown account: %d %v, want 404", code, body)
		}
		if code, body := c.do("POST", "/v1/score", viewer, map[string]any{"task": "churn",
			"vectors": []map[string]any{{"id": "v2", "features": map[string]float64{"no_such_feature": 1}}}}); code != 422 {
			t.Errorf("scoring an unknown feature: %d %v, want 422", code, body)
		}
		code, scored = c.do("POST", "/v1/score", viewer, map[string]any{"task": "churn",
			"vectors": []map[string]any{{"id": "v1", "features": map[string]float64{"mrr": 500, "active_days_30d": 2}}}})
		res, _ := scored["results"].([]any)
		if code != 200 || len(res) != 1 || res[0].(map[string]any)["score"] == nil {
			t.Errorf("scoring vectors: %d %v", code, scored)
		}
		if p := res[0].(map[string]any)["score"].(map[string]any)["probability"].(float64); p != math.Round(p*1e4)/1e4 {
			t.Errorf("probability %v has more than 4 digits", p)
		}

		// Models: the active conversion model shows its PQL threshold.
		_, ms := c.do("GET", "/v1/models", viewer, nil)
		var pql any
		for _, it := range ms["items"].([]any) {
			m := it.(map[string]any)
			if m["task"] == "conversion" && m["state"] == "active" {
				pql = m["serving"].(map[string]any)["pql_threshold"]
			}
			// The figures the models page shows: test AUC, Brier, lift.
			test, _ := m["metrics"].(map[string]any)["test"].(map[string]any)
			if test == nil || test["auc"] != m["test_auc"] || test["brier"] == nil || test["top_decile_lift"] == nil {
				t.Errorf("model %v: metrics %v, want the test AUC %v, Brier and lift", m["version"], m["metrics"], m["test_auc"])
			}
		}
		if pql == nil {
			t.Errorf("no PQL threshold among %v", ms)
		}
		if code, body := c.do("POST", "/v1/models/1/activate", admin, nil); code != 200 {
			t.Errorf("activate: %d %v", code, body)
		}

		// Features and SaaS metrics.
		if _, f := c.do("GET", "/v1/features", viewer, nil); len(f["features"].([]any)) < 30 {
			t.Errorf("features: %v", f)
		}
		if _, m := c.do("GET", "/v1/metrics/saas?window_days=30", viewer, nil); m["mrr"].(float64) <= 0 || m["arr_at_risk"].(float64) <= 0 {
			t.Errorf("saas metrics: %v", m)
		}

		// Ingestion: a bad body stores nothing and names every bad row.
		code, bad := c.do("POST", "/v1/ingest/escalations", ingest,
			`[{"escalation_id":"x1","account_id":"`+id+`","at":"2025-01-01T00:00:00Z","direction":"sideways","severity":"high"},`+
				`{"escalation_id":"x2","account_id":"`+id+`","at":"2025-01-01T00:00:00Z","direction":"negative","severity":"high"},`+
				`{"escalation_id":"","account_id":"`+id+`","at":"2025-01-01T00:00:00Z","direction":"negative","severity":"high"}]`)
		rows, _ := bad["error"].(map[string]any)["details"].(map[string]any)["rows"].([]any)
		if code != 422 || len(rows) != 2 || rows[0].(map[string]any)["field"] != "direction" || rows[1].(map[string]any)["row"].(float64) != 3 {
			t.Errorf("bad ingest: %d %v", code, bad)
		}
		// Two valid records with one key: refused, naming the later row and
		// the earlier, and nothing stored.
		twice := `{"escalation_id":"x9","account_id":"` + id + `","at":"2025-01-01T00:00:00Z","direction":"negative","severity":"high"}` + "\n"
		code, dup := c.do("POST", "/v1/ingest/escalations", ingest, twice+twice)
		rows, _ = dup["error"].(map[string]any)["details"].(map[string]any)["rows"].([]any)
		if code != 422 || len(rows) != 1 || rows[0].(map[string]any)["row"].(float64) != 2 ||
			!strings.Contains(rows[0].(map[string]any)["reason"].(string), "already given at line 1") {
			t.Errorf("repeated key: %d %v", code, dup)
		}
		code, last := c.do("POST", "/v1/ingest/escalations?duplicates=last", ingest, twice+twice)
		if res, _ := last["result"].(map[string]any); code != 200 || res["superseded"].(float64) != 1 || res["inserted"].(float64) != 1 {
			t.Errorf("repeated key, last wins: %d %v", code, last)
		}
		if code, _ := c.do("POST", "/v1/ingest/escalations?duplicates=first", ingest, twice); code != 400 {
			t.Errorf("duplicates=first: %d, want 400", code)
		}
		// A field that is no column is stored without and named; strict
		// refuses it, and refuses rows for accounts nobody knows.
		extra := `{"escalation_id":"x10","account_id":"` + id + `","at":"2025-01-01T00:00:00Z","direction":"negative","severity":"low","colour":"red"}`
		code, named := c.do("POST", "/v1/ingest/escalations", ingest, extra)
		if ig, _ := named["ignored_fields"].([]any); code != 200 || len(ig) != 1 || ig[0] != "colour" {
			t.Errorf("unknown field: %d %v, want it named in ignored_fields", code, named)
		}
		if code, strict := c.do("POST", "/v1/ingest/escalations?strict=true", ingest, extra); code != 422 || !strings.Contains(fmt.Sprint(strict), "colour") {
			t.Errorf("unknown field, strict: %d %v, want 422 naming it", code, strict)
		}
		orphan := `{"escalation_id":"x11","account_id":"nobody-knows","at":"2025-01-01T00:00:00Z","direction":"negative","severity":"low"}`
		if code, o := c.do("POST", "/v1/ingest/escalations?strict=true", ingest, orphan); code != 422 || !strings.Contains(fmt.Sprint(o), "nobody-knows") {
			t.Errorf("orphan, strict: %d %v, want 422 naming the account", code, o)
		}
		if code, _ := c.do("POST", "/v1/ingest/escalations?strict=maybe", ingest, extra); code != 400 {
			t.Errorf("strict=maybe: %d, want 400", code)
		}
		// A negative escalation raises its alert at ingestion; sending it
		// again opens nothing; after resolving, the cooldown holds.
		now := time.Now().UTC().Format(time.RFC3339)
		esc := `{"escalation_id":"esc-live","account_id":"` + id + `","at":"` + now + `","direction":"negative","severity":"critical","note":"exec unhappy"}` + "\n"
		code, ok := c.do("POST", "/v1/ingest/escalations", ingest, esc)
		if code != 200 || ok["alerts_opened"].(float64) != 1 {
			t.Fatalf("ingesting an escalation: %d %v", code, ok)
		}
		if _, again := c.do("POST", "/v1/ingest/escalations", ingest, esc); again["alerts_opened"].(float64) != 0 {
			t.Errorf("the same escalation opened another alert: %v", again)
		}
		_, open := c.do("GET", "/v1/alerts?status=open&account_id="+id, viewer, nil)
		var alertID string
		for _, it := range open["items"].([]any) {
			if a := it.(map[string]any); a["rule"] == "negative_escalation" {
				alertID = a["id"].(string)
			}
		}
		if alertID == "" {
			t.Fatalf("no open negative_escalation alert: %v", open)
		}
		if code, a := c.do("GET", "/v1/alerts/"+alertID, viewer, nil); code != 200 || a["id"] != alertID || a["status"] != "open" {
			t.Errorf("GET /v1/alerts/%s: %d %v", alertID, code, a)
		}
		if code, _ := c.do("GET", "/v1/alerts/al_nope", viewer, nil); code != 404 {
			t.Errorf("GET an unknown alert: %d, want 404", code)
		}
		if code, a := c.do("POST", "/v1/alerts/"+alertID+"/ack", viewer, nil); code != 200 || a["status"] != "acknowledged" {
			t.Errorf("ack: %d %v", code, a)
		}
		if code, a := c.do("POST", "/v1/alerts/"+alertID+"/resolve", viewer, nil); code != 200 || a["status"] != "resolved" {
			t.Errorf("resolve: %d %v", code, a)
		}
		if code, _ := c.do("POST", "/v1/alerts/"+alertID+"/ack", viewer, nil); code != 409 {
			t.Errorf("acknowledging a resolved alert: %d, want 409", code)
		}
		if _, cool := c.do("POST", "/v1/ingest/escalations", ingest, strings.ReplaceAll(esc, "esc-live", "esc-live-2")); cool["alerts_opened"].(float64) != 0 {
			t.Errorf("an escalation within the cooldown opened an alert: %v", cool)
		}

		// Webhooks: every alert reaches the receiver once, signed.
		rc := &receiver{got: map[string]alerts.Payload{}, secret: []byte("whsec")}
		hook := httptest.NewServer(rc)
		defer hook.Close()
		wh := alerts.DefaultWebhook()
		wh.URL, wh.Secret = hook.URL, "whsec"
		d := &alerts.Dispatcher{Outbox: s, Webhook: wh, Logger: slog.New(slog.DiscardHandler)}
		if _, _, err := d.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		all, err := s.Alerts(ctx, alerts.Query{Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if len(rc.got) != len(all) || rc.bad != 0 || len(all) < 2 {
			t.Errorf("receiver got %d alerts (%d badly signed), the store holds %d", len(rc.got), rc.bad, len(all))
		}
		rules := map[string]int{}
		for _, a := range all {
			rules[a.Rule]++
			if p, ok := rc.got[a.ID]; !ok || p.Alert.Owner != a.Owner || p.Text == "" {
				t.Errorf("alert %s delivered as %+v", a.ID, p)
			}
		}
		t.Logf("alerts by rule: %v", rules)

		// Keys: create, use, revoke.
		code, created := c.do("POST", "/v1/keys", admin, map[string]string{"role": "viewer", "name": "rep"})
		if code != 201 {
			t.Fatalf("create key: %d %v", code, created)
		}
		if code, _ := c.do("GET", "/v1/alerts", created["key"].(string), nil); code != 200 {
			t.Errorf("new key: %d", code)
		}
		if code, _ := c.do("DELETE", "/v1/keys/"+created["id"].(string), admin, nil); code != 204 {
			t.Errorf("revoke: %d", code)
		}
		if code, _ := c.do("GET", "/v1/alerts", created["key"].(string), nil); code != 401 {
			t.Errorf("revoked key: %d, want 401", code)
		}

		// A rep's key: its owner is stored and listed, and scopes the
		// listings and Today by default; owner=all and owner=ID look past it.
		// The rep is one with a trial that went cold, so that its book has
		// accounts, trials and alerts.
		var me string
		for _, a := range all {
			if a.Rule == "trial_going_cold" {
				me = a.Owner
			}
		}
		other := "rep-02"
		if me == other {
			other = "rep-03"
		}
		code, rep := c.do("POST", "/v1/keys", admin, map[string]string{"role": "viewer", "name": "a rep", "owner": me})
		if code != 201 || me == "" || rep["owner"] != me {
			t.Fatalf("create a key owned by %q: %d %v", me, code, rep)
		}
		repKey := rep["key"].(string)
		_, listed := c.do("GET", "/v1/keys", admin, nil)
		owners := map[string]any{}
		for _, it := range listed["items"].([]any) {
			k := it.(map[string]any)
			owners[k["id"].(string)] = k["owner"]
		}
		if owners[rep["id"].(string)] != me || len(owners) < 4 {
			t.Errorf("GET /v1/keys: owners %v, want %s for %s and \"\" for the others", owners, me, rep["id"])
		}
		for _, body := range []map[string]string{{"role": "viewer", "owner": "all"}, {"role": "viewer", "owner": "rep\u0001"},
			{"role": "viewer", "owner": strings.Repeat("r", 257)}} {
			if code, e := c.do("POST", "/v1/keys", admin, body); code != 400 {
				t.Errorf("a key owned by %.20q: %d %v, want 400", body["owner"], code, e)
			}
		}
		ownersOf := func(path, key string) map[string]int {
			t.Helper()
			code, page := c.do("GET", path, key, nil)
			if code != 200 {
				t.Fatalf("GET %s: %d %v", path, code, page)
			}
			got := map[string]int{}
			for _, it := range page["items"].([]any) {
				got[it.(map[string]any)["owner"].(string)]++
			}
			return got
		}
		scoped := map[string]struct {
			key  string
			want string // the only owner listed, "" for several
		}{
			"/v1/accounts?limit=500":                {repKey, me},
			"/v1/accounts?limit=500&owner=" + other: {repKey, other},
			"/v1/accounts?limit=500&owner=all":      {repKey, ""},
			"/v1/accounts?limit=500&owner=" + me:    {viewer, me},
			"/v1/trials?limit=500":                  {repKey, me},
			"/v1/trials?limit=500&owner=all":        {repKey, ""},
			"/v1/alerts?limit=500&status=active":    {repKey, me},
			"/v1/alerts?limit=500&owner=all":        {repKey, ""},
		}
		for path, tc := range scoped {
			got := ownersOf(path, tc.key)
			if tc.want != "" && (len(got) != 1 || got[tc.want] == 0) {
				t.Errorf("GET %s: owners %v, want only %s", path, got, tc.want)
			}
			if tc.want == "" && len(got) < 2 {
				t.Errorf("GET %s: owners %v, want every owner's", path, got)
			}
		}
		for _, path := range []string{"/v1/accounts?owner=rep%01", "/v1/trials?owner=" + strings.Repeat("r", 257), "/v1/alerts?owner=rep%7F",
			"/v1/today?owner=rep%01"} {
			if code, e := c.do("GET", path, repKey, nil); code != 400 {
				t.Errorf("GET %.40s: %d %v, want 400", path, code, e)
			}
		}
		// Today: the key's own book, ranked by expected ARR lost.
		for _, tc := range []struct {
			path, key, owner string
		}{{"/v1/today", repKey, me}, {"/v1/today?owner=all", repKey, ""}, {"/v1/today", viewer, ""}, {"/v1/today?owner=" + other, viewer, other}} {
			code, td := c.do("GET", tc.path, tc.key, nil)
			if code != 200 || td["owner"] != tc.owner {
				t.Fatalf("GET %s: %d %v, want the book of %q", tc.path, code, td, tc.owner)
			}
			items := td["items"].([]any)
			counts := td["counts"].(map[string]any)
			// Every book renews within 60 days; the whole book has drops.
			if len(items) == 0 || counts["renewals"].(float64) == 0 || (tc.owner == "" && counts["health_drops"].(float64) == 0) || td["rule"] == "" {
				t.Errorf("GET %s: %d items, counts %v", tc.path, len(items), counts)
			}
			prev, owners := math.Inf(1), map[string]bool{}
			for _, it := range items {
				item := it.(map[string]any)
				v := item["expected_arr_lost"].(float64)
				if v > prev {
					t.Errorf("GET %s: %v ranked after %v", tc.path, item, prev)
				}
				prev, owners[item["owner"].(string)] = v, true
				if item["alerts"] == nil || (len(item["alerts"].([]any)) == 0 && item["health_drop"] == nil && item["renewal_at"] == nil) {
					t.Errorf("GET %s: item %v has no reason to be listed", tc.path, item)
				}
				if d, _ := item["health_drop"].(map[string]any); d != nil && d["rise_arr"].(float64) <= 0 {
					t.Errorf("GET %s: a health drop that added no expected ARR lost: %v", tc.path, item)
				}
			}
			if tc.owner != "" && (len(owners) != 1 || !owners[tc.owner]) {
				t.Errorf("GET %s: items of %v, want only %s's", tc.path, owners, tc.owner)
			}
		}

		// The OpenAPI document itself.
		resp, err := http.Get(srv.URL + "/openapi.yaml")
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(doc, OpenAPI()) {
			t.Errorf("GET /openapi.yaml: %d, %d bytes", resp.StatusCode, len(doc))
		}

		// Metrics in Prometheus text format.
		resp, err = http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(text, []byte(`churn_http_requests_total{code="200",method="GET",route="/v1/accounts"}`)) {
			t.Errorf("/metrics lacks request counts:\n%.500s", text)
		}
	})
}

func TestRateLimitAndBodyLimit(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	key, rec, _ := access.NewKey(access.Ingest, "", time.Now())
	if err := s.CreateAPIKey(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(s, nil, nil, Options{RatePerSecond: 0.001, Burst: 1, BodyLimit: "1K"}).Handler())
	defer srv.Close()
	c := newClient(t, srv.URL)
	if code, body := c.do("POST", "/v1/ingest/escalations", key, strings.Repeat(" ", 2048)); code != 413 {
		t.Errorf("a large body: %d %v", code, body)
	}
	// The refused body never reached authentication, so it took no token.
	if code, _ := c.do("GET", "/v1/alerts", key, nil); code != 200 {
		t.Errorf("first request: %d", code)
	}
	if code, _ := c.do("GET", "/v1/alerts", key, nil); code != 429 {
		t.Errorf("second request: %d, want 429", code)
	}
}

func TestReadyzFailsWithoutStore(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	srv := httptest.NewServer(New(s, nil, nil, Options{}).Handler())
	defer srv.Close()
	c := newClient(t, srv.URL)
	if code, _ := c.do("GET", "/readyz", "", nil); code != 200 {
		t.Errorf("readyz: %d", code)
	}
	s.Close()
	if code, body := c.do("GET", "/readyz", "", nil); code != 503 {
		t.Errorf("readyz with a closed store: %d %v", code, body)
	}
	if code, _ := c.do("GET", "/healthz", "", nil); code != 200 {
		t.Errorf("healthz: %d", code)
	}
}

// TestAlertInbox drives the alert inbox over HTTP on both stores: 150
// open alerts (more than the 100 that once capped the listing) on
// accounts ingested through the API, paged in both orders, filtered,
// acknowledged in bulk, snoozed and resolved with a note, with the
// actions read back.
func TestAlertInbox(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		keys := map[access.Role]string{}
		for _, role := range []access.Role{access.Viewer, access.Ingest} {
			key, rec, err := access.NewKey(role, "rep-7", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := s.CreateAPIKey(ctx, rec); err != nil {
				t.Fatal(err)
			}
			keys[role] = key
		}
		viewer := keys[access.Viewer]
		srv := httptest.NewServer(New(s, nil, &alerts.Engine{Store: s, Rules: alerts.DefaultRules()}, Options{}).Handler())
		defer srv.Close()
		c := newClient(t, srv.URL)

		// 20 accounts, MRR 100 × (i mod 5) (every fifth without MRR), the
		// even ones with a churn score.
		var accounts strings.Builder
		var scores []score.Score
		asOf := time.Now().UTC().Truncate(time.Hour).Add(-24 * time.Hour)
		for i := range 20 {
			fmt.Fprintf(&accounts, `{"account_id":"acc_%02d","name":"Account %02d","mrr":%d,"created_at":"2024-01-01"}`+"\n", i, i, 100*(i%5))
			if i%2 == 0 {
				scores = append(scores, score.Score{AccountID: fmt.Sprintf("acc_%02d", i), Task: serving.TaskChurn, AsOf: asOf, ModelVersion: 1,
					Probability: 0.2, Health: 40.04, Band: serving.Red, ARR: 1, Previous: math.NaN(), Fingerprint: "f", ScoredAt: asOf})
			}
		}
		if code, body := c.do("POST", "/v1/ingest/accounts", keys[access.Ingest], accounts.String()); code != 200 {
			t.Fatalf("ingesting accounts: %d %v", code, body)
		}
		if err := s.PutScores(ctx, scores); err != nil {
			t.Fatal(err)
		}
		rules := alerts.DefaultRules().Names()
		const n = 150
		for i := range n {
			at := asOf.Add(time.Duration(i/2) * time.Minute)
			a := alerts.Alert{ID: fmt.Sprintf("al_%03d", i), AccountID: fmt.Sprintf("acc_%02d", i%20), Rule: rules[i/20],
				Owner: "rep-7", Severity: alerts.Severities[i%len(alerts.Severities)], Message: "m", ObservedAt: at.Add(-time.Hour), OpenedAt: at}
			d := alerts.Delivery{ID: "d_" + a.ID, Payload: []byte(`{}`), NextAttemptAt: at, CreatedAt: at}
			if ok, err := s.OpenAlert(ctx, a, d, asOf.Add(-time.Hour)); err != nil || !ok {
				t.Fatalf("opening %s: %v %v", a.ID, ok, err)
			}
		}

		// list pages through path and returns every item in order.
		list := func(path string) []map[string]any {
			t.Helper()
			var out []map[string]any
			for next := path; next != ""; {
				code, page := c.do("GET", next, viewer, nil)
				if code != 200 {
					t.Fatalf("GET %s: %d %v", next, code, page)
				}
				for _, it := range page["items"].([]any) {
					out = append(out, it.(map[string]any))
				}
				next = ""
				if cur, _ := page["next_cursor"].(string); cur != "" {
					next = path + "&cursor=" + cur
				}
			}
			return out
		}
		ids := func(items []map[string]any) []string {
			var out []string
			for _, it := range items {
				out = append(out, it["id"].(string))
			}
			return out
		}
		for _, sort := range []string{"", "severity_arr", "newest"} {
			items := list("/v1/alerts?status=active&limit=40&sort=" + sort)
			if got := ids(items); len(got) != n || len(slices.Compact(slices.Sorted(slices.Values(got)))) != n {
				t.Fatalf("sort=%s: %d alerts listed, %d distinct; want %d", sort, len(got), len(slices.Compact(slices.Sorted(slices.Values(got)))), n)
			}
			for i := 1; i < len(items); i++ {
				a, b := items[i-1], items[i]
				if sort != "newest" && a["priority"].(float64) < b["priority"].(float64) ||
					a["priority"] == b["priority"] && a["opened_at"].(string) < b["opened_at"].(string) {
					t.Fatalf("sort=%s: %v before %v", sort, a, b)
				}
				if sort == "newest" && a["opened_at"].(string) < b["opened_at"].(string) {
					t.Fatalf("sort=newest: %v before %v", a, b)
				}
			}
		}
		all := list("/v1/alerts?limit=500")
		if len(all) != n {
			t.Fatalf("limit=500: %d alerts, want all %d on one page", len(all), n)
		}
		byID := map[string]map[string]any{}
		for _, it := range all {
			byID[it["id"].(string)] = it
			if h, ok := it["health"].(float64); ok && h != math.Round(10*h)/10 {
				t.Errorf("%s: health %v has more than one decimal", it["id"], h)
			}
		}
		// al_002: acc_02, MRR 200, scored red at 40.04 (shown 40.0), medium (weight 4);
		// al_005: acc_05, no MRR and no score.
		if a := byID["al_002"]; a["account_name"] != "Account 02" || a["health"] != 40.0 || a["band"] != "red" || a["arr"] != 2400.0 ||
			a["priority"] != 2400.0*4 || a["observed_at"] == a["opened_at"] {
			t.Errorf("al_002: %v", a)
		}
		if a := byID["al_005"]; a["account_name"] != "Account 05" || a["health"] != nil || a["arr"] != 0.0 || a["priority"] != 0.0 {
			t.Errorf("al_005: %v", a)
		}

		// Filters, several values each way.
		for _, tc := range []struct {
			query      string
			rules, sev []string
		}{
			{"rule=usage_drop", []string{"usage_drop"}, nil},
			{"rule=usage_drop&rule=band_drop", []string{"usage_drop", "band_drop"}, nil},
			{"rule=usage_drop,band_drop&severity=high,critical", []string{"usage_drop", "band_drop"}, []string{"high", "critical"}},
			{"severity=info&severity=low", nil, []string{"info", "low"}},
		} {
			var want []string
			for _, it := range all {
				if (tc.rules == nil || slices.Contains(tc.rules, it["rule"].(string))) && (tc.sev == nil || slices.Contains(tc.sev, it["severity"].(string))) {
					want = append(want, it["id"].(string))
				}
			}
			got := ids(list("/v1/alerts?limit=7&" + tc.query))
			slices.Sort(got)
			slices.Sort(want)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("%s: %v, want %v", tc.query, got, want)
			}
		}
		_, first := c.do("GET", "/v1/alerts?sort=newest&limit=1", viewer, nil)
		newestCursor := first["next_cursor"].(string)
		for _, q := range []string{"rule=nope", "rule=band_drop,nope", "severity=urgent", "sort=arr", "status=lost", "colour=red",
			"limit=501", "cursor=zzz", "cursor=" + newestCursor, "sort=severity_arr&cursor=" + newestCursor} {
			if code, body := c.do("GET", "/v1/alerts?"+q, viewer, nil); code != 400 {
				t.Errorf("GET /v1/alerts?%s: %d %v, want 400", q, code, body)
			}
		}
		if code, _ := c.do("GET", "/v1/alerts?sort=newest&cursor="+newestCursor, viewer, nil); code != 200 {
			t.Errorf("a newest-first cursor with sort=newest: %d", code)
		}

		status := func(id string) string {
			t.Helper()
			code, a := c.do("GET", "/v1/alerts/"+id, viewer, nil)
			if code != 200 {
				t.Fatalf("GET /v1/alerts/%s: %d %v", id, code, a)
			}
			return a["status"].(string)
		}
		// Bulk acknowledgement: all or none.
		if code, a := c.do("POST", "/v1/alerts/al_009/resolve", viewer, nil); code != 200 || a["status"] != "resolved" {
			t.Fatalf("resolving without a note: %d %v", code, a)
		}
		for _, tc := range []struct {
			body string
			want int
		}{
			{`{"ids":["al_000","al_001","al_nope"]}`, 404},
			{`{"ids":["al_000","al_009","al_001"]}`, 409},
			{`{"ids":[]}`, 400},
			{`{"ids":["al_000",""]}`, 400},
			{`{"idz":["al_000"]}`, 400},
			{`["al_000"]`, 400},
			{``, 400},
		} {
			code, body := c.do("POST", "/v1/alerts/ack", viewer, tc.body)
			if code != tc.want {
				t.Errorf("POST /v1/alerts/ack %s: %d %v, want %d", tc.body, code, body, tc.want)
			}
			if tc.want == 404 && !strings.Contains(fmt.Sprint(body), "al_nope") || tc.want == 409 && !strings.Contains(fmt.Sprint(body), "al_009") {
				t.Errorf("POST /v1/alerts/ack %s: %v does not name the alert at fault", tc.body, body)
			}
			if status("al_000") != "open" || status("al_001") != "open" {
				t.Fatalf("a refused bulk acknowledgement (%s) changed alerts", tc.body)
			}
		}
		code, res := c.do("POST", "/v1/alerts/ack", viewer, `{"ids":["al_000","al_001","al_000"]}`)
		if code != 200 || fmt.Sprint(res["acknowledged"]) != "[al_000 al_001]" || fmt.Sprint(res["unchanged"]) != "[]" {
			t.Errorf("bulk ack: %d %v", code, res)
		}
		code, res = c.do("POST", "/v1/alerts/ack", viewer, `{"ids":["al_001","al_002"]}`)
		if code != 200 || fmt.Sprint(res["acknowledged"]) != "[al_002]" || fmt.Sprint(res["unchanged"]) != "[al_001]" {
			t.Errorf("bulk ack again: %d %v", code, res)
		}
		if got := ids(list("/v1/alerts?status=acknowledged&limit=50")); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"al_000", "al_001", "al_002"}) {
			t.Errorf("acknowledged alerts: %v", got)
		}

		// Snooze: refused dates, then a snooze that ends by itself.
		now := time.Now().UTC()
		for _, body := range []string{`{"until":"` + now.AddDate(0, 0, -1).Format(time.DateOnly) + `"}`, `{"until":"soon"}`, `{}`,
			`{"until":"` + now.AddDate(2, 0, 0).Format(time.DateOnly) + `"}`, `{"until":"` + now.Add(-time.Minute).Format(time.RFC3339) + `"}`} {
			if code, b := c.do("POST", "/v1/alerts/al_003/snooze", viewer, body); code != 422 {
				t.Errorf("snooze %s: %d %v, want 422", body, code, b)
			}
		}
		if code, _ := c.do("POST", "/v1/alerts/al_009/snooze", viewer, `{"until":"`+now.AddDate(0, 0, 2).Format(time.DateOnly)+`"}`); code != 409 {
			t.Errorf("snoozing a resolved alert: %d, want 409", code)
		}
		tomorrow := now.AddDate(0, 0, 2).Format(time.DateOnly)
		if code, a := c.do("POST", "/v1/alerts/al_003/snooze", viewer, `{"until":"`+tomorrow+`"}`); code != 200 || a["snoozed_until"] != tomorrow+"T00:00:00Z" {
			t.Errorf("snooze until %s: %d %v", tomorrow, code, a)
		}
		soon := now.Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
		if code, a := c.do("POST", "/v1/alerts/al_004/snooze", viewer, `{"until":"`+soon.Format(time.RFC3339)+`"}`); code != 200 {
			t.Errorf("snooze until %s: %d %v", soon, code, a)
		}
		active := ids(list("/v1/alerts?status=active&limit=500"))
		if slices.Contains(active, "al_003") || slices.Contains(active, "al_004") || len(active) != n-3 {
			t.Errorf("active alerts while two are snoozed and one resolved: %d, al_003 %v, al_004 %v", len(active),
				slices.Contains(active, "al_003"), slices.Contains(active, "al_004"))
		}
		if got := ids(list("/v1/alerts?status=snoozed&limit=50")); !slices.Equal(slices.Sorted(slices.Values(got)), []string{"al_003", "al_004"}) {
			t.Errorf("snoozed alerts: %v", got)
		}
		time.Sleep(time.Until(soon) + 100*time.Millisecond)
		if active := ids(list("/v1/alerts?status=active&limit=500")); !slices.Contains(active, "al_004") || slices.Contains(active, "al_003") {
			t.Errorf("after al_004's snooze ended: al_004 listed %v, al_003 %v", slices.Contains(active, "al_004"), slices.Contains(active, "al_003"))
		}

		// Resolve with a note; the alert's actions, newest first, by key.
		for _, body := range []string{`{"note":"` + strings.Repeat("x", 2001) + `"}`, `{"note":"a\u0000b"}`} {
			if code, _ := c.do("POST", "/v1/alerts/al_000/resolve", viewer, body); code != 422 {
				t.Errorf("resolve with a bad note: %d, want 422", code)
			}
		}
		if code, _ := c.do("POST", "/v1/alerts/al_000/resolve", viewer, `{"reason":"x"}`); code != 400 {
			t.Errorf("resolve with an unknown field: %d, want 400", code)
		}
		if code, a := c.do("POST", "/v1/alerts/al_000/resolve", viewer, `{"note":"Called the champion; renewal signed"}`); code != 200 || a["status"] != "resolved" {
			t.Errorf("resolve with a note: %d %v", code, a)
		}
		for id, want := range map[string]string{"al_000": "resolve acknowledge", "al_003": "snooze", "al_009": "resolve", "al_005": ""} {
			code, a := c.do("GET", "/v1/alerts/"+id, viewer, nil)
			var kinds []string
			for _, x := range a["actions"].([]any) {
				act := x.(map[string]any)
				kinds = append(kinds, act["action"].(string))
				if by := act["by"].(map[string]any); by["name"] != "rep-7" || by["key_id"] == "" || act["alert_id"] != id {
					t.Errorf("%s: action %v", id, act)
				}
			}
			if code != 200 || strings.Join(kinds, " ") != want {
				t.Errorf("GET /v1/alerts/%s: %d, actions %v, want %s", id, code, kinds, want)
			}
			if id == "al_000" && a["actions"].([]any)[0].(map[string]any)["note"] != "Called the champion; renewal signed" {
				t.Errorf("al_000's resolution lost its note: %v", a["actions"])
			}
		}
	})
}
