package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/cursor"
)

// alertListParams are the query parameters of GET /v1/alerts.
var alertListParams = []string{"owner", "account_id", "status", "rule", "severity", "sort", "limit", "cursor"}

// maxBulkAlerts bounds the ids of one bulk acknowledgement.
const maxBulkAlerts = 1000

// rules returns the configured alert rules, which the rule filter's
// values must name: the engine's, else the defaults.
func (s *Server) rules() alerts.Rules {
	if s.alerts != nil && len(s.alerts.Rules) > 0 {
		return s.alerts.Rules
	}
	return alerts.DefaultRules()
}

// multiParam returns the values of a query parameter that may be given
// several times or as a comma-separated list, or both.
func multiParam(c echo.Context, name string) []string {
	var out []string
	for _, v := range c.QueryParams()[name] {
		for part := range strings.SplitSeq(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// alertQuery reads the inbox's query parameters: owner, account_id,
// status (an alert status, active or snoozed; empty for every alert), rule
// and severity (each several values allowed), sort (severity_arr, the
// default, or newest) and cursor; unknown parameters and values are
// refused. The limit is the caller's.
func alertQuery(c echo.Context, rules alerts.Rules) (alerts.Query, error) {
	for name := range c.QueryParams() {
		if !slices.Contains(alertListParams, name) {
			return alerts.Query{}, errorf(http.StatusBadRequest, "bad_request", "unknown parameter "+name+"; this route takes "+
				strings.Join(alertListParams, ", "), map[string]string{"parameter": name})
		}
	}
	owner, err := ownerScope(c)
	if err != nil {
		return alerts.Query{}, err
	}
	q := alerts.Query{Owner: owner, AccountID: c.QueryParam("account_id"), Status: c.QueryParam("status"),
		Rules: multiParam(c, "rule"), Severities: multiParam(c, "severity"), Sort: c.QueryParam("sort")}
	if q.Status != "" && !slices.Contains(alerts.QueryStatuses, q.Status) {
		return q, errorf(http.StatusBadRequest, "bad_request", "status must be one of "+strings.Join(alerts.QueryStatuses, ", "),
			map[string]string{"status": q.Status})
	}
	if err := rules.CheckFilter(q.Rules, q.Severities); err != nil {
		return q, errorf(http.StatusBadRequest, "bad_request", err.Error(), nil)
	}
	if q.Sort == "" {
		q.Sort = alerts.SortSeverityARR
	}
	if !slices.Contains(alerts.Sorts, q.Sort) {
		return q, errorf(http.StatusBadRequest, "bad_request", "sort must be one of "+strings.Join(alerts.Sorts, ", "),
			map[string]string{"sort": q.Sort})
	}
	if cur := c.QueryParam("cursor"); cur != "" {
		after, err := cursor.Decode[alerts.Cursor](cur)
		if err != nil || after.Sort != q.Sort {
			return q, errorf(http.StatusBadRequest, "bad_request", "cursor is not one this API returned for sort="+q.Sort, nil)
		}
		q.After = &after
	}
	return q, nil
}

func (s *Server) listAlerts(c echo.Context) error {
	q, err := alertQuery(c, s.rules())
	if err != nil {
		return err
	}
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	q.Limit = limit + 1
	rows, err := s.store.Alerts(c.Request().Context(), q)
	if err != nil {
		return err
	}
	p := page[alertItemView]{Items: []alertItemView{}}
	if len(rows) > limit {
		if p.NextCursor, err = cursor.Encode(alerts.CursorAfter(q.Sort, &rows[limit-1])); err != nil {
			return err
		}
		rows = rows[:limit]
	}
	for i := range rows {
		p.Items = append(p.Items, newAlertItemView(&rows[i]))
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) getAlert(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.store.Alert(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	v := alertDetailView{alertView: newAlertView(&a), Actions: []alerts.Action{}}
	acts, err := s.store.AlertActions(ctx, a.AccountID, a.ID, 0)
	if err != nil {
		return err
	}
	v.Actions = append(v.Actions, acts...)
	return c.JSON(http.StatusOK, v)
}

// actor is the key that authenticated the request.
func actor(c echo.Context) alerts.Actor {
	k, _ := c.Get(keyContext).(access.Key)
	return alerts.Actor{KeyID: k.ID, Name: k.Name}
}

// act takes the action on one alert and answers with the alert.
func (s *Server) act(c echo.Context, act alerts.Action) error {
	ctx, id := c.Request().Context(), c.Param("id")
	act.By, act.At = actor(c), time.Now().UTC().Truncate(time.Microsecond)
	if _, err := s.store.ActOnAlerts(ctx, []string{id}, act); err != nil {
		return err
	}
	a, err := s.store.Alert(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newAlertView(&a))
}

// decodeBody decodes the request's JSON object into v, refusing unknown
// fields; an empty body leaves v as it is when optional.
func decodeBody(c echo.Context, v any, optional bool) error {
	d := json.NewDecoder(c.Request().Body)
	d.DisallowUnknownFields()
	err := d.Decode(v)
	switch {
	case errors.Is(err, io.EOF) && optional:
		return nil
	case err != nil:
		return errorf(http.StatusBadRequest, "bad_request", "body must be a JSON object: "+err.Error(), nil)
	}
	return nil
}

func (s *Server) ackAlert(c echo.Context) error {
	return s.act(c, alerts.Action{Kind: alerts.ActionAcknowledge})
}

func (s *Server) snoozeAlert(c echo.Context) error {
	var req struct {
		Until string `json:"until"`
	}
	if err := decodeBody(c, &req, false); err != nil {
		return err
	}
	until, err := alerts.ParseUntil(req.Until, time.Now())
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "invalid_until", err.Error(), map[string]string{"until": req.Until})
	}
	return s.act(c, alerts.Action{Kind: alerts.ActionSnooze, Until: until})
}

func (s *Server) resolveAlert(c echo.Context) error {
	var req struct {
		Note string `json:"note"`
	}
	if err := decodeBody(c, &req, true); err != nil {
		return err
	}
	note, err := alerts.CleanNote(req.Note)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "invalid_note", err.Error(), nil)
	}
	return s.act(c, alerts.Action{Kind: alerts.ActionResolve, Note: note})
}

// bulkAckResult says which alerts a bulk acknowledgement changed and
// which were acknowledged already.
type bulkAckResult struct {
	Acknowledged []string `json:"acknowledged"`
	Unchanged    []string `json:"unchanged"`
}

// ackAlerts acknowledges a list of alerts, all or none: an unknown id is
// 404 and a resolved alert 409, each naming the ids, and neither changes
// anything.
func (s *Server) ackAlerts(c echo.Context) error {
	var req struct {
		IDs []string `json:"ids"`
	}
	if err := decodeBody(c, &req, false); err != nil {
		return err
	}
	switch {
	case len(req.IDs) == 0:
		return errorf(http.StatusBadRequest, "bad_request", "give the alerts to acknowledge in ids", nil)
	case len(req.IDs) > maxBulkAlerts:
		return errorf(http.StatusBadRequest, "bad_request", fmt.Sprintf("at most %d alerts per request", maxBulkAlerts), nil)
	}
	for i, id := range req.IDs {
		if id == "" || !cleanParam(id) {
			return errorf(http.StatusBadRequest, "bad_request", "ids must not be empty nor hold NUL", map[string]string{fmt.Sprintf("ids[%d]", i): id})
		}
	}
	changed, err := s.store.ActOnAlerts(c.Request().Context(), req.IDs,
		alerts.Action{Kind: alerts.ActionAcknowledge, By: actor(c), At: time.Now().UTC().Truncate(time.Microsecond)})
	if err != nil {
		return err
	}
	res := bulkAckResult{Acknowledged: append([]string{}, changed...), Unchanged: []string{}}
	for _, id := range req.IDs {
		if !slices.Contains(res.Acknowledged, id) && !slices.Contains(res.Unchanged, id) {
			res.Unchanged = append(res.Unchanged, id)
		}
	}
	return c.JSON(http.StatusOK, res)
}
