package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/openchurn/churn/store"
	"github.com/openchurn/churn/training/report"
	"github.com/openchurn/churn/training/trainer"
)

// runReport writes a registered model's HTML report.
func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", stderr)
	db := dbFlag(fs)
	version := fs.Int64("model", 0, "registered model version (required)")
	out := fs.String("out", "", "HTML file to write (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *version < 1 || *out == "":
		return usagef("--model and --out are required")
	case fs.NArg() > 0:
		return usagef("unexpected arguments %q", fs.Args())
	}
	s, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	m, err := s.Model(ctx, *version)
	if err != nil {
		return err
	}
	var details modelDetails
	if err := json.Unmarshal(m.Details, &details); err != nil || details.Result == nil {
		return fmt.Errorf("model %d has no evaluation to report (was it trained with --task?): %v", m.Version, err)
	}
	in := report.Input{
		Model: report.Model{Version: m.Version, Task: m.Task, Algorithm: m.Algorithm, State: string(m.State), CreatedAt: m.CreatedAt,
			WindowStart: m.WindowStart, WindowEnd: m.WindowEnd, Checksum: m.Checksum},
		Result: details.Result, Catalog: details.Catalog,
	}
	if m.Backtest != nil {
		in.Backtest = &trainer.BacktestResult{}
		if err := json.Unmarshal(m.Backtest, in.Backtest); err != nil {
			return fmt.Errorf("model %d: reading its backtest: %w", m.Version, err)
		}
	}
	if err := writeAtomically(*out, func(w io.Writer) error { return report.Render(w, in) }); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %s\n", *out)
	return err
}
