package dashboard_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/score"
)

// chromium returns the browser the tests drive: $CHROMIUM, else Debian's
// /usr/bin/chromium or one on the PATH; the tests skip without one.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium found (install it with apt-get install -y chromium, or set CHROMIUM): skipping the browser tests")
	return ""
}

// browser starts a headless Chromium with a fresh profile and returns a
// tab's context, closed with the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 180*time.Second) // slow under a loaded machine
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// css selects the first element matching a CSS selector.
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

// signIn signs in with key through the form, from a page that needs it.
func signIn(base, key string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(css("#key")),
		chromedp.SendKeys(css("#key"), key),
		chromedp.Submit(css("#key")),
		chromedp.WaitVisible(css("#accounts")),
		loaded(),
	)
}

func signOut() chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Click(css(".signout button")), chromedp.WaitVisible(css("#key")), loaded())
}

// loaded waits for the page to finish loading: a navigation started while
// the one before still loads aborts that one, which chromedp reports as
// the new navigation's failure (net::ERR_ABORTED).
func loaded() chromedp.Action[chromedp.Void] {
	return voidOf(chromedp.Poll[bool](`document.readyState === "complete"`))
}

// voidOf drops an action's value, to use it as a step.
func voidOf[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, t)
		return chromedp.Void{}, err
	}
}

// do runs steps or fails the test, saying what it was doing.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs an action that yields a value, or fails the test.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// labelOverlaps lists table cells whose content starts left of the end of
// their column label, which narrow screens print before each value (the
// cell's ::before): their bounding boxes overlap.
const labelOverlaps = `[...document.querySelectorAll("table.list td[data-label]")].filter(td => {
	const before = getComputedStyle(td, "::before");
	if (before.position !== "absolute" || td.offsetParent === null) return false;
	const cell = td.getBoundingClientRect();
	const labelRight = cell.left + parseFloat(before.left) + parseFloat(before.width);
	const r = document.createRange();
	r.selectNodeContents(td);
	const content = r.getBoundingClientRect();
	return content.width > 0 && content.left < labelRight - 0.5;
}).map(td => td.dataset.label + ": " + td.textContent.trim()).slice(0, 5)`

// screenshotDir is $CHURN_SCREENSHOTS, made if need be, else a folder of
// the test's own.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CHURN_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot writes the page shown, width px wide, to file and its first
// screen beside it (-fold.png), which is what a person sees first and is
// legible when a tall page is shrunk to view, and checks that the page
// neither scrolls sideways nor prints table values over their labels.
func screenshot(t *testing.T, ctx context.Context, file, name string, width int64) {
	t.Helper()
	png := get(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	fold := get(t, ctx, "screenshot", chromedp.CaptureScreenshot())
	if err := os.WriteFile(strings.TrimSuffix(file, ".png")+"-fold.png", fold, 0o644); err != nil {
		t.Fatal(err)
	}
	if get(t, ctx, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)) {
		t.Errorf("%s at %d px scrolls sideways", name, width)
	}
	if overlaps := get(t, ctx, "label overlaps", chromedp.Evaluate[[]string](labelOverlaps)); len(overlaps) > 0 {
		t.Errorf("%s at %d px prints values over their labels: %q", name, width, overlaps)
	}
	t.Logf("screenshot %s", file)
}

// TestBrowser drives the dashboard as a rep would, in one browser: sign in,
// filter the list, open the riskiest account, acknowledge an alert, check
// what a viewer and an admin see, and take screenshots at both widths.
func TestBrowser(t *testing.T) {
	ctx := browser(t)
	f := demoServer(t)
	viewer, admin := f.Keys[access.Viewer], f.Keys[access.Admin]
	top, err := f.Store.ScoreRows(context.Background(), score.ListQuery{Task: "churn", Limit: 1})
	if err != nil || len(top) == 0 {
		t.Fatalf("riskiest account: %v", err)
	}
	riskiest := top[0]

	t.Run("sign in", func(t *testing.T) {
		do(t, ctx, "wrong key",
			chromedp.Navigate(f.URL+"/"),
			chromedp.WaitVisible(css("#key")),
			chromedp.SendKeys(css("#key"), "churn_wrong"),
			chromedp.Submit(css("#key")),
			chromedp.WaitVisible(css(".error")))
		if msg := get(t, ctx, "error", chromedp.Text(css(".error"))); !strings.Contains(msg, "unknown or revoked") {
			t.Errorf("wrong key: error %q", msg)
		}
		do(t, ctx, "sign in", signIn(f.URL, viewer))
		if url := get(t, ctx, "location", chromedp.Location()); url != f.URL+"/" {
			t.Errorf("after sign-in at %s, want the accounts list at /", url)
		}
	})

	t.Run("list filtering", func(t *testing.T) {
		do(t, ctx, "list", chromedp.Navigate(f.URL+"/accounts"), chromedp.WaitVisible(css("#accounts")))
		owners := get(t, ctx, "owners", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("select[name=owner] option")].map(o => o.value).filter(v => v)`))
		if len(owners) < 2 {
			t.Fatalf("owner filter offers %q", owners)
		}
		owner := owners[1]
		// Choosing an option submits the form (app.js), as it does for a
		// person: chromedp's SetValue fires the change event. Each choice
		// is a page load, waited for before the next choice is made.
		choose := func(sel, value string) chromedp.Action[chromedp.Void] {
			return chromedp.Steps(voidOf(chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.SetValue(css(sel), value))),
				chromedp.WaitVisible(css("#accounts")))
		}
		do(t, ctx, "filter by owner and band", choose("select[name=owner]", owner), choose("select[name=band]", "green"))
		if url := get(t, ctx, "location", chromedp.Location()); !strings.Contains(url, "owner="+owner) || !strings.Contains(url, "band=green") {
			t.Errorf("filtered URL %s", url)
		}
		rows := get(t, ctx, "rows", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("#accounts tbody tr")].map(r => r.querySelector(".sub").textContent + " " + r.querySelector(".badge").className)`))
		if len(rows) == 0 {
			t.Fatalf("no green accounts of %s", owner)
		}
		for _, r := range rows {
			if !strings.Contains(r, " · "+owner+" · ") || !strings.Contains(r, "b-green") {
				t.Errorf("row %q is not a green account of %s", r, owner)
			}
		}
	})

	t.Run("open the riskiest account", func(t *testing.T) {
		do(t, ctx, "list", chromedp.Navigate(f.URL+"/"), chromedp.WaitVisible(css("#accounts")))
		first := get(t, ctx, "first row", chromedp.Text(css("#accounts tbody tr:first-child .sub")))
		do(t, ctx, "open", chromedp.Click(css("#accounts tbody tr:first-child a.acct")), chromedp.WaitVisible(css("#why-h")), loaded())
		h1 := get(t, ctx, "heading", chromedp.Text(css("h1")))
		if !strings.HasPrefix(first, riskiest.AccountID) || h1 != riskiest.Name {
			t.Errorf("first row %q opened %q; the riskiest account is %s %q", first, h1, riskiest.AccountID, riskiest.Name)
		}
		reasons := get(t, ctx, "reasons", chromedp.Evaluate[int](`document.querySelectorAll(".reasons tbody tr").length`))
		dots := get(t, ctx, "history", chromedp.Evaluate[int](`document.querySelectorAll("svg.chart circle.dot").length`))
		if reasons == 0 || dots != trendWeeks {
			t.Errorf("account page shows %d reasons and %d history points, want some and %d", reasons, dots, trendWeeks)
		}
	})

	t.Run("acknowledge an alert", func(t *testing.T) {
		a := f.openAlert(t)
		row := `tr[data-alert="` + a.ID + `"]`
		do(t, ctx, "acknowledge",
			chromedp.Navigate(f.URL+"/alerts?status=open"),
			chromedp.WaitVisible(css("#inbox")),
			chromedp.Click(css(`button[data-action=ack][data-alert="`+a.ID+`"]`)),
			chromedp.WaitNotPresent(css(`button[data-action=ack][data-alert="`+a.ID+`"]`)),
			loaded(),
			chromedp.Navigate(f.URL+"/alerts?status=acknowledged"),
			chromedp.WaitVisible(css(row)))
		if status := get(t, ctx, "status", chromedp.Text(css(row+" .status"))); status != alerts.StatusAcknowledged {
			t.Errorf("alert %s shows %q in the acknowledged inbox", a.ID, status)
		}
		do(t, ctx, "open inbox", chromedp.Navigate(f.URL+"/alerts?status=open"), chromedp.WaitReady(css("main")))
		if get(t, ctx, "open row", chromedp.Evaluate[bool](`document.querySelector('`+row+`') !== null`)) {
			t.Errorf("alert %s is still in the open inbox", a.ID)
		}
		req, _ := http.NewRequest("GET", f.URL+"/v1/alerts?status=acknowledged&limit=500", nil)
		req.Header.Set("Authorization", "Bearer "+viewer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Items []alerts.Alert }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, it := range body.Items {
			found = found || (it.ID == a.ID && !it.AcknowledgedAt.IsZero())
		}
		if !found {
			t.Errorf("the API does not list alert %s as acknowledged", a.ID)
		}
	})

	t.Run("admin actions by role", func(t *testing.T) {
		actionColumn := `[...document.querySelectorAll("#models th")].some(th => th.textContent === "Action")`
		do(t, ctx, "as viewer", chromedp.Navigate(f.URL+"/models"), chromedp.WaitVisible(css("#models")))
		if get(t, ctx, "viewer column", chromedp.Evaluate[bool](actionColumn)) ||
			get(t, ctx, "viewer forms", chromedp.Evaluate[int](`document.querySelectorAll("form[action$='/activate']").length`)) != 0 {
			t.Errorf("a viewer sees admin actions on the models page")
		}
		do(t, ctx, "as admin", signOut(), signIn(f.URL, admin), chromedp.Navigate(f.URL+"/models"), chromedp.WaitVisible(css("#models")))
		if !get(t, ctx, "admin column", chromedp.Evaluate[bool](actionColumn)) ||
			get(t, ctx, "admin forms", chromedp.Evaluate[int](`document.querySelectorAll("form[action$='/activate'] button").length`)) != 1 {
			t.Errorf("an admin does not see the Action column with one model (the fixture's candidate) to activate")
		}
		do(t, ctx, "back to viewer", signOut(), signIn(f.URL, viewer))
	})

	t.Run("trials worklist", func(t *testing.T) {
		do(t, ctx, "trials", chromedp.Navigate(f.URL+"/trials"), chromedp.WaitVisible(css("#trials")))
		heads := get(t, ctx, "columns", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#trials th")].map(th => th.textContent)`))
		for _, want := range []string{"Conversion", "Ends", "Last active", "Users", "Key features", "Expected MRR", "Top reason"} {
			if !slices.Contains(heads, want) {
				t.Errorf("the trials worklist has no %q column: %q", want, heads)
			}
		}
		tiers := get(t, ctx, "tiers", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#trials tbody tr")].map(tr => tr.dataset.tier)`))
		if len(tiers) == 0 {
			t.Fatal("the trials worklist lists no trial")
		}
		for _, tier := range tiers {
			if tier != "hot" && tier != "warm" && tier != "cold" {
				t.Errorf("a trial's tier is %q", tier)
			}
		}
		probs := get(t, ctx, "probabilities", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#trials .score")].map(s => s.textContent)`))
		for _, p := range probs {
			if p == "100%" || strings.HasPrefix(p, ">") || strings.Contains(p, ".") {
				t.Errorf("a trial's probability reads %q", p)
			}
		}
		values := get(t, ctx, "expected MRR", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#trials td[data-label='Expected MRR']")].map(td => td.textContent)`))
		if len(values) != len(tiers) || slices.Contains(values, "—") {
			t.Errorf("expected MRR cells %q for %d trials", values, len(tiers))
		}
	})

	t.Run("metrics page", func(t *testing.T) {
		do(t, ctx, "metrics", chromedp.Navigate(f.URL+"/portfolio"), chromedp.WaitVisible(css("#mrr-movements svg")))
		bars := get(t, ctx, "movement bars", chromedp.Evaluate[int](`document.querySelectorAll("#mrr-movements svg rect").length`))
		lines := get(t, ctx, "retention lines", chromedp.Evaluate[int](`document.querySelectorAll("#retention svg polyline").length`))
		cells := get(t, ctx, "heat cells", chromedp.Evaluate[int](`document.querySelectorAll("#cohorts td[title]").length`))
		links := get(t, ctx, "definitions", chromedp.Evaluate[int](`document.querySelectorAll("h2 a[href*='METRICS.md#']").length`))
		if bars == 0 || lines != 3 || cells == 0 || links != 4 {
			t.Errorf("metrics page: %d movement bars, %d retention lines, %d heat-map cells, %d headings linking their definition; want some, 3, some, 4",
				bars, lines, cells, links)
		}
	})

	t.Run("screenshots", func(t *testing.T) {
		dir := screenshotDir(t)
		pages := []struct{ name, path string }{{"accounts", "/accounts"}, {"account", "/accounts/" + riskiest.AccountID},
			{"today", "/today"}, {"trials", "/trials"}, {"alerts", "/alerts"}, {"portfolio", "/portfolio"}, {"models", "/models"}}
		for _, width := range []int64{1280, 390} {
			for _, p := range pages {
				do(t, ctx, p.name, chromedp.EmulateViewport(width, 900), chromedp.Navigate(f.URL+p.path), chromedp.WaitVisible(css("main")))
				screenshot(t, ctx, filepath.Join(dir, p.name+"-"+strconv.FormatInt(width, 10)+".png"), p.name, width)
			}
		}
	})
}

// padInbox opens alerts on the fixture's highest-ARR scored accounts,
// every default rule on each, until the active inbox holds more than
// twice a page and more than the 100 alerts that once capped it.
func padInbox(t *testing.T, f *fixture) []alerts.Row {
	t.Helper()
	ctx := context.Background()
	accounts, err := f.Store.ScoreRows(ctx, score.ListQuery{Task: "churn", ByRevenueAtRisk: true, WithoutDetail: true, Limit: 300})
	if err != nil {
		t.Fatal(err)
	}
	rules := alerts.DefaultRules().Names()
	now := time.Now().UTC().Truncate(time.Second)
	active := func() []alerts.Row {
		rows, err := f.Store.Alerts(ctx, alerts.Query{Status: alerts.StatusActive, Sort: alerts.SortSeverityARR, Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	i := 0
	for _, acc := range accounts {
		if len(active()) > 130 {
			break
		}
		for _, rule := range rules {
			at := now.Add(-time.Duration(i) * time.Minute)
			a := alerts.Alert{ID: "al_pad_" + strconv.Itoa(i), AccountID: acc.AccountID, Rule: rule, Owner: acc.Owner,
				Severity: alerts.Severities[i%len(alerts.Severities)], Message: words(rule) + " (test)", ObservedAt: at.Add(-24 * time.Hour), OpenedAt: at}
			d := alerts.Delivery{ID: "dl_pad_" + strconv.Itoa(i), Owner: acc.Owner, Payload: []byte(`{}`), NextAttemptAt: at, CreatedAt: at}
			if _, err := f.Store.OpenAlert(ctx, a, d, now); err != nil {
				t.Fatal(err)
			}
			i++
		}
	}
	rows := active()
	if len(rows) <= 100 {
		t.Fatalf("the padded inbox holds %d active alerts, want more than 100", len(rows))
	}
	return rows
}

func words(s string) string { return strings.ReplaceAll(s, "_", " ") }

// clickAndLoad clicks what sel selects and waits for the page it loads.
func clickAndLoad(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(voidOf(chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(css(sel)))), loaded())
}

// TestBrowserInbox pages through an inbox of more than 100 alerts by its
// next links, acknowledges three alerts with the checkboxes and the one
// button, snoozes one and resolves one with a note from the account page,
// reads the account's timeline, and takes screenshots of the inbox and
// the timeline at 1280 and 390 px (to $CHURN_SCREENSHOTS, else /tmp as
// inbox-*.png).
func TestBrowserInbox(t *testing.T) {
	ctx := browser(t)
	f := demoServer(t)
	all := padInbox(t, f)
	ids := func(rows []alerts.Row) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	do(t, ctx, "sign in", signIn(f.URL, f.Keys[access.Viewer]))
	rowIDs := `[...document.querySelectorAll("#inbox tbody tr")].map(tr => tr.dataset.alert)`

	t.Run("pages past 100", func(t *testing.T) {
		do(t, ctx, "inbox", chromedp.Navigate(f.URL+"/alerts"), chromedp.WaitVisible(css("#inbox")))
		var listed []string
		pages := 0
		for {
			pages++
			listed = append(listed, get(t, ctx, "rows", chromedp.Evaluate[[]string](rowIDs))...)
			if !get(t, ctx, "next link", chromedp.Evaluate[bool](`document.querySelector("a[rel=next]") !== null`)) {
				break
			}
			do(t, ctx, "next page", clickAndLoad("a[rel=next]"), chromedp.WaitVisible(css("#inbox")))
		}
		if !slices.Equal(listed, ids(all)) {
			t.Errorf("the inbox's %d pages list %d alerts; the store's active alerts by severity × ARR are %d, in another order or set",
				pages, len(listed), len(all))
		}
		if pages < 3 {
			t.Errorf("%d alerts on %d pages", len(listed), pages)
		}
	})

	// The account of the inbox's first alert that has at least three
	// open alerts: it gets one of each action.
	var acct string
	var mine []alerts.Row
	for _, r := range all {
		var open []alerts.Row
		for _, o := range all {
			if o.AccountID == r.AccountID && o.Status == alerts.StatusOpen {
				open = append(open, o)
			}
		}
		if len(open) >= 3 {
			acct, mine = r.AccountID, open
			break
		}
	}
	if acct == "" {
		t.Fatal("no account has three open alerts")
	}

	t.Run("bulk acknowledge", func(t *testing.T) {
		do(t, ctx, "inbox", chromedp.Navigate(f.URL+"/alerts?status=open&sort=newest"), chromedp.WaitVisible(css("#inbox")))
		onPage := get(t, ctx, "rows", chromedp.Evaluate[[]string](rowIDs))
		picked := []string{mine[0].ID}
		for _, id := range onPage {
			if len(picked) < 3 && id != mine[0].ID && !slices.ContainsFunc(mine, func(r alerts.Row) bool { return r.ID == id }) {
				picked = append(picked, id)
			}
		}
		if !slices.Contains(onPage, mine[0].ID) {
			do(t, ctx, "account's alert", chromedp.Navigate(f.URL+"/alerts?status=open&sort=newest&rule="+mine[0].Rule), chromedp.WaitVisible(css("#inbox")))
			picked = []string{mine[0].ID}
		}
		// The header's box ticks and unticks every alert of the page.
		ticked := `[...document.querySelectorAll("input[name=id][form=bulk]")].filter(b => b.checked).length`
		boxes := get(t, ctx, "boxes", chromedp.Evaluate[int](`document.querySelectorAll("input[name=id][form=bulk]").length`))
		do(t, ctx, "select all", chromedp.Click(css("input[data-select-all]")))
		if n := get(t, ctx, "ticked", chromedp.Evaluate[int](ticked)); n != boxes || n == 0 {
			t.Errorf("select all ticked %d of %d alerts", n, boxes)
		}
		do(t, ctx, "select none", chromedp.Click(css("input[data-select-all]")))
		if n := get(t, ctx, "ticked", chromedp.Evaluate[int](ticked)); n != 0 {
			t.Errorf("unticking select all left %d alerts ticked", n)
		}
		for _, id := range picked {
			do(t, ctx, "tick "+id, chromedp.Click(css(`input[name=id][value="`+id+`"]`)))
		}
		do(t, ctx, "acknowledge selected", clickAndLoad("button[data-action=bulk-ack]"), chromedp.WaitReady(css("main")))
		for _, id := range picked {
			a, err := f.Store.Alert(context.Background(), id)
			if err != nil || a.Status != alerts.StatusAcknowledged {
				t.Errorf("alert %s after the bulk acknowledgement: %s, %v", id, a.Status, err)
			}
		}
		left := get(t, ctx, "rows", chromedp.Evaluate[[]string](rowIDs))
		for _, id := range picked {
			if slices.Contains(left, id) {
				t.Errorf("acknowledged alert %s is still in the open inbox", id)
			}
		}
	})

	t.Run("snooze and resolve with a note", func(t *testing.T) {
		page := f.URL + "/accounts/" + acct
		snooze, resolve := mine[1].ID, mine[2].ID
		until := time.Now().UTC().AddDate(0, 0, 3).Format(time.DateOnly)
		do(t, ctx, "snooze", chromedp.Navigate(page), chromedp.WaitVisible(css("#alerts")),
			chromedp.Click(css(`tr[data-alert="`+snooze+`"] details.more summary`)),
			chromedp.SetValue(css(`input[name=until][data-alert="`+snooze+`"]`), until),
			clickAndLoad(`button[data-action=snooze][data-alert="`+snooze+`"]`))
		do(t, ctx, "resolve", chromedp.WaitVisible(css("#alerts")),
			chromedp.Click(css(`tr[data-alert="`+resolve+`"] details.more summary`)),
			chromedp.SendKeys(css(`input[name=note][data-alert="`+resolve+`"]`), "Called the champion; renewal signed"),
			clickAndLoad(`button[data-action=resolve][data-alert="`+resolve+`"]`),
			chromedp.WaitVisible(css("ol.timeline")))
		if a, err := f.Store.Alert(context.Background(), snooze); err != nil || a.SnoozedUntil.Format(time.DateOnly) != until {
			t.Errorf("snoozed alert %s: until %v, %v; want %s", snooze, a.SnoozedUntil, err, until)
		}
		if a, err := f.Store.Alert(context.Background(), resolve); err != nil || a.Status != alerts.StatusResolved {
			t.Errorf("resolved alert %s: %s, %v", resolve, a.Status, err)
		}
		timeline := get(t, ctx, "timeline", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("ol.timeline li")].map(li => li.dataset.action + "|" + li.dataset.alert + "|" + li.querySelector(".actor").textContent + "|" + li.textContent)`))
		want := []string{"resolve|" + resolve, "snooze|" + snooze, "acknowledge|" + mine[0].ID}
		if len(timeline) != len(want) {
			t.Fatalf("timeline %q, want %d entries", timeline, len(want))
		}
		for i, w := range want {
			if !strings.HasPrefix(timeline[i], w+"|viewer-test|") {
				t.Errorf("timeline entry %d: %q, want %s by viewer-test", i, timeline[i], w)
			}
		}
		if !strings.Contains(timeline[0], "Called the champion; renewal signed") || !strings.Contains(timeline[1], "until "+until) {
			t.Errorf("timeline lacks the note or the snooze's end: %q", timeline)
		}
		do(t, ctx, "inbox", chromedp.Navigate(f.URL+"/alerts?status=snoozed"), chromedp.WaitVisible(css("#inbox")))
		if got := get(t, ctx, "snoozed", chromedp.Evaluate[[]string](rowIDs)); !slices.Equal(got, []string{snooze}) {
			t.Errorf("the snoozed inbox lists %q, want [%s]", got, snooze)
		}
	})

	t.Run("screenshots", func(t *testing.T) {
		dir := os.Getenv("CHURN_SCREENSHOTS")
		if dir == "" {
			dir = os.TempDir()
		}
		shots := []struct{ name, path, section string }{{"alerts", "/alerts", "#inbox"}, {"account", "/accounts/" + acct, "#alerts"}}
		for _, width := range []int64{1280, 390} {
			for _, s := range shots {
				do(t, ctx, s.name, chromedp.EmulateViewport(width, 900), chromedp.Navigate(f.URL+s.path), chromedp.WaitVisible(css(s.section)))
				if s.name == "alerts" { // the second row's snooze and resolve forms, open
					do(t, ctx, "open a row's forms", chromedp.Click(css("#inbox tbody tr:nth-child(2) details.more summary")))
				}
				fold := get(t, ctx, "screenshot", chromedp.CaptureScreenshot())
				section := get(t, ctx, "section", chromedp.Screenshot(css(s.section)))
				base := filepath.Join(dir, "inbox-"+s.name+"-"+strconv.FormatInt(width, 10))
				for file, png := range map[string][]byte{base + ".png": fold, base + "-section.png": section} {
					if err := os.WriteFile(file, png, 0o644); err != nil {
						t.Fatal(err)
					}
					t.Logf("screenshot %s", file)
				}
				if get(t, ctx, "overflow", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)) {
					t.Errorf("%s at %d px scrolls sideways", s.name, width)
				}
				if overlaps := get(t, ctx, "label overlaps", chromedp.Evaluate[[]string](labelOverlaps)); len(overlaps) > 0 {
					t.Errorf("%s at %d px prints values over their labels: %q", s.name, width, overlaps)
				}
			}
		}
	})
}
