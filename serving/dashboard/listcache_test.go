package dashboard_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/api"
	"github.com/openchurn/churn/serving/dashboard"
	"github.com/openchurn/churn/serving/score"
)

var (
	listedAccount = regexp.MustCompile(`class="acct" href="/accounts/([^"#]+)"`)
	listedOwner   = regexp.MustCompile(`<div class="sub">[^·]+ · ([^ ]+) · `)
)

// TestAccountsPageCache checks the cached accounts page against the
// store: each key gets its own page (its owner's book, its own
// anti-forgery token) however many times it is read, and a score stored
// by another process shows within the server's ScoresPoll although the
// cache's TTL is an hour.
func TestAccountsPageCache(t *testing.T) {
	f := demoServer(t)
	ctx := context.Background()
	srv := api.New(f.Store, nil, nil, api.Options{Logger: slog.New(slog.DiscardHandler), CacheTTL: time.Hour, ScoresPoll: 20 * time.Millisecond})
	if err := dashboard.Mount(srv, f.Store, dashboard.Options{Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	page := func(key string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", hs.URL+"/accounts", nil)
		req.AddCookie(&http.Cookie{Name: "churn_session", Value: key})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /accounts: %s", resp.Status)
		}
		return string(b)
	}

	tokens := map[string]bool{}
	for round := range 2 { // the second round reads the cached pages
		for name, key := range map[string]string{"admin": f.Keys[access.Admin], "owner": f.OwnerKey} {
			body := page(key)
			m := csrfField.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("round %d, %s: no csrf token", round, name)
			}
			tokens[m[1]] = true
			owners := map[string]bool{}
			for _, o := range listedOwner.FindAllStringSubmatch(body, -1) {
				owners[o[1]] = true
			}
			if name == "owner" && (len(owners) != 1 || !owners[f.Owner]) || name == "admin" && len(owners) < 2 {
				t.Errorf("round %d, %s key: rows of owners %v", round, name, owners)
			}
		}
	}
	if len(tokens) != 2 {
		t.Errorf("two keys' pages carry %d distinct tokens", len(tokens))
	}

	// A score stored elsewhere: the account listed last becomes the
	// riskiest; the original score is put back afterwards for the other
	// tests.
	key := f.Keys[access.Admin]
	rows, err := f.Store.ScoreRows(ctx, score.ListQuery{Task: serving.TaskChurn, Limit: 1 << 20})
	if err != nil || len(rows) < 2 {
		t.Fatalf("rows %d, %v", len(rows), err)
	}
	orig, err := f.Store.CurrentScore(ctx, rows[len(rows)-1].AccountID, serving.TaskChurn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Store.PutScores(context.Background(), []score.Score{orig}); err != nil {
			t.Error(err)
		}
	})
	top := func() string {
		m := listedAccount.FindStringSubmatch(page(key))
		if m == nil {
			t.Fatal("the accounts page lists no account")
		}
		return m[1]
	}
	if got := top(); got == orig.AccountID {
		t.Fatalf("the lowest account %s is listed first", got)
	}
	raised := orig
	raised.Probability, raised.ScoredAt = 0.99999, time.Now().UTC().Truncate(time.Microsecond)
	if err := f.Store.PutScores(ctx, []score.Score{raised}); err != nil {
		t.Fatal(err)
	}
	got := top()
	for deadline := time.Now().Add(2 * time.Second); got != orig.AccountID && time.Now().Before(deadline); got = top() {
		time.Sleep(10 * time.Millisecond)
	}
	if got != orig.AccountID {
		t.Errorf("2 s after storing a top score for %s the page lists %s first", orig.AccountID, got)
	}
}
