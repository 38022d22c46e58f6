package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/openchurn/churn/saas"
	"github.com/openchurn/churn/serving"
)

// allReports names every report to churnctl metrics.
const allReports = "all"

// runMetrics prints one SaaS metrics report (docs/METRICS.md), or every
// report, for a range of months. Every report is computed from one read
// of the store: each table once.
func runMetrics(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("metrics", stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: churnctl metrics %s|%s [flags]\n\n", strings.ReplaceAll(fmt.Sprint(serving.MetricsReports), " ", "|"), allReports)
		fmt.Fprintf(stderr, "Prints a SaaS metrics report per month, as defined in docs/METRICS.md; %s prints every\n"+
			"report over the same months (with --json, an array of the reports' documents).\n\nFlags:\n", allReports)
		fs.PrintDefaults()
	}
	db := dbFlag(fs)
	configPath := fs.String("config", "", "configuration file (gross_margin, features: key_features, catalogue_size, trial_days)")
	from := fs.String("from", "", "first month, YYYY-MM (default: 11 months before --to)")
	to := fs.String("to", "", "last month, YYYY-MM (default: the month of the latest billing change)")
	by := fs.String("by", string(saas.BySignupMonth), "cohorts report: group by signup_month or channel")
	asJSON := fs.Bool("json", false, "print JSON (the API's representation)")
	asCSV := fs.Bool("csv", false, "print CSV: one row per month (or cohort), a section column for reports with several parts")
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if name == "" {
		return usagef("name a report: one of %v or %s", serving.MetricsReports, allReports)
	}
	reports := serving.MetricsReports
	if name != allReports {
		report, err := serving.ParseMetricsReport(name)
		if err != nil {
			return usageError{err}
		}
		reports = []serving.MetricsReport{report}
	}
	if *asJSON && *asCSV {
		return usagef("--json and --csv exclude each other")
	}
	if *asCSV && len(reports) > 1 {
		return usagef("--csv prints one report: the reports' columns differ")
	}
	cohortsBy, err := saas.ParseCohortBy(*by)
	if err != nil {
		return usageError{err}
	}
	var months [2]saas.Month
	for i, v := range []struct{ flag, value string }{{"from", *from}, {"to", *to}} {
		if v.value == "" {
			continue
		}
		if months[i], err = saas.ParseMonth(v.value); err != nil {
			return usagef("--%s: %v", v.flag, err)
		}
	}
	if months[0] != 0 && months[1] != 0 {
		if err := (saas.Range{From: months[0], To: months[1]}).Validate(); err != nil {
			return usageError{err}
		}
	}
	cfg, err := serving.LoadConfig(*configPath)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	b, err := serving.LoadBook(ctx, s, cfg.MetricsOptions(), reports...)
	if err != nil {
		return err
	}
	r, err := serving.MetricsRange(b, months[0], months[1])
	if err != nil {
		return usageError{err}
	}
	outs := make([]serving.MetricsResult, len(reports))
	for i, report := range reports {
		if outs[i], err = serving.Metrics(b, report, r, cohortsBy); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if len(outs) == 1 {
			return enc.Encode(outs[0])
		}
		return enc.Encode(outs)
	}
	for i, out := range outs {
		header, rows, err := saas.Table(out.Data)
		if err != nil {
			return err
		}
		if *asCSV {
			w := csv.NewWriter(stdout)
			w.Write(header)
			w.WriteAll(rows) // flushes
			return w.Error()
		}
		if len(outs) > 1 {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			fmt.Fprintf(stdout, "# %s %s to %s\n", out.Report, out.From, out.To)
		}
		if err := printTable(stdout, header, rows); err != nil {
			return err
		}
	}
	return nil
}

// printTable prints a report's table aligned, an absent figure as "-".
func printTable(stdout io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, row := range rows {
		for i := range row {
			if row[i] == "" {
				row[i] = "-"
			}
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}
