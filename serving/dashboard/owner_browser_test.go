package dashboard_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserOwnerBook signs in with a rep's key: it lands on the rep's
// Today view, its accounts list holds only the rep's accounts until "All
// accounts" is clicked, and Today reads at 1280 and 390 px (screenshots
// to $CHURN_SCREENSHOTS, else the test's folder, as owner-today-WIDTH.png).
func TestBrowserOwnerBook(t *testing.T) {
	ctx := browser(t)
	f := demoServer(t)

	do(t, ctx, "sign in as "+f.Owner,
		chromedp.Navigate(f.URL+"/"),
		chromedp.WaitVisible(css("#key")),
		chromedp.SendKeys(css("#key"), f.OwnerKey),
		chromedp.Submit(css("#key")),
		chromedp.WaitVisible(css("#today-counts")),
		loaded())
	if url := get(t, ctx, "location", chromedp.Location()); url != f.URL+"/today" {
		t.Errorf("after sign-in at %s, want the Today view", url)
	}
	rowOwners := get(t, ctx, "Today's owners", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#today tbody tr")].map(tr => tr.dataset.owner)`))
	if len(rowOwners) == 0 {
		t.Fatal("the Today view lists no account")
	}
	for _, o := range rowOwners {
		if o != f.Owner {
			t.Errorf("%s's Today view lists an account of %q", f.Owner, o)
		}
	}
	counts := get(t, ctx, "counts", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#today-counts dd")].map(dd => dd.textContent)`))
	if len(counts) != 3 {
		t.Errorf("Today shows the counts %q, want alerts, drops and renewals", counts)
	}
	if rule := get(t, ctx, "rule", chromedp.Text(css("#rule"))); !strings.Contains(rule, "Ranked by expected ARR lost") {
		t.Errorf("Today does not state its ranking: %q", rule)
	}

	subs := `[...document.querySelectorAll("#accounts tbody td[data-label=Account] .sub")].map(s => s.textContent)`
	do(t, ctx, "accounts", chromedp.Click(css(`nav a[href="/accounts"]`)), chromedp.WaitVisible(css("#accounts")), loaded())
	for _, s := range get(t, ctx, "rows", chromedp.Evaluate[[]string](subs)) {
		if !strings.Contains(s, " · "+f.Owner+" · ") {
			t.Errorf("%s's accounts list holds %q", f.Owner, s)
		}
	}
	do(t, ctx, "all accounts", chromedp.Click(css(`#scope a[data-scope=all]`)), chromedp.WaitVisible(css(`#scope a[data-scope=mine]`)), loaded())
	others := 0
	for _, s := range get(t, ctx, "rows", chromedp.Evaluate[[]string](subs)) {
		if !strings.Contains(s, " · "+f.Owner+" · ") {
			others++
		}
	}
	if others == 0 {
		t.Errorf("All accounts lists only %s's accounts", f.Owner)
	}

	dir := screenshotDir(t)
	for _, width := range []int64{1280, 390} {
		do(t, ctx, "today", chromedp.EmulateViewport(width, 900), chromedp.Navigate(f.URL+"/today"), chromedp.WaitVisible(css("#today")), loaded())
		screenshot(t, ctx, filepath.Join(dir, "owner-today-"+strconv.FormatInt(width, 10)+".png"), "Today", width)
	}
}
