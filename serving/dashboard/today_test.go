package dashboard_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/today"
)

var (
	rowAccount = regexp.MustCompile(`<tr data-account="([^"]+)" data-owner="([^"]*)">`)
	// rowOwner finds the owner in an accounts or trials row's sub line,
	// "ID · owner · segment · as of …".
	rowOwner = regexp.MustCompile(`<div class="sub">[^<·]+ · ([^<·]*) · [^<]* · as of`)
)

// owners counts the owners a page's rows name.
func owners(re *regexp.Regexp, group int, body string) map[string]int {
	got := map[string]int{}
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		got[m[group]]++
	}
	return got
}

// TestOwnerBook checks that a key with an owner opens on its Today view
// and sees its own book by default, one click from everyone's, and that
// a key without one sees everything as before.
func TestOwnerBook(t *testing.T) {
	f := demoServer(t)
	rep := newClient(t, f, f.OwnerKey)
	if resp, _ := rep.do("GET", "/", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/today" {
		t.Errorf("GET / for %s's key: %s to %q, want 303 to /today", f.Owner, resp.Status, resp.Header.Get("Location"))
	}

	resp, body := rep.do("GET", "/today", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="today"`) || !strings.Contains(body, "Your book: <strong>"+f.Owner) ||
		!strings.Contains(body, `href="/today?owner=all" data-scope="all"`) {
		t.Fatalf("GET /today: %s\n%.3000s", resp.Status, body)
	}
	// The page lists the rows serving/today ranks, in its order.
	asOf, _, err := f.Store.Freshness(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, err := today.Build(context.Background(), f.Store, f.Owner, asOf)
	if err != nil {
		t.Fatal(err)
	}
	var got, wantIDs []string
	for _, m := range rowAccount.FindAllStringSubmatch(body, -1) {
		got = append(got, m[1])
		if m[2] != f.Owner {
			t.Errorf("%s's Today lists %s of %q", f.Owner, m[1], m[2])
		}
	}
	for _, it := range want.Items {
		wantIDs = append(wantIDs, it.AccountID)
	}
	if len(got) == 0 || !slices.Equal(got, wantIDs) {
		t.Errorf("Today lists %v, want %v", got, wantIDs)
	}
	if _, all := rep.do("GET", "/today?owner=all", nil); len(owners(rowAccount, 2, all)) < 2 || !strings.Contains(all, `data-scope="mine"`) {
		t.Errorf("Today of every owner lists the owners %v", owners(rowAccount, 2, all))
	}

	for _, page := range []string{"/accounts", "/trials", "/alerts"} {
		_, mine := rep.do("GET", page, nil)
		_, all := rep.do("GET", page+"?owner=all", nil)
		re, group := rowOwner, 1
		if page == "/alerts" {
			re = regexp.MustCompile(`<a href="/accounts/[^"]+">[^<]+</a><div class="sub">[^<]*? · ([^<]*)</div>`)
		}
		if got := owners(re, group, mine); len(got) != 1 || got[f.Owner] == 0 {
			t.Errorf("%s for %s's key lists the owners %v", page, f.Owner, got)
		}
		if got := owners(re, group, all); len(got) < 2 {
			t.Errorf("%s?owner=all lists the owners %v", page, got)
		}
		if !strings.Contains(mine, `<option value="`+f.Owner+`" selected>`+f.Owner+` (you)</option>`) {
			t.Errorf("%s does not show the owner filter on %s", page, f.Owner)
		}
		if resp, _ := rep.do("GET", page+"?owner=rep%01", nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s with an owner that is no id: %s, want 400", page, resp.Status)
		}
	}

	// A key without an owner: / is the accounts list, Today the whole book.
	viewer := newClient(t, f, f.Keys[access.Viewer])
	if resp, body := viewer.do("GET", "/", nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="accounts"`) {
		t.Errorf("GET / without an owner: %s", resp.Status)
	}
	if _, body := viewer.do("GET", "/today", nil); len(owners(rowAccount, 2, body)) < 2 || strings.Contains(body, `id="scope"`) {
		t.Errorf("Today without an owner lists the owners %v", owners(rowAccount, 2, body))
	}
}
