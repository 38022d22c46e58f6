package api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/store/storetest"
)

// topAccount returns the first account of the churn listing at path.
func topAccount(t *testing.T, c *client, path, key string) string {
	t.Helper()
	code, body := c.do("GET", path, key, nil)
	items, _ := body["items"].([]any)
	if code != http.StatusOK || len(items) == 0 {
		t.Fatalf("GET %s: %d %v", path, code, body)
	}
	return items[0].(map[string]any)["account_id"].(string)
}

// raiseLowest stores, as a batch run by another process would, a new
// current score for the account listed last, riskier than any other, and
// returns that account.
func raiseLowest(t *testing.T, s *store.Store) string {
	t.Helper()
	ctx := context.Background()
	rows, err := s.ScoreRows(ctx, score.ListQuery{Task: serving.TaskChurn, Limit: 1 << 20})
	if err != nil || len(rows) < 2 {
		t.Fatalf("rows %d, %v", len(rows), err)
	}
	sc, err := s.CurrentScore(ctx, rows[len(rows)-1].AccountID, serving.TaskChurn)
	if err != nil {
		t.Fatal(err)
	}
	sc.Probability, sc.ScoredAt = 0.99999, time.Now().UTC().Truncate(time.Microsecond)
	if err := s.PutScores(ctx, []score.Score{sc}); err != nil {
		t.Fatal(err)
	}
	return sc.AccountID
}

// TestListingShowsABatchRunElsewhere holds the cached listings to the
// stored scores: a score stored by another process shows in the listing
// within ScoresPoll although the cache's TTL is an hour, while without
// the check the cached page is served unchanged (so the first case does
// read from the cache). A write through the server shows at once.
func TestListingShowsABatchRunElsewhere(t *testing.T) {
	for _, tt := range []struct {
		name  string
		poll  time.Duration
		shows bool
	}{
		{"checked", 20 * time.Millisecond, true},
		{"unchecked", -1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, storetest.Open(t, "sqlite"), Options{CacheTTL: time.Hour, ScoresPoll: tt.poll})
			c := newClient(t, ts.url)
			key := ts.keys[access.Viewer]
			const path = "/v1/accounts?limit=5"
			before := topAccount(t, c, path, key)
			time.Sleep(50 * time.Millisecond) // past the first check, which clears the cache
			if got := topAccount(t, c, path, key); got != before {
				t.Fatalf("top account changed from %s to %s without a new score", before, got)
			}
			raised := raiseLowest(t, ts.store)
			if raised == before {
				t.Fatal("the lowest account is the top one")
			}
			deadline := time.Now().Add(2 * time.Second)
			got := topAccount(t, c, path, key)
			for got != raised && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
				got = topAccount(t, c, path, key)
			}
			if shows := got == raised; shows != tt.shows {
				t.Errorf("after storing a top score for %s the listing's top is %s; want it shown %v", raised, got, tt.shows)
			}
			if !tt.shows {
				// A write through the server clears the cache at once.
				if code, body := c.do("POST", "/v1/alerts/ack", key, map[string]any{"ids": []string{"none"}}); code >= 500 {
					t.Fatalf("ack: %d %v", code, body)
				}
				if got := topAccount(t, c, path, key); got != raised {
					t.Errorf("after a write the listing's top is %s, want %s", got, raised)
				}
			}
		})
	}
}

// TestListingCacheKeepsOwnerScopes checks that keys of different owners,
// whose listings default to their own book, never get each other's cached
// page, nor a key without an owner one of theirs.
func TestListingCacheKeepsOwnerScopes(t *testing.T) {
	ts := newTestServer(t, storetest.Open(t, "sqlite"), Options{CacheTTL: time.Hour})
	ctx := context.Background()
	rows, err := ts.store.ScoreRows(ctx, score.ListQuery{Task: serving.TaskChurn, Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]bool{}
	for _, r := range rows {
		owners[r.Owner] = true
	}
	if len(owners) < 2 {
		t.Fatalf("the fixture has %d owners; the test needs two", len(owners))
	}
	keys := map[string]string{"": ts.keys[access.Viewer]}
	for o := range owners {
		secret, rec, err := access.NewOwnedKey(access.Viewer, o+" key", o, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := ts.store.CreateAPIKey(ctx, rec); err != nil {
			t.Fatal(err)
		}
		keys[o] = secret
	}
	c := newClient(t, ts.url)
	for round := range 2 { // the second round reads the cached pages
		for owner, key := range keys {
			for _, path := range []string{"/v1/accounts?limit=500", "/v1/accounts?limit=500&sort=arr"} {
				code, body := c.do("GET", path, key, nil)
				items, _ := body["items"].([]any)
				if code != http.StatusOK || len(items) == 0 {
					t.Fatalf("round %d, owner %q, GET %s: %d %v", round, owner, path, code, body)
				}
				seen := map[string]bool{}
				for _, it := range items {
					seen[it.(map[string]any)["owner"].(string)] = true
				}
				if owner == "" && len(seen) != len(owners) || owner != "" && (len(seen) != 1 || !seen[owner]) {
					t.Errorf("round %d, owner %q, GET %s: items of owners %v", round, owner, path, seen)
				}
			}
		}
	}
}
