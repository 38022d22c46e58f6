package api

import (
	"encoding/json"
	"math"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/serving/alerts"
	"github.com/openchurn/churn/serving/score"
	"github.com/openchurn/churn/serving/today"
)

// The views below are the API's JSON, one per resource, each built from
// domain values. They are the only types the handlers encode (besides
// the model registry's ModelView), so that renaming a field of a domain
// type or a column of the store cannot change the API; openapi.yaml
// describes them.

// page is a page of a listing; NextCursor is empty on the last page.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// accountInfo is an account's row.
type accountInfo struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Owner          string    `json:"owner"`
	Segment        string    `json:"segment"`
	Plan           string    `json:"plan"`
	Seats          int       `json:"seats"`
	MRR            float64   `json:"mrr"`
	CreatedAt      time.Time `json:"created_at"`
	TrialStartedAt time.Time `json:"trial_started_at,omitzero"`
	TrialEndsAt    time.Time `json:"trial_ends_at,omitzero"`
	ConvertedAt    time.Time `json:"converted_at,omitzero"`
	ChurnedAt      time.Time `json:"churned_at,omitzero"`
	RenewalAt      time.Time `json:"renewal_at,omitzero"`
	// Attributes are the account's free attributes by name.
	Attributes map[string]string `json:"attributes,omitempty"`
}

func newAccountInfo(a *features.Account) *accountInfo {
	if a == nil {
		return nil
	}
	return &accountInfo{ID: a.AccountID, Name: a.Name, Owner: a.Owner, Segment: a.Segment, Plan: a.Plan, Seats: a.Seats,
		MRR: a.MRR, CreatedAt: a.CreatedAt, TrialStartedAt: a.TrialStartedAt, TrialEndsAt: a.TrialEndsAt,
		ConvertedAt: a.ConvertedAt, ChurnedAt: a.ChurnedAt, RenewalAt: a.RenewalAt, Attributes: a.Attributes}
}

// scoreView is one score with its explanation.
type scoreView struct {
	AccountID    string    `json:"account_id"`
	Task         string    `json:"task"`
	AsOf         time.Time `json:"as_of"`
	ModelVersion int64     `json:"model_version"`
	Owner        string    `json:"owner"`
	Probability  float64   `json:"probability"`
	// Health is 100 × (1 − p)^(365/H) for churn over a horizon of H days
	// (serving.Health); for conversion, Score is 100 × p.
	Health        *float64 `json:"health,omitempty"`
	Score         *float64 `json:"score,omitempty"`
	Band          string   `json:"band,omitempty"`
	PQL           *bool    `json:"pql,omitempty"`
	PQLThreshold  float64  `json:"pql_threshold,omitempty"`
	ARR           float64  `json:"arr"`
	RevenueAtRisk float64  `json:"revenue_at_risk"`
	// Previous is the probability of the latest earlier score, Delta the
	// change since; both null for a first score.
	Previous    *float64  `json:"previous_probability"`
	Delta       *float64  `json:"delta"`
	Fingerprint string    `json:"fingerprint"`
	ScoredAt    time.Time `json:"scored_at"`
	// Source is "stored" for a batch score and "on_demand" for one computed
	// for this request.
	Source     string                   `json:"source"`
	Horizon    string                   `json:"horizon"`
	Components map[string]componentView `json:"components"`
	Reasons    []reasonView             `json:"reasons"`
	// Context are the facts no one can change that moved the score, each
	// worded as a sentence.
	Context []reasonView `json:"context"`
	// Trial is what the trials worklist shows, for conversion scores.
	Trial *trialFactsView `json:"trial,omitempty"`
}

// newTrialFactsView returns the view of t, nil for nil.
func newTrialFactsView(t *score.TrialFacts) *trialFactsView {
	if t == nil {
		return nil
	}
	return &trialFactsView{EndsAt: t.EndsAt, DaysLeft: t.DaysLeft, LastActiveAt: t.LastActiveAt, ActiveUsers: t.ActiveUsers,
		Seats: t.Seats, KeyFeatures: t.KeyFeatures, KeyFeaturesTotal: t.KeyFeaturesTotal, ExpectedMRR: cents(t.ExpectedMRR),
		ExpectedMRRFrom: t.ExpectedMRRFrom}
}

// trialFactsView is a trial's worklist facts as of its score.
type trialFactsView struct {
	EndsAt           time.Time `json:"ends_at,omitzero"`
	DaysLeft         int       `json:"days_left"`
	LastActiveAt     time.Time `json:"last_active_at,omitzero"`
	ActiveUsers      int       `json:"active_users"`
	Seats            int       `json:"seats"`
	KeyFeatures      int       `json:"key_features"`
	KeyFeaturesTotal int       `json:"key_features_total"`
	ExpectedMRR      float64   `json:"expected_mrr"`
	ExpectedMRRFrom  string    `json:"expected_mrr_from"`
}

// componentView is one feature group's part in a score.
type componentView struct {
	Score        float64 `json:"score"`
	Contribution float64 `json:"contribution"`
}

// reasonView is one reason, with its wording built from its figures.
type reasonView struct {
	Feature      string   `json:"feature"`
	Description  string   `json:"description"`
	Group        string   `json:"group"`
	Value        *float64 `json:"value"`
	Missing      string   `json:"missing,omitempty"`
	Category     string   `json:"category,omitempty"`
	Typical      *float64 `json:"typical"`
	Contribution float64  `json:"contribution"`
	Effect       string   `json:"effect"`
	// News is "good" or "bad": whether the effect is good news for the
	// score's task.
	News string `json:"news"`
	Text string `json:"text"`
}

// newReasonView words r for a score of task; text is its sentence.
func newReasonView(r *score.Reason, task, text string) reasonView {
	return reasonView{Feature: r.Feature, Description: r.What(), Group: r.Group, Value: r.Value, Missing: r.Missing,
		Category: r.Category, Typical: r.Typical, Contribution: r.Contribution, Effect: string(r.Effect()), News: r.News(task), Text: text}
}

// health returns the churn score's health and band and the conversion
// score's 0–100 figure and PQL flag, each nil where the task has none.
func health(sc *score.Score) (h *float64, band string, conv *float64, pql *bool) {
	if sc.Task == score.TaskChurn {
		v := tenth(sc.Health)
		return &v, sc.Band, nil, nil
	}
	v, p := tenth(sc.ConversionScore()), sc.PQL
	return nil, "", &v, &p
}

// previous returns the previous probability and the delta, nil for a
// first score.
func previous(sc *score.Score) (prev, delta *float64) {
	d, ok := sc.Delta()
	if !ok {
		return nil, nil
	}
	p := sc.Previous
	return &p, &d
}

// cents rounds money to cents, and prob4 a probability to 4 digits: what
// the figures mean, without the float noise of their computation.
func cents(x float64) float64 { return math.Round(100*x) / 100 }
func prob4(x float64) float64 { return math.Round(1e4*x) / 1e4 }

// tenth rounds a 0–100 score (health, conversion score) to one decimal.
func tenth(x float64) float64 { return math.Round(10*x) / 10 }

// prob4p is prob4 of *p, nil for nil.
func prob4p(p *float64) *float64 {
	if p == nil {
		return nil
	}
	x := prob4(*p)
	return &x
}

func newScoreView(sc *score.Score, source string) *scoreView {
	v := &scoreView{AccountID: sc.AccountID, Task: sc.Task, AsOf: sc.AsOf, ModelVersion: sc.ModelVersion, Owner: sc.Owner,
		Probability: prob4(sc.Probability), PQLThreshold: prob4(sc.Detail.PQLThreshold), ARR: cents(sc.ARR), RevenueAtRisk: cents(sc.RevenueAtRisk),
		Fingerprint: sc.Fingerprint, ScoredAt: sc.ScoredAt, Source: source, Horizon: sc.Detail.Horizon,
		Components: make(map[string]componentView, len(sc.Detail.Components)), Reasons: make([]reasonView, len(sc.Detail.Reasons))}
	v.Health, v.Band, v.Score, v.PQL = health(sc)
	v.Previous, v.Delta = previous(sc)
	v.Previous, v.Delta = prob4p(v.Previous), prob4p(v.Delta)
	for g, c := range sc.Detail.Components {
		v.Components[g] = componentView{Score: c.Score, Contribution: c.Contribution}
	}
	for i := range sc.Detail.Reasons {
		r := &sc.Detail.Reasons[i]
		v.Reasons[i] = newReasonView(r, sc.Task, r.Text(sc.Task))
	}
	v.Trial = newTrialFactsView(sc.Detail.Trial)
	v.Context = make([]reasonView, len(sc.Detail.Context))
	for i := range sc.Detail.Context {
		r := &sc.Detail.Context[i]
		v.Context[i] = newReasonView(r, sc.Task, r.Fact(sc.Task, sc.Detail.RiskWindowDays))
	}
	return v
}

// summaryView is one row of an account or trial listing.
type summaryView struct {
	AccountID     string    `json:"account_id"`
	Name          string    `json:"name"`
	Segment       string    `json:"segment"`
	Owner         string    `json:"owner"`
	AsOf          time.Time `json:"as_of"`
	Probability   float64   `json:"probability"`
	Health        *float64  `json:"health,omitempty"`
	Score         *float64  `json:"score,omitempty"`
	Band          string    `json:"band,omitempty"`
	PQL           *bool     `json:"pql,omitempty"`
	ARR           float64   `json:"arr"`
	RevenueAtRisk float64   `json:"revenue_at_risk"`
	Delta         *float64  `json:"delta"`
	ModelVersion  int64     `json:"model_version"`
	// Trial is the trials worklist's facts, for trial listings.
	Trial *trialFactsView `json:"trial,omitempty"`
}

func newSummaryView(r *score.Row) summaryView {
	sc := &r.Score
	v := summaryView{AccountID: sc.AccountID, Name: r.Name, Segment: r.Segment, Owner: sc.Owner, Trial: newTrialFactsView(sc.Detail.Trial), AsOf: sc.AsOf, Probability: prob4(sc.Probability), ARR: cents(sc.ARR),
		RevenueAtRisk: cents(sc.RevenueAtRisk), ModelVersion: sc.ModelVersion}
	v.Health, v.Band, v.Score, v.PQL = health(sc)
	_, v.Delta = previous(sc)
	v.Delta = prob4p(v.Delta)
	return v
}

// trendPoint is one past score.
type trendPoint struct {
	AsOf         time.Time `json:"as_of"`
	Probability  float64   `json:"probability"`
	Health       float64   `json:"health"`
	Band         string    `json:"band,omitempty"`
	ModelVersion int64     `json:"model_version"`
}

// accountView is an account with its health, reasons, trend and open
// alerts.
type accountView struct {
	Account    *accountInfo `json:"account"`
	Churn      *scoreView   `json:"churn"`
	Conversion *scoreView   `json:"conversion"`
	Trend      []trendPoint `json:"trend"`
	OpenAlerts []alertView  `json:"open_alerts"`
}

// trialView is one trial.
type trialView struct {
	Account    *accountInfo `json:"account"`
	Conversion *scoreView   `json:"conversion"`
}

// alertView is an alert.
type alertView struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
	Rule      string `json:"rule"`
	Owner     string `json:"owner"`
	Severity  string `json:"severity"`
	Status    string `json:"status"`
	Message   string `json:"message"`
	// Detail is the rule's figures, a JSON object.
	Detail         json.RawMessage `json:"detail"`
	ObservedAt     time.Time       `json:"observed_at"`
	OpenedAt       time.Time       `json:"opened_at"`
	AcknowledgedAt time.Time       `json:"acknowledged_at,omitzero"`
	ResolvedAt     time.Time       `json:"resolved_at,omitzero"`
	SnoozedUntil   time.Time       `json:"snoozed_until,omitzero"`
}

func newAlertView(a *alerts.Alert) alertView {
	detail := a.Detail
	if len(detail) == 0 {
		detail = json.RawMessage("{}")
	}
	return alertView{ID: a.ID, AccountID: a.AccountID, Rule: a.Rule, Owner: a.Owner, Severity: a.Severity, Status: a.Status,
		Message: a.Message, Detail: detail, ObservedAt: a.ObservedAt, OpenedAt: a.OpenedAt, AcknowledgedAt: a.AcknowledgedAt,
		ResolvedAt: a.ResolvedAt, SnoozedUntil: a.SnoozedUntil}
}

func newAlertViews(rows []alerts.Row) []alertView {
	out := make([]alertView, len(rows))
	for i := range rows {
		out[i] = newAlertView(&rows[i].Alert)
	}
	return out
}

// alertItemView is an alert as the inbox lists it, with its account's
// name, current health and band (null without a churn score) and ARR, and
// its sort value, severity weight × ARR.
type alertItemView struct {
	alertView
	AccountName string   `json:"account_name"`
	Health      *float64 `json:"health"`
	Band        string   `json:"band,omitempty"`
	ARR         float64  `json:"arr"`
	Priority    float64  `json:"priority"`
}

func newAlertItemView(r *alerts.Row) alertItemView {
	v := alertItemView{alertView: newAlertView(&r.Alert), AccountName: r.AccountName, Band: r.Band, ARR: cents(r.ARR), Priority: cents(r.Value)}
	if r.Scored {
		h := tenth(r.Health)
		v.Health = &h
	}
	return v
}

// alertDetailView is one alert with the actions taken on it, newest first.
type alertDetailView struct {
	alertView
	Actions []alerts.Action `json:"actions"`
}

// keyView is an API key as the API lists it: never its hash.
type keyView struct {
	ID   string `json:"id"`
	Role string `json:"role"`
	Name string `json:"name"`
	// Owner is the account owner whose book the key sees by default, ""
	// for none.
	Owner     string    `json:"owner"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

func newKeyView(k access.Key) keyView {
	return keyView{ID: k.ID, Role: string(k.Role), Name: k.Name, Owner: k.Owner, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

// createdKeyView is a new key with its secret, which is shown only then.
type createdKeyView struct {
	keyView
	Key string `json:"key"`
}

// loadView counts what an ingestion stored: Read = Inserted + Updated +
// Unchanged + Merged + Superseded.
type loadView struct {
	Table          string      `json:"table"`
	Read           int64       `json:"read"`
	Inserted       int64       `json:"inserted"`
	Updated        int64       `json:"updated"`
	Unchanged      int64       `json:"unchanged"`
	Merged         int64       `json:"merged,omitempty"`
	Superseded     int64       `json:"superseded,omitempty"`
	Orphans        orphansView `json:"orphans"`
	StartsInferred int64       `json:"starts_inferred,omitempty"`
}

// orphansView counts the rows loaded for accounts no accounts row knows.
type orphansView struct {
	Rows     int64  `json:"rows"`
	Accounts int64  `json:"accounts"`
	First    string `json:"first,omitempty"`
}

// todayView is the Today view of an owner's book (serving/today).
type todayView struct {
	// Owner is the owner whose book it is, "" for every owner's.
	Owner          string      `json:"owner"`
	AsOf           time.Time   `json:"as_of,omitzero"`
	RenewalsBefore time.Time   `json:"renewals_before,omitzero"`
	Rule           string      `json:"rule"`
	Counts         todayCounts `json:"counts"`
	Items          []todayItem `json:"items"`
}

type todayCounts struct {
	Alerts       int   `json:"alerts"`
	AlertsCapped bool  `json:"alerts_capped"`
	HealthDrops  int64 `json:"health_drops"`
	Renewals     int64 `json:"renewals"`
}

// todayItem is one account of the Today view and why it is there.
type todayItem struct {
	AccountID       string  `json:"account_id"`
	Owner           string  `json:"owner"`
	ExpectedARRLost float64 `json:"expected_arr_lost"`
	// Score is the account's current churn score, or a trial's conversion
	// score; nil for an account with neither.
	Score      *summaryView    `json:"score"`
	Alerts     []alertView     `json:"alerts"`
	HealthDrop *healthDropView `json:"health_drop"`
	RenewalAt  time.Time       `json:"renewal_at,omitzero"`
}

type healthDropView struct {
	// PreviousHealth is nil when the previous score is not stored.
	PreviousHealth *float64 `json:"previous_health"`
	Health         float64  `json:"health"`
	RiseARR        float64  `json:"rise_arr"`
}

func newTodayView(v *today.View) todayView {
	out := todayView{Owner: v.Owner, AsOf: v.AsOf, RenewalsBefore: v.RenewalsBefore, Rule: today.Rule,
		Counts: todayCounts{Alerts: v.Counts.Alerts, AlertsCapped: v.Counts.AlertsCapped, HealthDrops: v.Counts.Drops, Renewals: v.Counts.Renewals},
		Items:  make([]todayItem, len(v.Items))}
	for i := range v.Items {
		it := &v.Items[i]
		item := todayItem{AccountID: it.AccountID, Owner: it.Owner, ExpectedARRLost: cents(it.Value), Alerts: newAlertViews(it.Alerts)}
		if it.Task != "" {
			sv := newSummaryView(&it.Row)
			item.Score = &sv
		}
		if d := it.Drop; d != nil {
			item.HealthDrop = &healthDropView{Health: d.Health, RiseARR: cents(d.RiseARR)}
			if !math.IsNaN(d.PreviousHealth) {
				prev := d.PreviousHealth
				item.HealthDrop.PreviousHealth = &prev
			}
		}
		if it.Renews {
			item.RenewalAt = it.RenewalAt
		}
		out.Items[i] = item
	}
	return out
}
