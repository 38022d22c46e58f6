package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// TestAuthThrottle answers 429 with Retry-After to an address that failed
// to authenticate past the burst, with no key or a wrong one, and even
// with a right key then; X-Forwarded-For moves the count only when the
// server is told to trust it.
func TestAuthThrottle(t *testing.T) {
	storetest.Run(t, func(t *testing.T, s *store.Store) {
		_, _, key := outageServers(t, s)
		for _, trust := range []bool{false, true} {
			srv := httptest.NewServer(New(s, nil, nil, Options{Logger: slog.New(slog.DiscardHandler), TrustForwardedFor: trust}).Handler())
			get := func(bearer, forwarded string) *http.Response {
				req, _ := http.NewRequest("GET", srv.URL+"/v1/alerts", nil)
				if bearer != "" {
					req.Header.Set("Authorization", "Bearer "+bearer)
				}
				if forwarded != "" {
					req.Header.Set("X-Forwarded-For", forwarded)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp
			}
			for i := range DefaultAuthFailureBurst {
				bearer := "churn_guess"
				if i%2 == 0 {
					bearer = ""
				}
				if resp := get(bearer, "203.0.113.7"); resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("trust %v: failure %d: %s, want 401", trust, i+1, resp.Status)
				}
			}
			resp := get(key, "203.0.113.7")
			if wait, _ := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != http.StatusTooManyRequests || wait < 1 || wait > 6 {
				t.Errorf("trust %v: the right key after %d failures: %s, Retry-After %q, want 429 within 6 s",
					trust, DefaultAuthFailureBurst, resp.Status, resp.Header.Get("Retry-After"))
			}
			want := http.StatusTooManyRequests // a spoofed header does not escape the count
			if trust {
				want = http.StatusOK // behind a proxy, another client is another address
			}
			if resp := get(key, "198.51.100.1"); resp.StatusCode != want {
				t.Errorf("trust %v: another X-Forwarded-For: %s, want %d", trust, resp.Status, want)
			}
			srv.Close()
		}
	})
}
