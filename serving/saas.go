package serving

import (
	"context"
	"math"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving/score"
)

// SaaSStore is what SaaS metrics read.
type SaaSStore interface {
	EachBillingChange(ctx context.Context, fn func(*features.BillingChange) error) error
	CurrentRiskTotals(ctx context.Context, task string) (score.RiskTotals, error)
}

// SaaS holds the revenue metrics of one window (Start, End], computed from
// billing changes: an account's MRR at a time is the MRR of its latest
// billing change at or before it (0 after a churn).
type SaaS struct {
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	WindowDays int       `json:"window_days"`
	// MRR is the total MRR at End, StartMRR at Start; ARR is 12 × MRR.
	MRR      float64 `json:"mrr"`
	StartMRR float64 `json:"start_mrr"`
	ARR      float64 `json:"arr"`
	// Customers counts accounts with MRR > 0 at End, StartCustomers at
	// Start.
	Customers      int `json:"customers"`
	StartCustomers int `json:"start_customers"`
	// LogoChurnRate is the share of Start's customers with no MRR at End.
	LogoChurnRate float64 `json:"logo_churn_rate"`
	// RevenueChurnRate (gross) is the MRR Start's customers lost through
	// churn and contraction, over StartMRR.
	RevenueChurnRate float64 `json:"revenue_churn_rate"`
	// NRR is the MRR at End of Start's customers (expansion included,
	// new customers not) over StartMRR.
	NRR float64 `json:"nrr"`
	// ARPA is MRR over Customers, per month.
	ARPA float64 `json:"arpa"`
	// LTV is ARPA ÷ LogoChurnRate: the revenue of an average account over
	// its expected lifetime, in windows. Nil when nothing churned.
	LTV *float64 `json:"ltv"`
	// Risk sums the current churn scores: ARR at risk is the expected
	// revenue lost, Σ p × ARR.
	ScoredAccounts int64   `json:"scored_accounts"`
	ARRAtRisk      float64 `json:"arr_at_risk"`
	RedAccounts    int64   `json:"red_accounts"`
}

// SaaSMetrics computes the metrics of the window of windowDays days ending
// at end. A zero end means the day after the latest billing change, or now
// if that is later, so a history that ended in the past is measured where
// it ends.
func SaaSMetrics(ctx context.Context, s SaaSStore, end time.Time, windowDays int) (SaaS, error) {
	type account struct{ start, end float64 }
	var (
		accounts = map[string]*account{}
		changes  []features.BillingChange
		latest   time.Time
	)
	err := s.EachBillingChange(ctx, func(c *features.BillingChange) error {
		changes = append(changes, *c)
		if c.At.After(latest) {
			latest = c.At
		}
		return nil
	})
	if err != nil {
		return SaaS{}, err
	}
	if end.IsZero() {
		end = latest.Truncate(24*time.Hour).AddDate(0, 0, 1)
		if now := time.Now().UTC(); latest.IsZero() || end.After(now) {
			end = now
		}
	}
	m := SaaS{End: end, Start: end.AddDate(0, 0, -windowDays), WindowDays: windowDays}
	for _, c := range changes { // in (account, at) order: the last one at or before a time wins
		a := accounts[c.AccountID]
		if a == nil {
			a = &account{}
			accounts[c.AccountID] = a
		}
		mrr := c.MRR
		if c.Kind == features.BillingChurn {
			mrr = 0
		}
		if !c.At.After(m.Start) {
			a.start = mrr
		}
		if !c.At.After(m.End) {
			a.end = mrr
		}
	}
	var lost, kept float64
	churned := 0
	for _, a := range accounts {
		m.MRR += a.end
		if a.end > 0 {
			m.Customers++
		}
		if a.start <= 0 {
			continue
		}
		m.StartCustomers++
		m.StartMRR += a.start
		kept += a.end
		lost += math.Max(0, a.start-a.end)
		if a.end <= 0 {
			churned++
		}
	}
	m.ARR = 12 * m.MRR
	if m.StartCustomers > 0 {
		m.LogoChurnRate = float64(churned) / float64(m.StartCustomers)
	}
	if m.StartMRR > 0 {
		m.RevenueChurnRate = lost / m.StartMRR
		m.NRR = kept / m.StartMRR
	}
	if m.Customers > 0 {
		m.ARPA = m.MRR / float64(m.Customers)
	}
	if m.LogoChurnRate > 0 {
		ltv := m.ARPA / m.LogoChurnRate
		m.LTV = &ltv
	}
	risk, err := s.CurrentRiskTotals(ctx, TaskChurn)
	if err != nil {
		return m, err
	}
	m.ScoredAccounts, m.ARRAtRisk, m.RedAccounts = risk.Accounts, risk.RevenueAtRisk, risk.Red
	return m, nil
}
