package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/saas"
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

// retention returns the logo retention curve of the customers who first
// paid in the cohortMonths+1 months to end, pooled: entry k is the share,
// among those whose first payment's month was at least k months before
// end's, of those paying at the end of the k-th month after it. n counts
// the customers. The cohorts are package saas's, by signup month.
func retention(ctx context.Context, s serving.SaaSStore, end time.Time) (curve []float64, n int, err error) {
	b, err := serving.LoadBook(ctx, s, saas.Options{}, serving.ReportCohorts)
	if err != nil {
		return nil, 0, err
	}
	to := saas.MonthOf(end)
	cohorts, err := b.Cohorts(saas.Range{From: to - cohortMonths, To: to}, saas.BySignupMonth)
	if err != nil {
		return nil, 0, err
	}
	var paying, eligible [cohortMonths + 1]float64
	for _, c := range cohorts {
		n += c.Customers
		for k, v := range c.Logos {
			share, _ := v.Float() // known: a cohort has customers
			paying[k] += share * float64(c.Customers)
			eligible[k] += float64(c.Customers)
		}
	}
	for k := range eligible {
		if eligible[k] == 0 {
			break
		}
		curve = append(curve, paying[k]/eligible[k])
	}
	return curve, n, nil
}
