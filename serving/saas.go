package serving

import (
	"context"
	"time"

	"github.com/openchurn/churn/saas"
	"github.com/openchurn/churn/serving/score"
)

// SaaSStore is what the one-window SaaS summary reads.
type SaaSStore interface {
	MetricsStore
	CurrentRiskTotals(ctx context.Context, task string) (score.RiskTotals, error)
}

// SaaS holds the revenue metrics of one window (Start, End], computed by
// package saas from billing changes: an account's MRR at a time is that
// after its changes at or before it, a churn undone by a return within the
// grace period not counting (docs/METRICS.md).
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
	// MonthlyChurnRate is that churn per customer-month: the customers
	// lost ÷ (StartCustomers × the window in months of 30.4375 days).
	MonthlyChurnRate float64 `json:"monthly_churn_rate"`
	// RevenueChurnRate (gross) is the MRR Start's customers lost through
	// churn and contraction, over StartMRR.
	RevenueChurnRate float64 `json:"revenue_churn_rate"`
	// NRR is the MRR at End of Start's customers (expansion included,
	// new customers not) over StartMRR.
	NRR float64 `json:"nrr"`
	// ARPA is MRR over Customers, per month.
	ARPA float64 `json:"arpa"`
	// LTV is ARPA ÷ MonthlyChurnRate: the revenue of an average account
	// over its expected lifetime, whatever the window's length. Null when
	// nothing churned.
	LTV saas.Value `json:"ltv"`
	// Risk sums the current churn scores: ARR at risk is the expected
	// revenue lost, Σ p × ARR.
	ScoredAccounts int64   `json:"scored_accounts"`
	ARRAtRisk      float64 `json:"arr_at_risk"`
	RedAccounts    int64   `json:"red_accounts"`
}

// SaaSMetrics computes the metrics of the window of windowDays days ending
// at end. A zero end means the day after the latest billing change (or
// account creation), or now
// if that is later, so a history that ended in the past is measured where
// it ends. Only the grace period matters to these figures; it is
// saas.DefaultGrace.
func SaaSMetrics(ctx context.Context, s SaaSStore, end time.Time, windowDays int) (SaaS, error) {
	b, err := LoadBook(ctx, s, saas.Options{}, ReportMRR)
	if err != nil {
		return SaaS{}, err
	}
	if end.IsZero() {
		latest := b.DataEnd()
		end = latest.Truncate(24*time.Hour).AddDate(0, 0, 1)
		if now := time.Now().UTC(); latest.IsZero() || end.After(now) {
			end = now
		}
	}
	w := b.Window(end.AddDate(0, 0, -windowDays), end)
	m := SaaS{Start: w.Start, End: w.End, WindowDays: windowDays, MRR: w.MRR, StartMRR: w.StartMRR, ARR: 12 * w.MRR,
		Customers: w.Customers, StartCustomers: w.StartCustomers, LogoChurnRate: w.LogoChurnRate,
		MonthlyChurnRate: w.MonthlyChurnRate, RevenueChurnRate: w.RevenueChurnRate, NRR: w.NRR, ARPA: w.ARPA, LTV: w.LTV}
	risk, err := s.CurrentRiskTotals(ctx, TaskChurn)
	if err != nil {
		return m, err
	}
	m.ScoredAccounts, m.ARRAtRisk, m.RedAccounts = risk.Accounts, risk.RevenueAtRisk, risk.Red
	return m, nil
}
