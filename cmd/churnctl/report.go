package main

import (
	"context"
	"fmt"
	"io"

	"github.com/openchurn/churn/training/report"
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
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	m, err := s.Model(ctx, *version)
	if err != nil {
		return err
	}
	in, err := report.FromModel(m)
	if err != nil {
		return err
	}
	if err := writeAtomically(*out, func(w io.Writer) error { return report.Render(w, in) }); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %s\n", *out)
	return err
}
