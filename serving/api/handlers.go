package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/cursor"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/serving/today"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/dataset"
	"github.com/openchurn/churn/training/trainer"
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

// listScores serves the account and trial listings: current scores of
// q.Task, highest first by probability or by revenue at risk (sort=arr
// for accounts, sort=value for trials), filtered by owner (the key's own
// by default, see ownerScope) and segment, paged by an opaque cursor.
func (s *Server) listScores(c echo.Context, q score.ListQuery, sorts map[string]bool) error {
	sort := c.QueryParam("sort")
	if sort != "" {
		if _, ok := sorts[sort]; !ok {
			return errorf(http.StatusBadRequest, "bad_request", "sort must be one of "+strings.Join(slices.Sorted(maps.Keys(sorts)), ", "), nil)
		}
		q.ByRevenueAtRisk = sorts[sort]
	}
	limit, err := listLimit(c)
	if err != nil {
		return err
	}
	if q.Owner, err = ownerScope(c); err != nil {
		return err
	}
	q.Segment, q.Limit = c.QueryParam("segment"), limit+1
	if cur := c.QueryParam("cursor"); cur != "" {
		after, err := cursor.Decode[score.ListCursor](cur)
		if err != nil {
			return errorf(http.StatusBadRequest, "bad_request", "cursor is not one this API returned", nil)
		}
		q.After = &after
	}
	return s.cachedJSON(c, listKey(&q), false, func(ctx context.Context) (any, error) {
		rows, err := s.store.ScoreRows(ctx, q)
		if err != nil {
			return nil, err
		}
		page := page[summaryView]{Items: []summaryView{}}
		if len(rows) > limit {
			last := rows[limit-1]
			value := last.Probability
			if q.ByRevenueAtRisk {
				value = last.RevenueAtRisk
			}
			if page.NextCursor, err = cursor.Encode(score.ListCursor{Value: value, AccountID: last.AccountID}); err != nil {
				return nil, err
			}
			rows = rows[:limit]
		}
		for i := range rows {
			page.Items = append(page.Items, newSummaryView(&rows[i]))
		}
		return page, nil
	})
}

// listKey is the view cache's key of a listing's page: every field of q
// that listScores sets, the owner scope included, so that keys scoped to
// different owners never share a page.
func listKey(q *score.ListQuery) string {
	pql, after := "", ""
	if q.PQL != nil {
		pql = strconv.FormatBool(*q.PQL)
	}
	if q.After != nil {
		after = strconv.FormatFloat(q.After.Value, 'g', -1, 64) + " " + q.After.AccountID
	}
	return fmt.Sprintf("list/%s?owner=%q&band=%q&segment=%q&pql=%s&arr=%t&detail=%t&limit=%d&after=%q",
		q.Task, q.Owner, q.Band, q.Segment, pql, q.ByRevenueAtRisk, !q.WithoutDetail, q.Limit, after)
}

func (s *Server) listAccounts(c echo.Context) error {
	band := c.QueryParam("band")
	if band != "" && band != serving.Green && band != serving.Yellow && band != serving.Red {
		return errorf(http.StatusBadRequest, "bad_request", "band must be green, yellow or red", nil)
	}
	return s.listScores(c, score.ListQuery{Task: serving.TaskChurn, Band: band, WithoutDetail: true},
		map[string]bool{"risk": false, "arr": true})
}

func (s *Server) listTrials(c echo.Context) error {
	q := score.ListQuery{Task: serving.TaskConversion, ByRevenueAtRisk: true}
	if c.QueryParam("pql") != "" {
		b, err := queryBool(c, "pql", false)
		if err != nil {
			return err
		}
		q.PQL = &b
	}
	return s.listScores(c, q, map[string]bool{"conversion": false, "value": true})
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
func (s *Server) currentScore(ctx context.Context, a *features.Account, task string, refresh bool) (*scoreView, error) {
	id := a.AccountID
	sc, err := s.store.CurrentScore(ctx, id, task)
	stale := err == nil && s.opts.StaleAfter > 0 && time.Since(sc.AsOf) > s.opts.StaleAfter
	switch {
	case err == nil && !stale && !refresh:
		return newScoreView(&sc, "stored"), nil
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
	case errors.Is(err, serving.ErrNotEligible), errors.Is(err, trainer.ErrModelNotFound):
		if stale {
			return newScoreView(&sc, "stored"), nil
		}
		return nil, nil
	case err != nil:
		return nil, err
	}
	if err == nil && stale {
		fresh.Previous = sc.Probability
	}
	return newScoreView(&fresh, "on_demand"), nil
}

// cachedJSON answers with the view under key, from the cache unless fresh
// is asked for; render builds it on a miss. render may run after the
// request has been answered, so it must not use c.
func (s *Server) cachedJSON(c echo.Context, key string, fresh bool, render func(ctx context.Context) (any, error)) error {
	build := func(ctx context.Context) ([]byte, error) {
		v, err := render(ctx)
		if err != nil {
			return nil, err
		}
		return json.Marshal(v)
	}
	var (
		body []byte
		err  error
	)
	ctx := c.Request().Context()
	if fresh {
		body, err = build(ctx)
	} else {
		now := time.Now()
		s.watch.check(ctx, now)
		body, err = s.views.load(ctx, key, now, build)
	}
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, body)
}

// Cached returns the page under key from the server's page cache, built
// by build on a miss; it is the dashboard's cache of rendered listings.
// Pages follow the views' rules (Options.CacheTTL): a page past its TTL
// is served while one rebuild runs, writes through this server clear
// them, and a batch run elsewhere does within about Options.ScoresPoll.
// key must name everything the page depends on besides the stored data
// (the signed-in key, the filters); build may run after the request has
// been answered, with ctx's values but not its cancellation.
func (s *Server) Cached(ctx context.Context, key string, build func(context.Context) ([]byte, error)) ([]byte, error) {
	now := time.Now()
	s.watch.check(ctx, now)
	return s.pages.load(ctx, key, now, build)
}

func (s *Server) getAccount(c echo.Context) error {
	refresh, err := queryBool(c, "refresh", false)
	if err != nil {
		return err
	}
	id := c.Param("id")
	return s.cachedJSON(c, "account/"+id, refresh, func(ctx context.Context) (any, error) {
		return s.accountView(ctx, id, refresh)
	})
}

// accountView reads an account's view from the store.
func (s *Server) accountView(ctx context.Context, id string, refresh bool) (*accountView, error) {
	a, err := s.store.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	v := &accountView{Account: newAccountInfo(a), Trend: []trendPoint{}}
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
		v.Trend = append(v.Trend, trendPoint{AsOf: sc.AsOf, Probability: prob4(sc.Probability), Health: tenth(sc.Health), Band: sc.Band, ModelVersion: sc.ModelVersion})
	}
	open, err := s.store.Alerts(ctx, alerts.Query{AccountID: id, Status: alerts.StatusActive})
	if err != nil {
		return nil, err
	}
	v.OpenAlerts = newAlertViews(open)
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

func (s *Server) getTrial(c echo.Context) error {
	id := c.Param("id")
	refresh, err := queryBool(c, "refresh", false)
	if err != nil {
		return err
	}
	return s.cachedJSON(c, "trial/"+id, refresh, func(ctx context.Context) (any, error) {
		a, err := s.store.Account(ctx, id)
		if err != nil {
			return nil, err
		}
		v := &trialView{Account: newAccountInfo(a)}
		if v.Conversion, err = s.currentScore(ctx, a, serving.TaskConversion, refresh); err != nil {
			return nil, err
		}
		if v.Conversion == nil {
			return nil, errorf(http.StatusNotFound, "not_found", "account "+id+" is not a scored trial", nil)
		}
		return v, nil
	})
}

// scoreRequest asks for on-demand scores of stored accounts as of now (or
// AsOf), or of raw feature vectors.
type scoreRequest struct {
	// Task is churn or conversion; empty means both, for accounts.
	Task string `json:"task"`
	// AsOf scores the accounts as of a past time, such as the end of a
	// historical export; nil means now.
	AsOf       *time.Time    `json:"as_of"`
	AccountIDs []string      `json:"account_ids"`
	Vectors    []scoreVector `json:"vectors"`
}

// scoreVector is a raw feature vector by feature name.
type scoreVector struct {
	ID       string             `json:"id"`
	Features map[string]float64 `json:"features"`
}

// scoreResult is one result of on-demand scoring: a score, or why there is
// none.
type scoreResult struct {
	ID    string     `json:"id"`
	Task  string     `json:"task"`
	Score *scoreView `json:"score,omitempty"`
	Error *Error     `json:"error,omitempty"`
}

// maxScoreItems bounds the accounts or vectors of one request.
const maxScoreItems = 1000

func (s *Server) score(c echo.Context) error {
	var req scoreRequest
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
	out := []scoreResult{}
	asOf := time.Now().UTC().Truncate(time.Microsecond)
	if req.AsOf != nil {
		asOf = req.AsOf.UTC().Truncate(time.Microsecond)
	}
	unknown := map[string]string{}
	for i, v := range req.Vectors {
		for name := range v.Features {
			if features.FeatureIndex(name) < 0 {
				unknown[fmt.Sprintf("vectors[%d].features.%s", i, name)] = "not a feature of the catalog (see /v1/features)"
			}
		}
	}
	if len(unknown) > 0 {
		return errorf(http.StatusUnprocessableEntity, "unknown_feature", "vectors name features the catalog does not have", unknown)
	}
	histories := make([]*features.History, len(req.AccountIDs))
	for i, id := range req.AccountIDs {
		h, err := s.store.History(ctx, id)
		if err != nil {
			return err
		}
		if h.Account == nil && len(h.Usage)+len(h.Tickets)+len(h.Escalations)+len(h.Surveys)+len(h.Billing) == 0 {
			unknown[fmt.Sprintf("account_ids[%d]", i)] = "no account " + id
		}
		histories[i] = h
	}
	if len(unknown) > 0 {
		return errorf(http.StatusNotFound, "not_found", "unknown accounts", unknown)
	}
	for i, id := range req.AccountIDs {
		h := histories[i]
		for _, task := range tasks {
			r := scoreResult{ID: id, Task: task}
			sc, err := s.scorer.ScoreHistory(ctx, task, h, asOf)
			r.Score, r.Error = s.scoreOutcome(sc, err)
			if r.Error == nil && r.Score == nil {
				return err
			}
			out = append(out, r)
		}
	}
	for _, v := range req.Vectors {
		r := scoreResult{ID: v.ID, Task: req.Task}
		sc, err := s.scorer.ScoreValues(ctx, req.Task, v.ID, v.Features)
		r.Score, r.Error = s.scoreOutcome(sc, err)
		if r.Error == nil && r.Score == nil {
			return err
		}
		out = append(out, r)
	}
	return c.JSON(http.StatusOK, map[string][]scoreResult{"results": out})
}

// scoreOutcome turns an on-demand score into a result: a view, an error
// that belongs to the item, or neither for an error that fails the whole
// request.
func (s *Server) scoreOutcome(sc score.Score, err error) (*scoreView, *Error) {
	switch {
	case err == nil:
		return newScoreView(&sc, "on_demand"), nil
	case errors.Is(err, serving.ErrNotEligible):
		return nil, errorf(http.StatusUnprocessableEntity, "not_eligible", err.Error(), nil)
	case errors.Is(err, serving.ErrUnknownFeature):
		return nil, errorf(http.StatusUnprocessableEntity, "unknown_feature", err.Error(), nil)
	case errors.Is(err, trainer.ErrModelNotFound):
		return nil, errorf(http.StatusNotFound, "no_model", err.Error(), nil)
	}
	return nil, nil
}

func (s *Server) listFeatures(c echo.Context) error {
	cfg := s.opts.Features
	if s.scorer != nil {
		if m, err := s.scorer.Model(c.Request().Context(), serving.TaskChurn); err == nil {
			cfg = m.Features
		}
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
// artifact and the trainer's bulky curves and drivers, with the task's
// definition from its record and the figures serving derived from it when
// it is active.
type ModelView struct {
	Version     int64               `json:"version"`
	Task        string              `json:"task"`
	Algorithm   string              `json:"algorithm"`
	State       trainer.ModelState  `json:"state"`
	CreatedAt   time.Time           `json:"created_at"`
	StateAt     time.Time           `json:"state_at"`
	WindowStart time.Time           `json:"window_start,omitzero"`
	WindowEnd   time.Time           `json:"window_end,omitzero"`
	TestAUC     *float64            `json:"test_auc"`
	Lead        *dataset.Duration   `json:"lead,omitempty"`
	Horizon     *dataset.Duration   `json:"horizon,omitempty"`
	Grace       dataset.Duration    `json:"grace"`
	TrialDay    int                 `json:"trial_day,omitempty"`
	Metrics     *trainer.Evaluation `json:"metrics,omitempty"`
	Checksum    string              `json:"checksum"`
	Serving     *ServingFigures     `json:"serving,omitempty"`
}

// ServingFigures are what the scorer derived from an active model.
type ServingFigures struct {
	Horizon      string   `json:"horizon"`
	PQLThreshold *float64 `json:"pql_threshold,omitempty"`
	PQLShare     *float64 `json:"pql_share,omitempty"`
	PQLSource    string   `json:"pql_source,omitempty"`
}

func (s *Server) modelView(ctx context.Context, m trainer.RegisteredModel) ModelView {
	r := m.Record
	v := ModelView{Version: m.Version, Task: m.Task, Algorithm: m.Algorithm, State: m.State, CreatedAt: m.CreatedAt,
		StateAt: m.StateAt, WindowStart: m.WindowStart, WindowEnd: m.WindowEnd, Grace: r.Grace, TrialDay: r.TrialDay,
		Checksum: m.Checksum}
	if r.Task == trainer.TaskChurn {
		v.Lead, v.Horizon = &r.Lead, &r.Horizon
	}
	if r.Result != nil {
		v.Metrics = &r.Result.Evaluation
	}
	if auc := m.TestAUC; auc == auc {
		v.TestAUC = &auc
	}
	if m.State == trainer.ModelActive && s.scorer != nil {
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
	items := make([]keyView, len(keys))
	for i, k := range keys {
		items[i] = newKeyView(k)
	}
	return c.JSON(http.StatusOK, map[string][]keyView{"items": items})
}

func (s *Server) createKey(c echo.Context) error {
	var req struct {
		Role  access.Role `json:"role"`
		Name  string      `json:"name"`
		Owner string      `json:"owner"`
	}
	if err := json.NewDecoder(c.Request().Body).Decode(&req); err != nil {
		return errorf(http.StatusBadRequest, "bad_request", "body must be a JSON object: "+err.Error(), nil)
	}
	secret, rec, err := access.NewOwnedKey(req.Role, req.Name, req.Owner, time.Now())
	if err != nil {
		return errorf(http.StatusBadRequest, "bad_request", err.Error(), nil)
	}
	if err := s.store.CreateAPIKey(c.Request().Context(), rec); err != nil {
		return err
	}
	if err := s.keys.reload(c.Request().Context()); err != nil { // so that the key works at once
		return err
	}
	return c.JSON(http.StatusCreated, createdKeyView{keyView: newKeyView(rec), Key: secret})
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

// today serves the Today view of the owner's book (serving/today), the
// key's own by default, as the dashboard's /today shows it, through the
// view cache (Options.CacheTTL; writes through this server clear it).
func (s *Server) today(c echo.Context) error {
	owner, err := ownerScope(c)
	if err != nil {
		return err
	}
	return s.cachedJSON(c, "today/"+owner, false, func(ctx context.Context) (any, error) {
		asOf, _, err := s.store.Freshness(ctx)
		if err != nil {
			return nil, err
		}
		v, err := today.Build(ctx, s.store, owner, asOf)
		if err != nil {
			return nil, err
		}
		return newTodayView(v), nil
	})
}
