package api

import (
	"encoding/json"
	"math"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/store"
)

// AccountInfo is an account's row as the API shows it.
type AccountInfo struct {
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
}

func accountInfo(a *features.Account) *AccountInfo {
	if a == nil {
		return nil
	}
	return &AccountInfo{ID: a.AccountID, Name: a.Name, Owner: a.Owner, Segment: a.Segment, Plan: a.Plan, Seats: a.Seats,
		MRR: a.MRR, CreatedAt: a.CreatedAt, TrialStartedAt: a.TrialStartedAt, TrialEndsAt: a.TrialEndsAt,
		ConvertedAt: a.ConvertedAt, ChurnedAt: a.ChurnedAt, RenewalAt: a.RenewalAt}
}

// ScoreView is one score with its explanation.
type ScoreView struct {
	AccountID    string    `json:"account_id"`
	Task         string    `json:"task"`
	AsOf         time.Time `json:"as_of"`
	ModelVersion string    `json:"model_version"`
	Owner        string    `json:"owner"`
	Probability  float64   `json:"probability"`
	// Health is 100 × (1 − p)^(365/H) for churn over a horizon of H days
	// (serving.Health); for conversion, Score is 100 × p.
	Health        *float64 `json:"health,omitempty"`
	Score         *float64 `json:"score,omitempty"`
	Band          string   `json:"band,omitempty"`
	PQL           *bool    `json:"pql,omitempty"`
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
	Source string `json:"source"`
	serving.Detail
}

func scoreView(sc store.Score, source string) ScoreView {
	v := ScoreView{AccountID: sc.AccountID, Task: sc.Task, AsOf: sc.AsOf, ModelVersion: sc.ModelVersion, Owner: sc.Owner,
		Probability: sc.Probability, ARR: sc.ARR, RevenueAtRisk: sc.RevenueAtRisk, Fingerprint: sc.Fingerprint,
		ScoredAt: sc.ScoredAt, Source: source}
	h := sc.Health
	if sc.Task == serving.TaskChurn {
		v.Health, v.Band = &h, sc.Band
	} else {
		pql := sc.PQL
		v.Score, v.PQL = &h, &pql
	}
	if !math.IsNaN(sc.Previous) {
		p, d := sc.Previous, sc.Probability-sc.Previous
		v.Previous, v.Delta = &p, &d
	}
	json.Unmarshal(sc.Detail, &v.Detail) // written by serving; an old or empty detail leaves the zero value
	return v
}

// Summary is one row of an account or trial listing.
type Summary struct {
	AccountID     string    `json:"account_id"`
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
	ModelVersion  string    `json:"model_version"`
}

func summary(sc store.Score) Summary {
	v := scoreView(sc, "")
	return Summary{AccountID: v.AccountID, Owner: v.Owner, AsOf: v.AsOf, Probability: v.Probability, Health: v.Health,
		Score: v.Score, Band: v.Band, PQL: v.PQL, ARR: v.ARR, RevenueAtRisk: v.RevenueAtRisk, Delta: v.Delta,
		ModelVersion: v.ModelVersion}
}

// TrendPoint is one past score.
type TrendPoint struct {
	AsOf         time.Time `json:"as_of"`
	Probability  float64   `json:"probability"`
	Health       float64   `json:"health"`
	Band         string    `json:"band,omitempty"`
	ModelVersion string    `json:"model_version"`
}

// keyView is an API key as the API lists it: never its hash.
type keyView struct {
	ID        string    `json:"id"`
	Role      string    `json:"role"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

func newKeyView(k access.Key) keyView {
	return keyView{ID: k.ID, Role: string(k.Role), Name: k.Name, CreatedAt: k.CreatedAt, RevokedAt: k.RevokedAt}
}

// createdKeyView is a new key with its secret, which is shown only then.
type createdKeyView struct {
	keyView
	Key string `json:"key"`
}
