package dashboard

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/today"
)

// home is the first page after sign-in: the Today view for a key with an
// owner, the accounts list for one without.
func (d *Dashboard) home(c echo.Context) error {
	if k, ok := c.Get(keyContext).(access.Key); ok && k.Owner != "" {
		return c.Redirect(http.StatusSeeOther, "/today")
	}
	return d.accounts(c)
}

// ownerFilter reads a listing's owner filter, ?owner=, for the signed-in
// key by access.Key.Scope into f, whose page is at path: f.Owner keeps
// the parameter for the page's links, f.Scope is the owner listed ("" for
// every owner) and f.Mine the key's own owner. A value that is no owner
// id is a bad request.
func ownerFilter(c echo.Context, f *filter, path string) error {
	k, _ := c.Get(keyContext).(access.Key)
	scope, err := k.Scope(c.QueryParam("owner"))
	if err != nil {
		return fmt.Errorf("%w: %v", errBadRequest, err)
	}
	f.Owner, f.Scope, f.Mine, f.Path = c.QueryParam("owner"), scope, k.Owner, path
	return nil
}

// withScope returns the filter's owner choices: owners, the listed owner
// and the key's own added when missing (an owner with nothing scored yet),
// without the empty owner, which "All owners" covers.
func withScope(owners []string, f filter) []string {
	out := slices.DeleteFunc(slices.Clone(owners), func(o string) bool { return o == "" })
	for _, o := range []string{f.Scope, f.Mine} {
		if o != "" && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	slices.Sort(out)
	return out
}

// todayRow is one account of the Today page.
type todayRow struct {
	today.Item
	// PreviousHealth is the health before a drop, nil when unknown.
	PreviousHealth *float64
	// RenewsIn is the days from the scores' as-of date to a renewal.
	RenewsIn int
}

type todayView struct {
	Filter filter
	Owners []string
	*today.View
	Rows []todayRow
	Rule string
	// AlertsLink is the alerts inbox of the same owner.
	AlertsLink string
	// Window is today.RenewalDays, and the list's bounds.
	Window, TopDrops, TopRenewals, MaxItems int
}

// today serves the Today view (serving/today) of the filter's owner.
func (d *Dashboard) today(c echo.Context) error {
	var f filter
	if err := ownerFilter(c, &f, "/today"); err != nil {
		return d.fail(c, err)
	}
	fresh, err := d.readFreshness(c.Request().Context())
	if err != nil {
		return d.fail(c, err)
	}
	tv, err := today.Build(c.Request().Context(), d.store, f.Scope, fresh.asOf)
	if err != nil {
		return d.fail(c, err)
	}
	v := todayView{Filter: f, View: tv, Rule: today.Rule, Window: today.RenewalDays, TopDrops: today.TopDrops,
		TopRenewals: today.TopRenewals, MaxItems: today.MaxItems, AlertsLink: filter{Owner: f.Owner}.link("/alerts", "")}
	owners, _, err := d.facetsFor(c.Request().Context())
	if err != nil {
		return d.fail(c, err)
	}
	v.Owners = withScope(owners, f)
	for _, it := range tv.Items {
		row := todayRow{Item: it}
		if it.Drop != nil && !math.IsNaN(it.Drop.PreviousHealth) {
			prev := it.Drop.PreviousHealth
			row.PreviousHealth = &prev
		}
		if it.Renews {
			row.RenewsIn = int(math.Ceil(it.RenewalAt.Sub(tv.AsOf).Hours() / 24))
		}
		v.Rows = append(v.Rows, row)
	}
	return d.render(c, http.StatusOK, "today", "Today", v)
}

// RenewalsThrough is the last day of the renewal window, for the page.
func (v todayView) RenewalsThrough() time.Time { return v.RenewalsBefore.AddDate(0, 0, -1) }
