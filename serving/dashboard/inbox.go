package dashboard

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/cursor"
)

// inboxPageSize is the alerts of one page of the inbox.
const inboxPageSize = 50

type alertsView struct {
	Filter                       filter
	Owners                       []string
	Statuses, Sorts              []string
	RuleChoices, SeverityChoices []string
	Rows                         []alerts.Row
	Next, First                  string
	Back                         string
	Now                          time.Time
	ByPriority                   bool
}

// inboxStatuses are the inbox's status choices: the listing's, and all.
var inboxStatuses = append(slices.Clone(alerts.QueryStatuses), "all")

// alerts serves the inbox: alerts by severity × ARR (or newest first),
// filtered by status, owner, rules and severities, a page at a time.
func (d *Dashboard) alerts(c echo.Context) error {
	f := filter{After: c.QueryParam("after"), Rules: c.QueryParams()["rule"], Severities: c.QueryParams()["severity"]}
	if err := ownerFilter(c, &f, "/alerts"); err != nil {
		return d.fail(c, err)
	}
	var err error
	if f.Status, err = oneOf(c, "status", inboxStatuses...); err != nil {
		return d.fail(c, err)
	}
	if f.Sort, err = oneOf(c, "sort", alerts.Sorts...); err != nil {
		return d.fail(c, err)
	}
	if err := d.opts.Rules.CheckFilter(f.Rules, f.Severities); err != nil {
		return d.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
	}
	now := time.Now()
	q := alerts.Query{Owner: f.Scope, Status: f.Status, Rules: f.Rules, Severities: f.Severities, Sort: f.Sort, Now: now,
		Limit: inboxPageSize + 1}
	switch f.Status {
	case "":
		q.Status = alerts.StatusActive
	case "all":
		q.Status = ""
	}
	if q.Sort == "" {
		q.Sort = alerts.SortSeverityARR
	}
	if f.After != "" {
		after, err := cursor.Decode[alerts.Cursor](f.After)
		if err != nil || after.Sort != q.Sort {
			return d.fail(c, fmt.Errorf("%w: the page link is not one this dashboard made", errBadRequest))
		}
		q.After = &after
	}
	v := alertsView{Filter: f, Back: f.link("/alerts", f.After), Statuses: inboxStatuses, Sorts: alerts.Sorts,
		RuleChoices: d.opts.Rules.Names(), SeverityChoices: alerts.Severities, Now: now, ByPriority: q.Sort == alerts.SortSeverityARR}
	if v.Rows, err = d.store.Alerts(c.Request().Context(), q); err != nil {
		return d.fail(c, err)
	}
	if len(v.Rows) > inboxPageSize {
		next, err := cursor.Encode(alerts.CursorAfter(q.Sort, &v.Rows[inboxPageSize-1]))
		if err != nil {
			return d.fail(c, err)
		}
		v.Next = f.link("/alerts", next)
		v.Rows = v.Rows[:inboxPageSize]
	}
	if f.After != "" {
		v.First = f.link("/alerts", "")
	}
	if v.Owners, _, err = d.facetsFor(c.Request().Context()); err != nil {
		return d.fail(c, err)
	}
	v.Owners = withScope(v.Owners, f)
	return d.render(c, http.StatusOK, "alerts", "Alerts", v)
}

// actor is the signed-in key.
func actor(c echo.Context) alerts.Actor {
	k, _ := c.Get(keyContext).(access.Key)
	return alerts.Actor{KeyID: k.ID, Name: k.Name}
}

// act takes the action on the alerts ids and sends the browser back.
func (d *Dashboard) act(c echo.Context, ids []string, act alerts.Action) error {
	act.By, act.At = actor(c), time.Now().UTC().Truncate(time.Microsecond)
	if _, err := d.store.ActOnAlerts(c.Request().Context(), ids, act); err != nil {
		return d.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("back")))
}

// alertAction acknowledges, snoozes (until the form's date) or resolves
// (with the form's note) one alert.
func (d *Dashboard) alertAction(c echo.Context) error {
	act := alerts.Action{Kind: alerts.ActionResolve}
	switch {
	case strings.HasSuffix(c.Path(), "/ack"):
		act.Kind = alerts.ActionAcknowledge
	case strings.HasSuffix(c.Path(), "/snooze"):
		until, err := alerts.ParseUntil(c.FormValue("until"), time.Now())
		if err != nil {
			return d.fail(c, fmt.Errorf("%w: %v", errUnprocessable, err))
		}
		act.Kind, act.Until = alerts.ActionSnooze, until
	default:
		note, err := alerts.CleanNote(c.FormValue("note"))
		if err != nil {
			return d.fail(c, fmt.Errorf("%w: %v", errUnprocessable, err))
		}
		act.Note = note
	}
	return d.act(c, []string{c.Param("id")}, act)
}

// bulkAck acknowledges the alerts checked in the inbox, all or none.
func (d *Dashboard) bulkAck(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return d.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
	}
	ids := form["id"]
	switch {
	case len(ids) == 0:
		return d.fail(c, fmt.Errorf("%w: tick the alerts to acknowledge first", errBadRequest))
	case len(ids) > inboxPageSize:
		return d.fail(c, fmt.Errorf("%w: at most %d alerts at once", errBadRequest, inboxPageSize))
	}
	for _, id := range ids {
		if !cleanText(id) {
			return d.fail(c, fmt.Errorf("%w: an alert id holds a NUL or invalid UTF-8", errBadRequest))
		}
	}
	return d.act(c, ids, alerts.Action{Kind: alerts.ActionAcknowledge})
}

// cleanText reports whether s can be stored as text: valid UTF-8 without
// NUL.
func cleanText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
