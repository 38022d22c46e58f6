package serving

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/openchurn/churn/features"
	"github.com/openchurn/churn/features/recordio"
	"github.com/openchurn/churn/saas"
)

// MetricsStore is what the SaaS metrics read: each table once, in the
// order package saas requires, and the conversion model's PQL flags.
type MetricsStore interface {
	Each(ctx context.Context, t features.Table, fn func(recordio.Record) error) error
	// EachUsageMonth reads the usage rollup summed by month.
	EachUsageMonth(ctx context.Context, fn func(saas.UsageMonth) error) error
	// EachTrialKeyUse reads, per trial account, the first and last use
	// of one of the features names from the start of its trial.
	EachTrialKeyUse(ctx context.Context, names []string, fn func(accountID string, first, last time.Time) error) error
	EachFirstPQL(ctx context.Context, task string, fn func(accountID string, at time.Time) error) error
	// EachSupportTicket reads the tickets in Each's order, with what the
	// metrics read of them; EachEscalationCount and EachSurveyCount read
	// the escalations and the survey responses counted by day.
	EachSupportTicket(ctx context.Context, fn func(*features.Ticket) error) error
	EachEscalationCount(ctx context.Context, fn func(day time.Time, direction string, n int, last time.Time) error) error
	EachSurveyCount(ctx context.Context, fn func(day time.Time, kind string, score, n int, last time.Time) error) error
}

// MetricsReport names one of the SaaS metrics reports (docs/METRICS.md).
type MetricsReport string

// The reports.
const (
	ReportMRR           MetricsReport = "mrr"
	ReportRetention     MetricsReport = "retention"
	ReportCohorts       MetricsReport = "cohorts"
	ReportUnitEconomics MetricsReport = "unit-economics"
	ReportFunnel        MetricsReport = "funnel"
	ReportSupport       MetricsReport = "support"
)

// MetricsReports lists every metrics report.
var MetricsReports = []MetricsReport{ReportMRR, ReportRetention, ReportCohorts, ReportUnitEconomics, ReportFunnel, ReportSupport}

// ParseMetricsReport returns the report name names.
func ParseMetricsReport(name string) (MetricsReport, error) {
	if r := MetricsReport(name); slices.Contains(MetricsReports, r) {
		return r, nil
	}
	return "", fmt.Errorf("unknown report %q (want one of %v)", name, MetricsReports)
}

// tables returns the tables r reads, accounts first. What the funnel and
// the support report need of the usage events is read apart (see
// LoadBook).
func (r MetricsReport) tables() []features.Table {
	switch r {
	case ReportFunnel:
		return []features.Table{features.Accounts}
	case ReportSupport:
		return []features.Table{features.Accounts, features.Tickets, features.Escalations, features.SurveyResponses}
	case ReportUnitEconomics:
		return []features.Table{features.Accounts, features.BillingChanges, features.Spends}
	}
	return []features.Table{features.Accounts, features.BillingChanges}
}

// MetricsOptions returns the saas options of the service configuration:
// the gross margin and the feature configuration's key features,
// catalogue size and trial length.
func (c Config) MetricsOptions() saas.Options {
	return saas.Options{GrossMargin: c.GrossMargin, KeyFeatures: c.Features.KeyFeatures,
		CatalogueSize: c.Features.CatalogueSize, TrialDays: c.Features.TrialDays}
}

// LoadBook reads what the reports need into a saas.Book, each table once
// however many reports it is for: accounts, billing changes, spend,
// tickets, escalations and surveys (these two counted by day in the
// store) and the PQL flags, as the reports require. Of the usage events it reads only
// what the store keeps or finds of them: the support report's usage
// rollup summed by month, and the funnel's first and last use of a key
// feature by each trial (none when no key features are configured), which
// is all activation depends on. The Book serves the reports it was loaded
// for.
func LoadBook(ctx context.Context, s MetricsStore, opts saas.Options, reports ...MetricsReport) (*saas.Book, error) {
	b, err := saas.NewBook(opts)
	if err != nil {
		return nil, err
	}
	need := map[features.Table]bool{}
	for _, r := range reports {
		for _, t := range r.tables() {
			need[t] = true
		}
	}
	for _, t := range features.AllTables {
		if !need[t] {
			continue
		}
		var err error
		switch t {
		case features.Tickets:
			err = s.EachSupportTicket(ctx, func(t *features.Ticket) error { b.AddTicket(t); return nil })
		case features.Escalations:
			err = s.EachEscalationCount(ctx, func(day time.Time, direction string, n int, last time.Time) error {
				b.AddEscalations(saas.MonthOf(day), direction, n, last)
				return nil
			})
		case features.SurveyResponses:
			err = s.EachSurveyCount(ctx, func(day time.Time, kind string, score, n int, last time.Time) error {
				b.AddSurveyResponses(saas.MonthOf(day), kind, score, n, last)
				return nil
			})
		default:
			err = s.Each(ctx, t, func(rec recordio.Record) error { return add(b, rec) })
		}
		if err != nil {
			return nil, fmt.Errorf("saas metrics: %w", err)
		}
	}
	if slices.Contains(reports, ReportSupport) {
		if err := s.EachUsageMonth(ctx, func(u saas.UsageMonth) error { b.AddUsageMonth(u); return nil }); err != nil {
			return nil, fmt.Errorf("saas metrics: %w", err)
		}
	}
	if slices.Contains(reports, ReportFunnel) {
		err := s.EachTrialKeyUse(ctx, opts.KeyFeatures, func(id string, first, last time.Time) error {
			b.AddTrialKeyUse(id, first, last)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("saas metrics: %w", err)
		}
		if err := s.EachFirstPQL(ctx, TaskConversion, func(id string, at time.Time) error { b.AddPQL(id, at); return nil }); err != nil {
			return nil, fmt.Errorf("saas metrics: %w", err)
		}
	}
	b.Finish()
	return b, nil
}

// add adds one record that LoadBook reads with Each to b.
func add(b *saas.Book, rec recordio.Record) error {
	switch r := rec.(type) {
	case *features.Account:
		return b.AddAccount(r)
	case *features.BillingChange:
		return b.AddBillingChange(r)
	case *features.Spend:
		return b.AddSpend(r)
	}
	return fmt.Errorf("%T is not a record the metrics read", rec)
}

// MetricsResult is one report over a range of months, as the API and
// churnctl metrics --json give it.
type MetricsResult struct {
	Report MetricsReport `json:"report"`
	From   saas.Month    `json:"from"`
	To     saas.Month    `json:"to"`
	// By is the cohorts report's grouping; empty for the others.
	By saas.CohortBy `json:"by,omitempty"`
	// Data is the report's type in package saas: []saas.MRRMonth,
	// []saas.RetentionMonth, []saas.Cohort, saas.UnitEconomics,
	// saas.Funnel or saas.Support.
	Data any `json:"data"`
}

// Metrics computes report over r from b; by groups the cohorts report.
func Metrics(b *saas.Book, report MetricsReport, r saas.Range, by saas.CohortBy) (MetricsResult, error) {
	res := MetricsResult{Report: report, From: r.From, To: r.To}
	var err error
	switch report {
	case ReportMRR:
		res.Data, err = b.MRR(r)
	case ReportRetention:
		res.Data, err = b.Retention(r)
	case ReportCohorts:
		res.By = by
		res.Data, err = b.Cohorts(r, by)
	case ReportUnitEconomics:
		res.Data, err = b.UnitEconomics(r)
	case ReportFunnel:
		res.Data, err = b.Funnel(r)
	case ReportSupport:
		res.Data, err = b.Support(r)
	default:
		err = fmt.Errorf("unknown report %q", report)
	}
	return res, err
}

// MetricsRange returns the range of months from from to to, either of
// which may be zero: to defaults to the month of the latest record read
// (this month when there is none), from to eleven months before to, so
// that a default range is the last twelve months of data.
func MetricsRange(b *saas.Book, from, to saas.Month) (saas.Range, error) {
	if to == 0 {
		end := b.DataEnd()
		if end.IsZero() {
			end = time.Now()
		}
		to = saas.MonthOf(end)
	}
	if from == 0 {
		from = to - 11
	}
	r := saas.Range{From: from, To: to}
	return r, r.Validate()
}
