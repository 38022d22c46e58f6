package dashboard

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openchurn/churn/saas"
	"github.com/openchurn/churn/serving"
	"github.com/openchurn/churn/serving/score"
)

type portfolioView struct {
	SaaS  serving.SaaS
	Bands []score.BandTotal
	// The metrics of the twelve months to the latest record.
	Window    saas.Range
	Movements *seriesChart
	Retention *seriesChart
	Cohorts   []heatRow
	Ages      []int // the heat map's columns: months since the first subscription
	Channels  []channelRow
	Computed  time.Time
}

func (d *Dashboard) portfolioPage(c echo.Context) error {
	v, err := d.portfolioFigures(c.Request().Context())
	if err != nil {
		return d.fail(c, err)
	}
	return d.render(c, http.StatusOK, "portfolio", "Metrics", v)
}

// portfolioFigures returns the metrics page's figures, computed at most
// once per PortfolioTTL: they read every billing change, which at 100,000
// accounts costs more than a page may.
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
	if err := d.metricsFigures(ctx, v); err != nil {
		return nil, err
	}
	d.portfolio, d.portfolioAt = v, time.Now()
	return v, nil
}

// metricsFigures fills the page's monthly metrics (package saas) over the
// twelve months to the latest record.
func (d *Dashboard) metricsFigures(ctx context.Context, v *portfolioView) error {
	b, err := serving.LoadBook(ctx, d.store, d.opts.Metrics, serving.ReportMRR, serving.ReportRetention,
		serving.ReportCohorts, serving.ReportFunnel)
	if err != nil {
		return err
	}
	if v.Window, err = serving.MetricsRange(b, 0, 0); err != nil {
		return err
	}
	mrr, err := b.MRR(v.Window)
	if err != nil {
		return err
	}
	v.Movements = movementsChart(mrr)
	ret, err := b.Retention(v.Window)
	if err != nil {
		return err
	}
	months := make([]saas.Month, len(ret))
	var logo, grr, nrr []saas.Value
	for i, r := range ret {
		months[i] = r.Month
		logo, grr, nrr = append(logo, r.LogoRetention), append(grr, r.GRR), append(nrr, r.NRR)
	}
	type series = struct {
		Name, Color string
		Values      []saas.Value
	}
	v.Retention = linesChart("Monthly logo retention, GRR and NRR, in percent", months, 80, 110,
		series{"Logo retention", "#8250df", logo}, series{"GRR", "#cf222e", grr}, series{"NRR", "#0969da", nrr})
	cohorts, err := b.Cohorts(v.Window, saas.BySignupMonth)
	if err != nil {
		return err
	}
	v.Cohorts = cohortHeat(cohorts, 0.5)
	for k := 0; k < v.Window.Months(); k++ {
		v.Ages = append(v.Ages, k)
	}
	funnel, err := b.Funnel(v.Window)
	if err != nil {
		return err
	}
	v.Channels = channelRows(append(funnel.ByChannel, funnel.Total))
	return nil
}
