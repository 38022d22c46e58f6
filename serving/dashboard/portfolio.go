package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/score"
)

// cohortMonths is how many months after their first payment the retention
// curve follows customers.
const cohortMonths = 12

type portfolioView struct {
	SaaS      serving.SaaS
	Bands     []score.BandTotal
	Retention *chart
	// Cohorts counts the customers the curve's first point is over.
	Cohorts  int
	Computed time.Time
}

func (d *Dashboard) portfolioPage(c echo.Context) error {
	v, err := d.portfolioFigures(c.Request().Context())
	if err != nil {
		return d.fail(c, err)
	}
	return d.render(c, http.StatusOK, "portfolio", "Portfolio", v)
}

// portfolioFigures returns the portfolio, computed at most once per
// PortfolioTTL: it sweeps every billing change, which at 100,000 accounts
// costs more than a page may.
func (d *Dashboard) portfolioFigures(ctx context.Context) (*portfolioView, error) {
	d.portfolioMu.Lock()
	defer d.portfolioMu.Unlock()
	if d.portfolio != nil && time.Since(d.portfolioAt) < d.opts.PortfolioTTL {
		return d.portfolio, nil
	}
	m, err := serving.SaaSMetrics(ctx, d.store, time.Time{}, 30)
	if err != nil {
		return nil, err
	}
	v := &portfolioView{SaaS: m, Computed: time.Now()}
	if v.Bands, err = d.store.RiskByBand(ctx, serving.TaskChurn); err != nil {
		return nil, err
	}
	rank := map[string]int{serving.Red: 0, serving.Yellow: 1, serving.Green: 2}
	slices.SortStableFunc(v.Bands, func(a, b score.BandTotal) int { return rank[a.Band] - rank[b.Band] }) // worst first
	curve, n, err := retention(ctx, d.store, m.End)
	if err != nil {
		return nil, err
	}
	v.Cohorts = n
	if n > 0 {
		pts := make([]point, len(curve))
		for k, r := range curve {
			pts[k] = point{Label: fmt.Sprintf("%d", k), Value: 100 * r, Title: fmt.Sprintf("month %d: %.1f%% still paying", k, 100*r)}
		}
		v.Retention = lineChart(640, 200, "Share of customers still paying by months since their first payment", pts, 0, 100, "%", 0, 25, 50, 75, 100)
	}
	d.portfolio, d.portfolioAt = v, time.Now()
	return v, nil
}

// retention returns the logo retention curve of every customer cohort
// pooled: entry k is the share, among customers whose first payment was at
// least k months before end, of those paying k months after it. n counts
// the customers.
func retention(ctx context.Context, s serving.SaaSStore, end time.Time) (curve []float64, n int, err error) {
	var (
		paying, eligible [cohortMonths + 1]int
		account          string
		changes          []features.BillingChange
	)
	flush := func() {
		first := -1
		for i, ch := range changes {
			if ch.MRR > 0 {
				first = i
				break
			}
		}
		if first < 0 {
			return
		}
		start := changes[first].At
		for k := 0; k <= cohortMonths; k++ {
			t := start.AddDate(0, k, 0)
			if t.After(end) {
				break
			}
			eligible[k]++
			mrr := 0.0
			for _, ch := range changes[first:] { // the latest change at or before t
				if ch.At.After(t) {
					break
				}
				mrr = ch.MRR
			}
			if mrr > 0 {
				paying[k]++
			}
		}
	}
	err = s.EachBillingChange(ctx, func(ch *features.BillingChange) error {
		if ch.AccountID != account {
			flush()
			account, changes = ch.AccountID, changes[:0]
		}
		changes = append(changes, *ch)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	flush()
	for k := range eligible {
		if eligible[k] == 0 {
			break
		}
		curve = append(curve, float64(paying[k])/float64(eligible[k]))
	}
	return curve, eligible[0], nil
}
