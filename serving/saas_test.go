package serving

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/saas"
	"github.com/openchurn/churn/serving/score"
)

type fakeSaaS []features.BillingChange

func (f fakeSaaS) Each(_ context.Context, t features.Table, fn func(recordio.Record) error) error {
	if t != features.BillingChanges {
		return nil
	}
	for i := range f {
		if err := fn(&f[i]); err != nil {
			return err
		}
	}
	return nil
}

func (fakeSaaS) EachUsageMonth(context.Context, func(saas.UsageMonth) error) error { return nil }

func (fakeSaaS) EachTrialKeyUse(context.Context, []string, func(string, time.Time, time.Time) error) error {
	return nil
}

func (fakeSaaS) EachFirstPQL(context.Context, string, func(string, time.Time) error) error {
	return nil
}

func (fakeSaaS) EachSupportTicket(context.Context, func(*features.Ticket) error) error { return nil }

func (fakeSaaS) EachEscalationCount(context.Context, func(time.Time, string, int, time.Time) error) error {
	return nil
}

func (fakeSaaS) EachSurveyCount(context.Context, func(time.Time, string, int, int, time.Time) error) error {
	return nil
}

func (fakeSaaS) CurrentRiskTotals(context.Context, string) (score.RiskTotals, error) {
	return score.RiskTotals{Accounts: 3, RevenueAtRisk: 1234, Red: 1}, nil
}

func TestSaaSMetrics(t *testing.T) {
	d := func(day int) time.Time { return time.Date(2025, 1, day, 12, 0, 0, 0, time.UTC) }
	changes := fakeSaaS{
		{AccountID: "a", At: d(1), MRR: 100, Kind: "new"},
		{AccountID: "a", At: d(20), MRR: 0, Kind: "churn"},
		{AccountID: "b", At: d(1), MRR: 100, Kind: "new"},
		{AccountID: "b", At: d(25), MRR: 150, Kind: "expansion"},
		{AccountID: "c", At: d(1), MRR: 200, Kind: "new"},
		{AccountID: "c", At: d(15), MRR: 100, Kind: "contraction"},
		{AccountID: "d", At: d(1), MRR: 100, Kind: "new"},
		{AccountID: "e", At: d(12), MRR: 50, Kind: "new"},
	}
	m, err := SaaSMetrics(context.Background(), changes, time.Time{}, 20)
	if err != nil {
		t.Fatal(err)
	}
	// One of the 4 start customers churned in 20 days: a monthly churn
	// of 1 ÷ (4 × 20/30.4375), so LTV = ARPA 100 × 4 × 20/30.4375.
	months := 20 / 30.4375
	want := SaaS{Start: d(6).Add(-12 * time.Hour), End: d(26).Add(-12 * time.Hour), WindowDays: 20,
		MRR: 400, StartMRR: 500, ARR: 4800, Customers: 4, StartCustomers: 4,
		LogoChurnRate: 0.25, MonthlyChurnRate: 1 / (4 * months), RevenueChurnRate: 200.0 / 500, NRR: 350.0 / 500, ARPA: 100,
		ScoredAccounts: 3, ARRAtRisk: 1234, RedAccounts: 1}
	ltv, ok := m.LTV.Float()
	m.LTV = saas.Value{}
	if math.Abs(m.MonthlyChurnRate-want.MonthlyChurnRate) < 1e-12 {
		m.MonthlyChurnRate = want.MonthlyChurnRate
	}
	if m != want {
		t.Errorf("metrics\n got %+v\nwant %+v", m, want)
	}
	if !ok || math.Abs(ltv-100*4*months) > 1e-9 {
		t.Errorf("LTV = %v, want %v", ltv, 100*4*months)
	}
}
