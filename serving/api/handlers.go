package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/store"
)

// trendLength is how many past scores an account's trend shows.
const trendLength = 12

// listLimit reads ?limit=, 50 by default and at most 500.
func listLimit(c echo.Context) (int, error) {
	s := c.QueryParam("limit")
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 500 {
		return 0, errorf(http.StatusBadRequest, "bad_request", "limit must be an integer from 1 to 500", map[string]string{"limit": s})
	}
	return n, nil
}

// Page is a page of a listing; NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// listScores serves the account and trial listings: current scores of
// task, riskiest or likeliest first, paged by an opaque cursor.
func (s *Server) listScores(c echo.Context, task string, q store.ScoreQuery, sort string) error {
	if c.QueryParam("sort") != "" && c.QueryParam("sort") != sort {
		return errorf(http.StatusBadRequest, "bad_request", fmt.Sprintf("sort must be %q", sort), nil)
	}
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	q.Task, q.Owner, q.Limit = task, c.QueryParam("owner"), limit+1
	if cur := c.QueryParam("cursor"); cur != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cur)
		var after store.ScoreCursor
		if err == nil {
			err = json.Unmarshal(raw, &after)
		}
		if err != nil {
			return errorf(http.StatusBadRequest, "bad_request", "cursor is not one this API returned", nil)
		}
		q.After = &after
	}
	scores, err := s.store.CurrentScores(c.Request().Context(), q)
	if err != nil {
		return err
	}
	page := Page[Summary]{Items: []Summary{}}
	if len(scores) > limit {
		last := scores[limit-1]
		raw, _ := json.Marshal(store.ScoreCursor{Probability: last.Probability, AccountID: last.AccountID})
		page.NextCursor = base64.RawURLEncoding.EncodeToString(raw)
		scores = scores[:limit]
	}
	for _, sc := range scores {
		page.Items = append(page.Items, summary(sc))
	}
	return c.JSON(http.StatusOK, page)
}

func (s *Server) listAccounts(c echo.Context) error {
	band := c.QueryParam("band")
	if band != "" && band != serving.Green && band != serving.Yellow && band != serving.Red {
		return errorf(http.StatusBadRequest, "bad_request", "band must be green, yellow or red", nil)
	}
	return s.listScores(c, serving.TaskChurn, store.ScoreQuery{Band: band}, "risk")
}

func (s *Server) listTrials(c echo.Context) error {
	var q store.ScoreQuery
	if c.QueryParam("pql") != "" {
		b, err := queryBool(c, "pql", false)
		if err != nil {
			return err
		}
		q.PQL = &b
	}
	return s.listScores(c, serving.TaskConversion, q, "conversion")
}

// AccountView is an account with its health, reasons, trend and open
// alerts.
type AccountView struct {
	Account    *AccountInfo  `json:"account"`
	Churn      *ScoreView    `json:"churn"`
	Conversion *ScoreView    `json:"conversion"`
	Trend      []TrendPoint  `json:"trend"`
	OpenAlerts []store.Alert `json:"open_alerts"`
}

// currentScore returns the stored score of account a for task, or one
// computed on demand when none is stored, it is older than StaleAfter, or
// refresh is asked for. It returns nil, without error, when the task does
// not score the account.
//
// Only an account whose row says it may be scored now (paying and not
// churned for churn; in a running trial for conversion) is scored on
// demand: the others would cost a history read to learn they are not
// eligible.
func (s *Server) currentScore(ctx context.Context, a *features.Account, task string, refresh bool) (*ScoreView, error) {
	id := a.AccountID
	sc, err := s.store.CurrentScore(ctx, id, task)
	stale := err == nil && s.opts.StaleAfter > 0 && time.Since(sc.AsOf) > s.opts.StaleAfter
	switch {
	case err == nil && !stale && !refresh:
		v := scoreView(sc, "stored")
		return &v, nil
	case err != nil && !errors.Is(err, store.ErrNoScore):
		return nil, err
	case s.scorer == nil, err != nil && !mayScore(task, a, time.Now()):
		return nil, nil
	}
	h, err := s.store.History(ctx, id)
	if err != nil {
		return nil, err
	}
	fresh, err := s.scorer.ScoreHistory(ctx, task, h, time.Now().UTC().Truncate(time.Microsecond))
	switch {
	case errors.Is(err, serving.ErrNotEligible), errors.Is(err, store.ErrModelNotFound):
		if stale {
			v := scoreView(sc, "stored")
			return &v, nil
		}
		return nil, nil
	case err != nil:
		return nil, err
	}
	if err == nil && stale {
		fresh.Previous = sc.Probability
	}
	v := scoreView(fresh, "on_demand")
	return &v, nil
}

// cachedJSON answers with the view under key, from the cache unless fresh
// is asked for; render builds it on a miss.
func (s *Server) cachedJSON(c echo.Context, key string, fresh bool, render func() (any, error)) error {
	build := func() ([]byte, error) {
		v, err := render()
		if err != nil {
			return nil, err
		}
		return json.Marshal(v)
	}
	var (
		body []byte
		err  error
	)
	if fresh {
		body, err = build()
	} else {
		body, err = s.views.load(key, time.Now(), build)
	}
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, body)
}

func (s *Server) getAccount(c echo.Context) error {
	refresh, err := queryBool(c, "refresh", false)
	if err != nil {
		return err
	}
	id := c.Param("id")
	return s.cachedJSON(c, "account/"+id, refresh, func() (any, error) {
		return s.accountView(c.Request().Context(), id, refresh)
	})
}

// accountView reads an account's view from the store.
func (s *Server) accountView(ctx context.Context, id string, refresh bool) (*AccountView, error) {
	a, err := s.store.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	v := &AccountView{Account: accountInfo(a), Trend: []TrendPoint{}}
	if v.Churn, err = s.currentScore(ctx, a, serving.TaskChurn, refresh); err != nil {
		return nil, err
	}
	if v.Conversion, err = s.currentScore(ctx, a, serving.TaskConversion, refresh); err != nil {
		return nil, err
	}
	past, err := s.store.ScoreHistory(ctx, id, serving.TaskChurn, trendLength)
	if err != nil {
		return nil, err
	}
	for _, sc := range past {
		v.Trend = append(v.Trend, TrendPoint{AsOf: sc.AsOf, Probability: sc.Probability, Health: sc.Health, Band: sc.Band, ModelVersion: sc.ModelVersion})
	}
	if v.OpenAlerts, err = s.store.Alerts(ctx, store.AlertQuery{AccountID: id, Status: "active"}); err != nil {
		return nil, err
	}
	if v.OpenAlerts == nil {
		v.OpenAlerts = []store.Alert{}
	}
	return v, nil
}

// mayScore reports whether the accounts row of a allows task to score it
// as of now: paying and not churned for churn, in a running trial for
// conversion.
func mayScore(task string, a *features.Account, now time.Time) bool {
	if task == serving.TaskChurn {
		return a.MRR > 0 && a.ChurnedAt.IsZero()
	}
	return !a.TrialStartedAt.IsZero() && a.ConvertedAt.IsZero() && a.ChurnedAt.IsZero() &&
		(a.TrialEndsAt.IsZero() || a.TrialEndsAt.After(now))
}

// TrialView is one trial.
type TrialView struct {
	Account    *AccountInfo `json:"account"`
	Conversion *ScoreView   `json:"conversion"`
}

func (s *Server) getTrial(c echo.Context) error {
	ctx, id := c.Request().Context(), c.Param("id")
	refresh, err := queryBool(c, "refresh", false)
	if err != nil {
		return err
	}
	return s.cachedJSON(c, "trial/"+id, refresh, func() (any, error) {
		a, err := s.store.Account(ctx, id)
		if err != nil {
			return nil, err
		}
		v := &TrialView{Account: accountInfo(a)}
		if v.Conversion, err = s.currentScore(ctx, a, serving.TaskConversion, refresh); err != nil {
			return nil, err
		}
		if v.Conversion == nil {
			return nil, errorf(http.StatusNotFound, "not_found", "account "+id+" is not a scored trial", nil)
		}
		return v, nil
	})
}

// ScoreRequest asks for on-demand scores of stored accounts as of now, or
// of raw feature vectors.
type ScoreRequest struct {
	// Task is churn or conversion; empty means both, for accounts.
	Task       string        `json:"task"`
	AccountIDs []string      `json:"account_ids"`
	Vectors    []ScoreVector `json:"vectors"`
}

// ScoreVector is a raw feature vector by feature name.
type ScoreVector struct {
	ID       string             `json:"id"`
	Features map[string]float64 `json:"features"`
}

// ScoreResult is one result of on-demand scoring: a score, or why there is
// none.
type ScoreResult struct {
	ID    string     `json:"id"`
	Task  string     `json:"task"`
	Score *ScoreView `json:"score,omitempty"`
	Error *Error     `json:"error,omitempty"`
}

// maxScoreItems bounds the accounts or vectors of one request.
const maxScoreItems = 1000

func (s *Server) score(c echo.Context) error {
	var req ScoreRequest
	if err := json.NewDecoder(c.Request().Body).Decode(&req); err != nil {
		return errorf(http.StatusBadRequest, "bad_request", "body must be a JSON object: "+err.Error(), nil)
	}
	tasks := serving.Tasks
	switch req.Task {
	case "":
	case serving.TaskChurn, serving.TaskConversion:
		tasks = []string{req.Task}
	default:
		return errorf(http.StatusBadRequest, "bad_request", "task must be churn or conversion", nil)
	}
	n := len(req.AccountIDs) + len(req.Vectors)
	switch {
	case n == 0:
		return errorf(http.StatusBadRequest, "bad_request", "give account_ids or vectors", nil)
	case n > maxScoreItems:
		return errorf(http.StatusBadRequest, "bad_request", fmt.Sprintf("at most %d accounts or vectors per request", maxScoreItems), nil)
	case len(req.Vectors) > 0 && req.Task == "":
		return errorf(http.StatusBadRequest, "bad_request", "vectors need a task", nil)
	case s.scorer == nil:
		return errorf(http.StatusServiceUnavailable, "unavailable", "this server does not score on demand", nil)
	}
	ctx := c.Request().Context()
	out := []ScoreResult{}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, id := range req.AccountIDs {
		h, err := s.store.History(ctx, id)
		if err != nil {
			return err
		}
		for _, task := range tasks {
			r := ScoreResult{ID: id, Task: task}
			sc, err := s.scorer.ScoreHistory(ctx, task, h, now)
			r.Score, r.Error = s.scoreOutcome(sc, err)
			if r.Error == nil && r.Score == nil {
				return err
			}
			out = append(out, r)
		}
	}
	for _, v := range req.Vectors {
		r := ScoreResult{ID: v.ID, Task: req.Task}
		sc, err := s.scorer.ScoreValues(ctx, req.Task, v.ID, v.Features)
		r.Score, r.Error = s.scoreOutcome(sc, err)
		if r.Error == nil && r.Score == nil {
			return err
		}
		out = append(out, r)
	}
	return c.JSON(http.StatusOK, map[string][]ScoreResult{"results": out})
}

// scoreOutcome turns an on-demand score into a result: a view, an error
// that belongs to the item, or neither for an error that fails the whole
// request.
func (s *Server) scoreOutcome(sc store.Score, err error) (*ScoreView, *Error) {
	switch {
	case err == nil:
		v := scoreView(sc, "on_demand")
		return &v, nil
	case errors.Is(err, serving.ErrNotEligible):
		return nil, errorf(http.StatusUnprocessableEntity, "not_eligible", err.Error(), nil)
	case errors.Is(err, serving.ErrUnknownFeature):
		return nil, errorf(http.StatusUnprocessableEntity, "unknown_feature", err.Error(), nil)
	case errors.Is(err, store.ErrModelNotFound):
		return nil, errorf(http.StatusNotFound, "no_model", err.Error(), nil)
	}
	return nil, nil
}

func (s *Server) listAlerts(c echo.Context) error {
	status := c.QueryParam("status")
	switch status {
	case "", "active", store.AlertOpen, store.AlertAcknowledged, store.AlertResolved:
	default:
		return errorf(http.StatusBadRequest, "bad_request", "status must be open, acknowledged, resolved or active", nil)
	}
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	as, err := s.store.Alerts(c.Request().Context(), store.AlertQuery{Owner: c.QueryParam("owner"), Status: status,
		AccountID: c.QueryParam("account_id"), Limit: limit})
	if err != nil {
		return err
	}
	if as == nil {
		as = []store.Alert{}
	}
	return c.JSON(http.StatusOK, map[string][]store.Alert{"items": as})
}

func (s *Server) ackAlert(c echo.Context) error {
	a, err := s.store.AcknowledgeAlert(c.Request().Context(), c.Param("id"), time.Now().UTC())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (s *Server) resolveAlert(c echo.Context) error {
	a, err := s.store.ResolveAlert(c.Request().Context(), c.Param("id"), time.Now().UTC())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (s *Server) listFeatures(c echo.Context) error {
	cfg := features.Config{}
	if s.scorer != nil {
		cfg = s.scorer.Features
	}
	catalog, err := cfg.Catalog()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"version": features.CatalogVersion, "features": catalog})
}

func (s *Server) saasMetrics(c echo.Context) error {
	end, err := queryDate(c, "as_of")
	if err != nil {
		return err
	}
	days := 30
	if v := c.QueryParam("window_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 366 {
			return errorf(http.StatusBadRequest, "bad_request", "window_days must be an integer from 1 to 366", nil)
		}
		days = n
	}
	m, err := serving.SaaSMetrics(c.Request().Context(), s.store, end, days)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

// ModelView is a registered model as the API lists it: without its
// artifact and the trainer's bulky details, with the figures serving
// derived from it when it is active.
type ModelView struct {
	Version     int64            `json:"version"`
	Task        string           `json:"task"`
	Algorithm   string           `json:"algorithm"`
	State       store.ModelState `json:"state"`
	CreatedAt   time.Time        `json:"created_at"`
	StateAt     time.Time        `json:"state_at"`
	WindowStart time.Time        `json:"window_start,omitzero"`
	WindowEnd   time.Time        `json:"window_end,omitzero"`
	TestAUC     *float64         `json:"test_auc"`
	Metrics     json.RawMessage  `json:"metrics,omitempty"`
	Checksum    string           `json:"checksum"`
	Serving     *ServingFigures  `json:"serving,omitempty"`
}

// ServingFigures are what the scorer derived from an active model.
type ServingFigures struct {
	Horizon      string   `json:"horizon"`
	PQLThreshold *float64 `json:"pql_threshold,omitempty"`
	PQLShare     *float64 `json:"pql_share,omitempty"`
	PQLSource    string   `json:"pql_source,omitempty"`
}

func (s *Server) modelView(ctx context.Context, m store.Model) ModelView {
	v := ModelView{Version: m.Version, Task: m.Task, Algorithm: m.Algorithm, State: m.State, CreatedAt: m.CreatedAt,
		StateAt: m.StateAt, WindowStart: m.WindowStart, WindowEnd: m.WindowEnd, Metrics: m.Metrics, Checksum: m.Checksum}
	if auc := m.TestAUC; auc == auc {
		v.TestAUC = &auc
	}
	if m.State == store.ModelActive && s.scorer != nil {
		if sm, err := s.scorer.Model(ctx, m.Task); err == nil && sm.Version == m.Version {
			f := &ServingFigures{Horizon: sm.Horizon}
			if m.Task == serving.TaskConversion {
				t, share := sm.PQLThreshold, sm.PQLShare
				f.PQLThreshold, f.PQLShare, f.PQLSource = &t, &share, sm.PQLSource
			}
			v.Serving = f
		}
	}
	return v
}

func (s *Server) listModels(c echo.Context) error {
	ctx := c.Request().Context()
	ms, err := s.store.Models(ctx, c.QueryParam("task"))
	if err != nil {
		return err
	}
	out := []ModelView{}
	for _, m := range ms {
		out = append(out, s.modelView(ctx, m))
	}
	return c.JSON(http.StatusOK, map[string][]ModelView{"items": out})
}

func (s *Server) activateModel(c echo.Context) error {
	ctx := c.Request().Context()
	version, err := strconv.ParseInt(c.Param("version"), 10, 64)
	if err != nil {
		return errorf(http.StatusBadRequest, "bad_request", "version must be an integer", nil)
	}
	prev, err := s.store.ActivateModel(ctx, version)
	if err != nil {
		return err
	}
	res := map[string]any{"activated": version}
	if prev != nil {
		res["retired"] = prev.Version
	}
	return c.JSON(http.StatusOK, res)
}

func (s *Server) listKeys(c echo.Context) error {
	keys, err := s.store.APIKeys(c.Request().Context())
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []store.APIKey{}
	}
	return c.JSON(http.StatusOK, map[string][]store.APIKey{"items": keys})
}

func (s *Server) createKey(c echo.Context) error {
	var req struct {
		Role string `json:"role"`
		Name string `json:"name"`
	}
	if err := json.NewDecoder(c.Request().Body).Decode(&req); err != nil {
		return errorf(http.StatusBadRequest, "bad_request", "body must be a JSON object: "+err.Error(), nil)
	}
	key, rec, err := NewKey(req.Role, req.Name, time.Now())
	if err != nil {
		return errorf(http.StatusBadRequest, "bad_request", err.Error(), nil)
	}
	if err := s.store.CreateAPIKey(c.Request().Context(), rec); err != nil {
		return err
	}
	if err := s.keys.reload(c.Request().Context()); err != nil { // so that the key works at once
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": rec.ID, "role": rec.Role, "name": rec.Name, "key": key,
		"created_at": rec.CreatedAt})
}

func (s *Server) revokeKey(c echo.Context) error {
	if err := s.store.RevokeAPIKey(c.Request().Context(), c.Param("id"), time.Now().UTC()); err != nil {
		return err
	}
	if err := s.keys.reload(c.Request().Context()); err != nil { // so that it stops working at once here
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
