package dashboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/cursor"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/metrics"
	"github.com/openchurn/churn/training/report"
	"github.com/openchurn/churn/training/trainer"
)

// pageSize is the rows of one page of a listing.
const pageSize = 25

// trendPoints is how many past scores a row's sparkline shows, and
// historyPoints how many the account page's chart shows.
const (
	trendPoints   = 12
	historyPoints = 52
)

// filter is a listing's query: the form's fields and the page cursor.
type filter struct {
	Owner, Band, Segment, Sort, PQL, Status string
	// Rules and Severities are the alert inbox's filters, several values
	// each.
	Rules, Severities []string
	After             string
	// Scope is the owner listed, "" for every owner, and Mine the
	// signed-in key's owner (ownerFilter); Path is the listing's page.
	Scope, Mine, Path string
}

// WithOwner links to the filter's page with its filters but owner's
// ("" for the key's own, access.AllOwners for every owner's), from the
// first page.
func (f filter) WithOwner(owner string) string {
	f.Owner = owner
	return f.link(f.Path, "")
}

// values returns the filter's non-empty fields as a query, without the
// cursor.
func (f filter) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"owner", f.Owner}, {"band", f.Band}, {"segment", f.Segment}, {"sort", f.Sort},
		{"pql", f.PQL}, {"status", f.Status}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	for _, r := range f.Rules {
		v.Add("rule", r)
	}
	for _, sev := range f.Severities {
		v.Add("severity", sev)
	}
	return v
}

// link returns path with the filter and, when not empty, the cursor.
func (f filter) link(path, after string) string {
	v := f.values()
	if after != "" {
		v.Set("after", after)
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// oneOf checks that a query parameter holds one of the allowed values.
func oneOf(c echo.Context, name string, allowed ...string) (string, error) {
	v := c.QueryParam(name)
	if v == "" || slices.Contains(allowed, v) {
		return v, nil
	}
	return "", fmt.Errorf("%w: %s must be one of %s", errBadRequest, name, strings.Join(allowed, ", "))
}

// afterCursor decodes the ?after= of a listing.
func afterCursor(s string) (*score.ListCursor, error) {
	if s == "" {
		return nil, nil
	}
	cur, err := cursor.Decode[score.ListCursor](s)
	if err != nil {
		return nil, fmt.Errorf("%w: the page link is not one this dashboard made", errBadRequest)
	}
	return &cur, nil
}

// facetCache keeps the filters' choices, which change only when accounts
// or owners do, so that a listing does not scan for them every time.
type facetCache struct {
	at               time.Time
	owners, segments []string
}

func (d *Dashboard) facetsFor(ctx context.Context) (owners, segments []string, err error) {
	d.facetsMu.Lock()
	defer d.facetsMu.Unlock()
	if time.Since(d.facets.at) < 30*time.Second {
		return d.facets.owners, d.facets.segments, nil
	}
	owners, segments, err = d.store.Facets(ctx, serving.TaskChurn)
	if err != nil {
		return nil, nil, err
	}
	d.facets = facetCache{at: time.Now(), owners: owners, segments: segments}
	return owners, segments, nil
}

// actionable returns the score's reasons a rep can act on: all of them
// for a score stored since reasons and context were split, and those that
// are not context for one stored before.
func actionable(sc *score.Score) []score.Reason {
	var out []score.Reason
	for _, r := range sc.Detail.Reasons {
		if (features.Feature{Name: r.Feature, Group: features.Group(r.Group)}).Actionable() {
			out = append(out, r)
		}
	}
	return out
}

// topReason is, in words, a score's strongest actionable reason raising
// its probability (towards churn, or towards converting), which is what a
// high score in a listing needs explained; else its strongest actionable
// reason; else "".
func topReason(sc *score.Score) string {
	rs := actionable(sc)
	for i := range rs {
		if rs[i].Contribution > 0 {
			return rs[i].Text(sc.Task)
		}
	}
	if len(rs) == 0 {
		return ""
	}
	return rs[0].Text(sc.Task)
}

type accountRow struct {
	ID, Name, Owner, Segment, Band string
	AsOf                           time.Time
	Health, ARR, AtRisk            float64
	Delta                          *float64 // health change since the previous score
	Spark                          sparkline
	Reason                         string
	OpenAlerts                     int
}

type accountsView struct {
	Filter           filter
	Owners, Segments []string
	Bands            []string
	Rows             []accountRow
	Next, First      string
}

// accounts serves the accounts listing, from the page cache
// (Options.Pages) under the signed-in key's anti-forgery token and the
// filter, which together name everything the page shows besides the
// stored data.
func (d *Dashboard) accounts(c echo.Context) error {
	var (
		f   = filter{Segment: c.QueryParam("segment"), After: c.QueryParam("after")}
		err error
	)
	if err = ownerFilter(c, &f, "/accounts"); err != nil {
		return d.fail(c, err)
	}
	if f.Band, err = oneOf(c, "band", serving.Green, serving.Yellow, serving.Red); err != nil {
		return d.fail(c, err)
	}
	if f.Sort, err = oneOf(c, "sort", "risk", "arr"); err != nil {
		return d.fail(c, err)
	}
	after, err := afterCursor(f.After)
	if err != nil {
		return d.fail(c, err)
	}
	p := d.pageFor(c, "accounts", "Accounts at risk")
	build := func(ctx context.Context) ([]byte, error) {
		v, err := d.accountsView(ctx, f, after)
		if err != nil {
			return nil, err
		}
		p.Data = v
		return d.execute(ctx, p)
	}
	ctx := c.Request().Context()
	var body []byte
	if d.opts.Pages == nil {
		body, err = build(ctx)
	} else {
		body, err = d.opts.Pages.Cached(ctx, fmt.Sprintf("dashboard/accounts %q %q", p.CSRF, f.link(f.Path, f.After)), build)
	}
	if err != nil {
		return d.fail(c, err)
	}
	return c.HTMLBlob(http.StatusOK, body)
}

// accountsView reads the page of the accounts listing that f and after
// ask for.
func (d *Dashboard) accountsView(ctx context.Context, f filter, after *score.ListCursor) (*accountsView, error) {
	rows, err := d.store.ScoreRows(ctx, score.ListQuery{Task: serving.TaskChurn, Owner: f.Scope, Band: f.Band, Segment: f.Segment,
		ByRevenueAtRisk: f.Sort == "arr", After: after, Limit: pageSize + 1})
	if err != nil {
		return nil, err
	}
	v := &accountsView{Filter: f, Bands: []string{serving.Red, serving.Yellow, serving.Green}}
	if v.Owners, v.Segments, err = d.facetsFor(ctx); err != nil {
		return nil, err
	}
	v.Owners = withScope(v.Owners, f)
	if len(rows) > pageSize {
		last := rows[pageSize-1]
		value := last.Probability
		if f.Sort == "arr" {
			value = last.RevenueAtRisk
		}
		next, err := cursor.Encode(score.ListCursor{Value: value, AccountID: last.AccountID})
		if err != nil {
			return nil, err
		}
		v.Next = f.link("/accounts", next)
		rows = rows[:pageSize]
	}
	if f.After != "" {
		v.First = f.link("/accounts", "")
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.AccountID
	}
	trends, err := d.store.HealthTrends(ctx, serving.TaskChurn, ids, trendPoints)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		r := &rows[i]
		var hs []float64
		for _, p := range trends[r.AccountID] {
			hs = append(hs, p.Health)
		}
		row := accountRow{ID: r.AccountID, AsOf: r.AsOf, Name: r.Name, Owner: r.Owner, Segment: r.Segment, Band: r.Band, Health: r.Health,
			ARR: r.ARR, AtRisk: r.RevenueAtRisk, Spark: newSparkline(hs), Reason: topReason(&r.Score), OpenAlerts: r.OpenAlerts}
		if !math.IsNaN(r.Previous) {
			delta := 100 * (r.Previous - r.Probability)
			row.Delta = &delta
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

// scoreInfo is a score as the account page shows it.
type scoreInfo struct {
	score.Score
	Horizon string
	Delta   *float64
}

func newScoreInfo(sc score.Score) *scoreInfo {
	si := &scoreInfo{Score: sc, Horizon: sc.Detail.Horizon}
	if !math.IsNaN(sc.Previous) {
		delta := 100 * (sc.Previous - sc.Probability)
		si.Delta = &delta
	}
	return si
}

type componentBar struct {
	Name  string
	Score float64
}

type reasonRow struct {
	What, Value, Typical string
	// Effect words the direction for the score's task; Raises marks it,
	// and News ("good" or "bad") colours it.
	Effect string
	Raises bool
	News   string
	// Play is the configured next step, "" when none is.
	Play string
}

// factRow is a context fact of a score, as a sentence coloured by News.
type factRow struct {
	Text, News string
}

type accountView struct {
	Account     *features.Account
	Churn       *scoreInfo
	Conversion  *scoreInfo
	History     *chart
	Components  []componentBar
	Reasons     []reasonRow
	Context     []factRow
	Tickets     []features.Ticket
	Escalations []features.Escalation
	NPS         []features.SurveyResponse
	Usage       *chart
	UsageWeeks  int
	Alerts      []alerts.Row
	// Timeline is the actions taken on the account's alerts, newest
	// first.
	Timeline []alerts.Action
	Now      time.Time
	Back     string
}

// recent is how many tickets, escalations and answers the account page
// lists, and usageWeeks the weeks its usage chart covers.
const (
	recent     = 8
	usageWeeks = 26
)

// timelineLength is how many actions on alerts the account page lists.
const timelineLength = 50

func (d *Dashboard) account(c echo.Context) error {
	ctx, id := c.Request().Context(), c.Param("id")
	a, err := d.store.Account(ctx, id)
	if err != nil {
		return d.fail(c, err)
	}
	v := accountView{Account: a, Back: "/accounts/" + url.PathEscape(id)}
	var ref time.Time // the time "recent" is measured back from: the latest score's, else the latest record's
	for _, task := range serving.Tasks {
		sc, err := d.store.CurrentScore(ctx, id, task)
		if errors.Is(err, store.ErrNoScore) {
			continue
		}
		if err != nil {
			return d.fail(c, err)
		}
		if sc.AsOf.After(ref) {
			ref = sc.AsOf
		}
		if task == serving.TaskConversion {
			v.Conversion = newScoreInfo(sc)
			if v.Churn == nil {
				v.Reasons, v.Context = reasonRows(&sc, d.opts.Plays), factRows(&sc)
			}
			continue
		}
		v.Churn = newScoreInfo(sc)
		v.Reasons, v.Context = reasonRows(&sc, d.opts.Plays), factRows(&sc)
		for _, g := range []string{"usage", "support", "sentiment", "commercial"} {
			if comp, ok := sc.Detail.Components[g]; ok {
				v.Components = append(v.Components, componentBar{Name: g, Score: comp.Score})
			}
		}
	}
	past, err := d.store.ScoreHistory(ctx, id, serving.TaskChurn, historyPoints)
	if err != nil {
		return d.fail(c, err)
	}
	if len(past) > 0 {
		pts := make([]point, len(past))
		for i, sc := range past { // latest first
			pts[len(past)-1-i] = point{Label: sc.AsOf.Format("Jan 2"), Value: sc.Health,
				Title: fmt.Sprintf("%s: health %.0f (%s)", sc.AsOf.Format(time.DateOnly), sc.Health, sc.Band)}
		}
		v.History = healthChart(640, 200, pts, d.opts.Bands.Green, d.opts.Bands.Yellow)
	}
	h, err := d.store.History(ctx, id)
	if err != nil {
		return d.fail(c, err)
	}
	if ref.IsZero() {
		ref = latestRecord(h)
	}
	v.Tickets = lastN(h.Tickets, recent)
	v.Escalations = lastN(h.Escalations, recent)
	var nps []features.SurveyResponse
	for _, r := range h.Surveys {
		if r.Kind == features.SurveyNPS {
			nps = append(nps, r)
		}
	}
	v.NPS = lastN(nps, recent)
	v.Usage, v.UsageWeeks = usageChart(h.Usage, ref), usageWeeks
	v.Now = time.Now()
	if v.Alerts, err = d.store.Alerts(ctx, alerts.Query{AccountID: id, Now: v.Now, Limit: 20}); err != nil {
		return d.fail(c, err)
	}
	if v.Timeline, err = d.store.AlertActions(ctx, id, "", timelineLength); err != nil {
		return d.fail(c, err)
	}
	title := a.Name
	if title == "" {
		title = a.AccountID
	}
	return d.render(c, http.StatusOK, "account", title, v)
}

// reasonRows lays out the score's actionable reasons for the account
// page's table, from their fields: what the feature measures, the
// account's and the typical value, the effect worded for the score's task
// and coloured by whether it is good news, and the play for its feature or
// group.
func reasonRows(sc *score.Score, plays serving.Plays) []reasonRow {
	var out []reasonRow
	rs := actionable(sc)
	for i := range rs {
		r := &rs[i]
		effect := r.Effect()
		row := reasonRow{What: r.What(), Value: r.ValueText(), Typical: r.TypicalText(), Effect: effect.On(sc.Task),
			Raises: effect == score.Raises, News: r.News(sc.Task), Play: plays.For(r.Feature, r.Group)}
		if row.Typical == "" {
			row.Typical = "—"
		}
		out = append(out, row)
	}
	return out
}

// factRows words the score's context as sentences: its context facts,
// and for a score stored before reasons and context were split, the
// reasons that are context.
func factRows(sc *score.Score) []factRow {
	var out []factRow
	add := func(r *score.Reason) {
		out = append(out, factRow{Text: r.Fact(sc.Task, sc.Detail.RiskWindowDays), News: r.News(sc.Task)})
	}
	for i := range sc.Detail.Context {
		add(&sc.Detail.Context[i])
	}
	for i := range sc.Detail.Reasons {
		r := &sc.Detail.Reasons[i]
		if !(features.Feature{Name: r.Feature, Group: features.Group(r.Group)}).Actionable() {
			add(r)
		}
	}
	return out
}

// lastN returns the last n records, newest first.
func lastN[T any](recs []T, n int) []T {
	out := slices.Clone(recs[max(0, len(recs)-n):])
	slices.Reverse(out)
	return out
}

func latestRecord(h *features.History) time.Time {
	var t time.Time
	if n := len(h.Usage); n > 0 {
		t = h.Usage[n-1].At
	}
	if n := len(h.Billing); n > 0 && h.Billing[n-1].At.After(t) {
		t = h.Billing[n-1].At
	}
	return t
}

// usageChart sums uses per week over the usageWeeks weeks before ref; it
// is nil when there were none.
func usageChart(events []features.UsageEvent, ref time.Time) *chart {
	if ref.IsZero() {
		return nil
	}
	start := ref.AddDate(0, 0, -7*usageWeeks)
	uses := make([]int, usageWeeks)
	users := make([]map[string]bool, usageWeeks)
	for _, e := range events {
		if !e.At.Before(ref) || e.At.Before(start) {
			continue
		}
		w := int(e.At.Sub(start) / (7 * 24 * time.Hour))
		uses[w] += e.Count
		if users[w] == nil {
			users[w] = map[string]bool{}
		}
		users[w][e.UserID] = true
	}
	total := 0
	for _, n := range uses {
		total += n
	}
	if total == 0 {
		return nil
	}
	pts := make([]point, usageWeeks)
	for i := range pts {
		wk := start.AddDate(0, 0, 7*i)
		pts[i] = point{Label: wk.Format("Jan 2"), Value: float64(uses[i]),
			Title: fmt.Sprintf("week of %s: %d uses by %d users", wk.Format(time.DateOnly), uses[i], len(users[i]))}
	}
	return barChart(640, 160, "Product uses per week", pts)
}

type trialRow struct {
	ID, Name, Owner, Plan, Segment string
	AsOf                           time.Time
	Probability                    float64
	PQL                            bool
	Tier                           string // hot, warm or cold
	Reason                         string
	// Trial holds the worklist's facts; nil for a score stored before
	// they were kept.
	Trial *score.TrialFacts
	// Value is the expected ARR won, probability × 12 × expected MRR.
	Value float64
}

type trialsView struct {
	Filter      filter
	Owners      []string
	Rows        []trialRow
	Next, First string
	// WarmPercent is where the warm tier starts, in percent of the PQL
	// threshold.
	WarmPercent float64
}

func (d *Dashboard) trials(c echo.Context) error {
	var (
		f   = filter{After: c.QueryParam("after")}
		err error
	)
	if err = ownerFilter(c, &f, "/trials"); err != nil {
		return d.fail(c, err)
	}
	if f.PQL, err = oneOf(c, "pql", "true"); err != nil {
		return d.fail(c, err)
	}
	if f.Sort, err = oneOf(c, "sort", "value", "conversion"); err != nil {
		return d.fail(c, err)
	}
	after, err := afterCursor(f.After)
	if err != nil {
		return d.fail(c, err)
	}
	byValue := f.Sort != "conversion"
	q := score.ListQuery{Task: serving.TaskConversion, Owner: f.Scope, ByRevenueAtRisk: byValue, After: after, Limit: pageSize + 1}
	if f.PQL == "true" {
		pql := true
		q.PQL = &pql
	}
	rows, err := d.store.ScoreRows(c.Request().Context(), q)
	if err != nil {
		return d.fail(c, err)
	}
	v := trialsView{Filter: f, WarmPercent: 100 * d.opts.TrialTiers.Warm}
	if v.Owners, _, err = d.facetsFor(c.Request().Context()); err != nil {
		return d.fail(c, err)
	}
	v.Owners = withScope(v.Owners, f)
	if len(rows) > pageSize {
		last := rows[pageSize-1]
		value := last.Probability
		if byValue {
			value = last.RevenueAtRisk
		}
		next, err := cursor.Encode(score.ListCursor{Value: value, AccountID: last.AccountID})
		if err != nil {
			return d.fail(c, err)
		}
		v.Next = f.link("/trials", next)
		rows = rows[:pageSize]
	}
	if f.After != "" {
		v.First = f.link("/trials", "")
	}
	for i := range rows {
		r := &rows[i]
		row := trialRow{ID: r.AccountID, AsOf: r.AsOf, Name: r.Name, Owner: r.Owner, Plan: r.Plan, Segment: r.Segment,
			Probability: r.Probability, PQL: r.PQL, Tier: d.opts.TrialTiers.Tier(r.Probability, r.Detail.PQLThreshold),
			Reason: topReason(&r.Score), Trial: r.Detail.Trial, Value: r.RevenueAtRisk}
		if row.Trial == nil && !r.TrialEndsAt.IsZero() {
			// A score stored before trial facts were kept: days left from
			// its as-of time, which stays right for a history that ended
			// in the past.
			row.Trial = &score.TrialFacts{EndsAt: r.TrialEndsAt, DaysLeft: max(0, int(math.Ceil(r.TrialEndsAt.Sub(r.AsOf).Hours()/24)))}
		}
		v.Rows = append(v.Rows, row)
	}
	return d.render(c, http.StatusOK, "trials", "Trials", v)
}

type modelRow struct {
	trainer.RegisteredModel
	Test      *metrics.Summary
	HasReport bool
	Action    string // "Activate" or "Roll back to", empty for the active model
}

type modelsView struct {
	Rows []modelRow
}

func (d *Dashboard) models(c echo.Context) error {
	ms, err := d.store.Models(c.Request().Context(), "")
	if err != nil {
		return d.fail(c, err)
	}
	active := map[string]int64{}
	for _, m := range ms {
		if m.State == trainer.ModelActive {
			active[m.Task] = m.Version
		}
	}
	var v modelsView
	for _, m := range ms {
		row := modelRow{RegisteredModel: m}
		if r := m.Record.Result; r != nil {
			test := r.Evaluation.Test.Summary
			row.Test, row.HasReport = &test, true
		}
		switch {
		case m.State == trainer.ModelActive:
		case m.Version < active[m.Task]:
			row.Action = "Roll back to"
		default:
			row.Action = "Activate"
		}
		v.Rows = append(v.Rows, row)
	}
	return d.render(c, http.StatusOK, "models", "Models", v)
}

func modelVersion(c echo.Context) (int64, error) {
	v, err := strconv.ParseInt(c.Param("version"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: a model version is a number", errBadRequest)
	}
	return v, nil
}

// modelReport serves a registered model's HTML report, drawn by
// training/report as churnctl report draws it.
func (d *Dashboard) modelReport(c echo.Context) error {
	version, err := modelVersion(c)
	if err != nil {
		return d.fail(c, err)
	}
	m, err := d.store.Model(c.Request().Context(), version)
	if err != nil {
		return d.fail(c, err)
	}
	in, err := report.FromModel(m)
	if errors.Is(err, report.ErrNoEvaluation) {
		return d.errorPage(c, http.StatusNotFound, fmt.Sprintf("Model %d was registered without an evaluation, so it has no report.", version))
	}
	if err != nil {
		return d.fail(c, err)
	}
	var buf bytes.Buffer
	if err := report.Render(&buf, in); err != nil {
		return d.fail(c, err)
	}
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

func (d *Dashboard) activate(c echo.Context) error {
	version, err := modelVersion(c)
	if err != nil {
		return d.fail(c, err)
	}
	if _, err := d.store.ActivateModel(c.Request().Context(), version); err != nil {
		return d.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/models")
}
