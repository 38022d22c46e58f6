package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/trainer"
)

// client is a signed-in HTTP client of the fixture that does not follow
// redirects, so that tests see them.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, f *fixture, key string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: f.URL, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if key != "" {
		if resp, _ := c.signin(key, "/"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %s", resp.Status)
		}
	}
	return c
}

// signin posts the sign-in form with key, as a browser does: with the
// form's token and this site's Origin.
func (c *client) signin(key, next string) (*http.Response, string) {
	c.t.Helper()
	return c.do("POST", "/signin", url.Values{"key": {key}, "next": {next}, "csrf": {c.csrf("/signin")}})
}

func (c *client) do(method, path string, form url.Values) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", c.base)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the anti-forgery token the page at path carries.
func (c *client) csrf(path string) string {
	c.t.Helper()
	_, body := c.do("GET", path, nil)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("%s carries no csrf token", path)
	}
	return m[1]
}

func TestSignInCookie(t *testing.T) {
	f := demoServer(t)
	c := newClient(t, f, "")
	resp, _ := c.signin(f.Keys[access.Viewer], "//evil.example/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("sign-in with an off-site next: %s to %q, want 303 to /", resp.Status, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "churn_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure || session.Path != "/" {
		t.Errorf("session cookie %+v, want HttpOnly, SameSite=Strict, not Secure on plain HTTP, path /", session)
	}
}

func TestPages(t *testing.T) {
	f := demoServer(t)
	anon, viewer, admin := newClient(t, f, ""), newClient(t, f, f.Keys[access.Viewer]), newClient(t, f, f.Keys[access.Admin])
	rows, err := f.Store.ScoreRows(context.Background(), score.ListQuery{Task: "churn", Limit: 1})
	if err != nil || len(rows) == 0 {
		t.Fatal(err)
	}
	account := "/accounts/" + rows[0].AccountID
	var churned, converted string
	err = f.Store.Histories(context.Background(), store.Shard{}, func(h *features.History) error {
		if a := h.Account; a != nil && !a.ChurnedAt.IsZero() && churned == "" {
			churned = "/accounts/" + a.AccountID
		} else if a != nil && !a.ConvertedAt.IsZero() && a.ChurnedAt.IsZero() && converted == "" {
			converted = "/accounts/" + a.AccountID
		}
		return nil
	})
	if err != nil || churned == "" || converted == "" {
		t.Fatalf("the fixture has no churned (%q) or converted (%q) account: %v", churned, converted, err)
	}
	tests := []struct {
		name     string
		c        *client
		path     string
		status   int
		contains string
	}{
		{"anonymous is sent to sign in", anon, "/accounts?band=red", http.StatusSeeOther, ""},
		{"sign-in form", anon, "/signin", http.StatusOK, `<label for="key">API key</label>`},
		{"static CSS", anon, "/static/app.css", http.StatusOK, "--green"},
		{"accounts", viewer, "/", http.StatusOK, `<table class="list" id="accounts">`},
		{"accounts by ARR at risk", viewer, "/accounts?sort=arr", http.StatusOK, "most ARR at risk first"},
		{"accounts of a segment", viewer, "/accounts?segment=smb", http.StatusOK, " · smb · as of "},
		{"unknown band", viewer, "/accounts?band=purple", http.StatusBadRequest, "band must be one of"},
		{"forged cursor", viewer, "/accounts?after=%3Cscript%3E", http.StatusBadRequest, "not one this dashboard made"},
		{"account", viewer, account, http.StatusOK, `<h2 id="why-h">Why</h2>`},
		{"account's context", viewer, account, http.StatusOK, `<h2 id="context-h">Context</h2>`},
		{"account's attributes in its header", viewer, account, http.StatusOK, " · Channel: "},
		{"freshness line", viewer, account, http.StatusOK, `<p class="fresh sub">Data through `},
		{"churned account", viewer, churned, http.StatusOK, `role="status">Churned on `},
		{"converted trial", viewer, converted, http.StatusOK, `role="status">Converted to paid on `},
		{"rows show their as-of", viewer, "/accounts", http.StatusOK, ` · as of `},
		{"unknown account, escaped", viewer, "/accounts/%3Cscript%3E", http.StatusNotFound, "&lt;script&gt;"},
		{"trials", viewer, "/trials", http.StatusOK, `id="trials"`},
		{"PQLs", viewer, "/trials?pql=true", http.StatusOK, `class="pql"`},
		{"trials worklist", viewer, "/trials", http.StatusOK, `<th scope="col" class="num">Expected MRR</th>`},
		{"an idle trial's missing reason said", viewer, "/trials", http.StatusOK, `class="reason">Nothing stands out from the typical account</td>`},
		{"one seat in the singular", viewer, "/trials", http.StatusOK, ` of 1 seat</td>`},
		{"trials by conversion", viewer, "/trials?sort=conversion", http.StatusOK, "likeliest to convert first"},
		{"trials by expected ARR won", viewer, "/trials", http.StatusOK, "most expected ARR won first"},
		{"unknown trial sort", viewer, "/trials?sort=name", http.StatusBadRequest, "sort must be one of"},
		{"alerts", viewer, "/alerts", http.StatusOK, `id="inbox"`},
		{"resolved alerts", viewer, "/alerts?status=resolved", http.StatusOK, "<h1>Alerts</h1>"},
		{"unknown status", viewer, "/alerts?status=lost", http.StatusBadRequest, "status must be one of"},
		{"snoozed alerts", viewer, "/alerts?status=snoozed", http.StatusOK, "<h1>Alerts</h1>"},
		{"filtered alerts", viewer, "/alerts?rule=band_drop&rule=renewal_at_risk&severity=high&sort=newest", http.StatusOK, `value="band_drop" checked`},
		{"unknown rule", viewer, "/alerts?rule=nope", http.StatusBadRequest, "not a configured alert rule"},
		{"unknown severity", viewer, "/alerts?severity=urgent", http.StatusBadRequest, "severity"},
		{"unknown sort", viewer, "/alerts?sort=arr", http.StatusBadRequest, "sort must be one of"},
		{"foreign page link", viewer, "/alerts?after=zzz", http.StatusBadRequest, "page link"},
		{"models as viewer", viewer, "/models", http.StatusOK, "needs an admin key"},
		{"models as admin", admin, "/models", http.StatusOK, `<th scope="col">Action</th>`},
		{"model report", viewer, "/models/1/report", http.StatusOK, "ROC"},
		{"bad model version", viewer, "/models/one/report", http.StatusBadRequest, "a model version is a number"},
		{"unknown model", viewer, "/models/999/report", http.StatusNotFound, "model not found"},
		{"portfolio", viewer, "/portfolio", http.StatusOK, "Net revenue retention"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.c.do("GET", tc.path, nil)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.contains) {
				t.Errorf("GET %s: %s, want %d with %q; body starts %.300q", tc.path, resp.Status, tc.status, tc.contains, body)
			}
		})
	}
	if resp, _ := anon.do("GET", "/accounts?band=red", nil); resp.Header.Get("Location") != "/signin?next=%2Faccounts%3Fband%3Dred" {
		t.Errorf("anonymous redirect to %q", resp.Header.Get("Location"))
	}
}

func TestActionsNeedTokenAndRole(t *testing.T) {
	f := demoServer(t)
	viewer, admin := newClient(t, f, f.Keys[access.Viewer]), newClient(t, f, f.Keys[access.Admin])
	a := f.openAlert(t)
	open, err := f.Store.Alerts(context.Background(), alerts.Query{Status: alerts.StatusOpen, Sort: alerts.SortNewest, Limit: 2})
	if err != nil || len(open) < 2 {
		t.Fatalf("the fixture has fewer than two open alerts: %v", err)
	}
	bAlert := open[0]
	if bAlert.ID == a.ID {
		bAlert = open[1]
	}
	b := bAlert.ID
	day := func(days int) string { return time.Now().UTC().AddDate(0, 0, days).Format(time.DateOnly) }
	ms, err := f.Store.Models(context.Background(), "churn")
	if err != nil {
		t.Fatal(err)
	}
	var candidate int64
	for _, m := range ms {
		if m.State == trainer.ModelCandidate {
			candidate = m.Version
		}
	}
	if candidate == 0 {
		t.Fatalf("the fixture has no candidate model: %+v", ms)
	}
	activate := "/models/" + strconv.FormatInt(candidate, 10) + "/activate"
	viewerToken, adminToken := viewer.csrf("/alerts"), admin.csrf("/alerts")
	tests := []struct {
		name   string
		c      *client
		path   string
		form   url.Values
		status int
	}{
		{"ack without a token", viewer, "/alerts/" + a.ID + "/ack", url.Values{"back": {"/alerts"}}, http.StatusForbidden},
		{"ack with another session's token", viewer, "/alerts/" + a.ID + "/ack", url.Values{"csrf": {adminToken}}, http.StatusForbidden},
		{"viewer activates", viewer, activate, url.Values{"csrf": {viewerToken}}, http.StatusForbidden},
		{"resolve an unknown alert", viewer, "/alerts/nope/resolve", url.Values{"csrf": {viewerToken}}, http.StatusNotFound},
		{"ack", viewer, "/alerts/" + a.ID + "/ack", url.Values{"csrf": {viewerToken}, "back": {"https://evil.example/"}}, http.StatusSeeOther},
		{"resolve", viewer, "/alerts/" + a.ID + "/resolve", url.Values{"csrf": {viewerToken}, "back": {"/alerts"}}, http.StatusSeeOther},
		{"ack a resolved alert", viewer, "/alerts/" + a.ID + "/ack", url.Values{"csrf": {viewerToken}}, http.StatusConflict},
		{"snooze a resolved alert", viewer, "/alerts/" + a.ID + "/snooze", url.Values{"csrf": {viewerToken}, "until": {day(2)}}, http.StatusConflict},
		{"snooze until yesterday", viewer, "/alerts/" + b + "/snooze", url.Values{"csrf": {viewerToken}, "until": {day(-1)}}, http.StatusUnprocessableEntity},
		{"snooze until no date", viewer, "/alerts/" + b + "/snooze", url.Values{"csrf": {viewerToken}, "until": {"next week"}}, http.StatusUnprocessableEntity},
		{"resolve with too long a note", viewer, "/alerts/" + b + "/resolve", url.Values{"csrf": {viewerToken}, "note": {strings.Repeat("x", 2001)}}, http.StatusUnprocessableEntity},
		{"bulk ack without a token", viewer, "/alerts/ack", url.Values{"id": {b}}, http.StatusForbidden},
		{"bulk ack of nothing", viewer, "/alerts/ack", url.Values{"csrf": {viewerToken}}, http.StatusBadRequest},
		{"bulk ack with an unknown alert", viewer, "/alerts/ack", url.Values{"csrf": {viewerToken}, "id": {b, "nope"}}, http.StatusNotFound},
		{"bulk ack with a resolved alert", viewer, "/alerts/ack", url.Values{"csrf": {viewerToken}, "id": {b, a.ID}}, http.StatusConflict},
		{"admin activates the candidate", admin, activate, url.Values{"csrf": {adminToken}}, http.StatusSeeOther},
		{"signed out", newClient(t, f, ""), "/alerts/" + a.ID + "/ack", url.Values{"csrf": {viewerToken}}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := tc.c.do("POST", tc.path, tc.form)
			if resp.StatusCode != tc.status {
				t.Errorf("POST %s: %s, want %d; body starts %.300q", tc.path, resp.Status, tc.status, body)
			}
			if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusSeeOther && !strings.HasPrefix(loc, "/") {
				t.Errorf("POST %s redirects off-site to %q", tc.path, loc)
			}
		})
	}
	if m, err := f.Store.ActiveModel(context.Background(), "churn"); err != nil || m.Version != candidate {
		t.Errorf("after the admin activated model %d, the active churn model is %+v, %v", candidate, m, err)
	}
	if got, err := f.Store.Alerts(context.Background(), alerts.Query{AccountID: bAlert.AccountID, Status: alerts.StatusOpen}); err != nil ||
		!slices.ContainsFunc(got, func(r alerts.Row) bool { return r.ID == b }) {
		t.Errorf("alert %s is not open after refused actions on it: %v", b, err)
	}
	got, err := f.Store.Alerts(context.Background(), alerts.Query{AccountID: a.AccountID, Status: alerts.StatusResolved})
	if err != nil || len(got) == 0 {
		t.Errorf("alert %s is not resolved after the dashboard resolved it: %v", a.ID, err)
	}
}
