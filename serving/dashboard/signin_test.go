package dashboard_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/api"
	"github.com/openchurn/churn/serving/dashboard"
)

// TestSignInOutForgery refuses sign-in and sign-out posts that lack this
// site's Origin (or Referer) or the form's token, so that another site can
// neither sign a browser in under its key nor sign it out.
func TestSignInOutForgery(t *testing.T) {
	f := demoServer(t)
	key := f.Keys[access.Viewer]
	post := func(c *client, path string, form url.Values, header map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	anon := newClient(t, f, "")
	signins := []struct {
		name   string
		token  string // the form's token, "" for none, "x" for a wrong one
		header map[string]string
		want   int
	}{
		{"no Origin nor Referer", "form", nil, http.StatusForbidden},
		{"another site's Origin", "form", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"another site's Referer", "form", map[string]string{"Referer": "https://evil.example/x"}, http.StatusForbidden},
		{"no token", "", map[string]string{"Origin": f.URL}, http.StatusForbidden},
		{"a wrong token", "x", map[string]string{"Origin": f.URL}, http.StatusForbidden},
		{"this site's Referer and the token", "form", map[string]string{"Referer": f.URL + "/signin"}, http.StatusSeeOther},
	}
	for _, tc := range signins {
		form := url.Values{"key": {key}}
		switch token := anon.csrf("/signin"); tc.token {
		case "form":
			form.Set("csrf", token)
		case "x":
			form.Set("csrf", "x"+token)
		}
		if resp := post(anon, "/signin", form, tc.header); resp.StatusCode != tc.want {
			t.Errorf("sign-in with %s: %s, want %d", tc.name, resp.Status, tc.want)
		}
	}

	c := newClient(t, f, key)
	session := c.csrf("/alerts")
	signouts := []struct {
		name   string
		form   url.Values
		header map[string]string
		want   int
	}{
		{"another site's Origin", url.Values{"csrf": {session}}, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"no token", url.Values{}, map[string]string{"Origin": f.URL}, http.StatusForbidden},
		{"no Origin", url.Values{"csrf": {session}}, nil, http.StatusForbidden},
	}
	for _, tc := range signouts {
		if resp := post(c, "/signout", tc.form, tc.header); resp.StatusCode != tc.want {
			t.Errorf("sign-out with %s: %s, want %d", tc.name, resp.Status, tc.want)
		}
	}
	if resp, _ := c.do("GET", "/alerts", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("a forged sign-out ended the session: %s", resp.Status)
	}
	if resp, _ := c.do("POST", "/signout", url.Values{"csrf": {session}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-out from the page: %s", resp.Status)
	}
	if resp, _ := c.do("GET", "/alerts", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after signing out, /alerts: %s, want a redirect to sign in", resp.Status)
	}
}

// TestSignInThrottled answers 429 with Retry-After once an address has
// failed to sign in too often, even with the right key, and counts
// failures of the API and the dashboard together.
func TestSignInThrottled(t *testing.T) {
	f := demoServer(t)
	srv := api.New(f.Store, nil, nil, api.Options{Logger: slog.New(slog.DiscardHandler), AuthFailuresPerMinute: 1, AuthFailureBurst: 3})
	if err := dashboard.Mount(srv, f.Store, dashboard.Options{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	c := newClient(t, &fixture{URL: hs.URL}, "")
	for i := range 2 {
		if resp, _ := c.signin("churn_wrong", "/"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("bad sign-in %d: %s, want 401", i+1, resp.Status)
		}
	}
	req, _ := http.NewRequest("GET", hs.URL+"/v1/accounts", nil)
	req.Header.Set("Authorization", "Bearer churn_wrong")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("third failure, on the API: %v %v", resp, err)
	}
	resp, body := c.signin(f.Keys[access.Viewer], "/")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many failed sign-ins") {
		t.Errorf("sign-in after 3 failures: %s, Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
}
