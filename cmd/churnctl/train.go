package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/training/metrics"
	"github.com/openchurn/churn/training/table"
)

// trainReport is what `churnctl train --json` prints.
type trainReport struct {
	Algorithm   string                   `json:"algorithm"`
	Calibration models.CalibrationMethod `json:"calibration"`
	FitSeconds  float64                  `json:"fit_seconds"`
	Rows        int                      `json:"rows"`
	Features    int                      `json:"features"`
	Validation  metrics.Summary          `json:"validation"`
	Candidates  []table.Candidate        `json:"candidates"`
	Model       string                   `json:"model"`
}

// runTrain fits a model on a CSV feature table and writes its artifact.
func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("train", stderr)
	tablePath := fs.String("table", "", "training table: CSV with a header row (required)")
	label := fs.String("label", "", "label column (required)")
	positive := fs.String("positive", "", "label value meaning positive (default: 1/true/yes/y/t)")
	id := fs.String("id", "", "identifier column: not a feature, carried through by predict")
	drop := fs.String("drop", "", "comma-separated columns to ignore (leaks, free text)")
	algo := fs.String("algo", table.Auto, "learner: auto (best by validation log loss), gbdt or logreg")
	out := fs.String("out", "", "artifact file to write (required)")
	asJSON := fs.Bool("json", false, "print a JSON report instead of a summary line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *tablePath == "" || *label == "" || *out == "":
		return usagef("--table, --label and --out are required")
	case fs.NArg() > 0:
		return usagef("unexpected arguments %q", fs.Args())
	case *algo != table.Auto && *algo != models.AlgorithmGBDT && *algo != models.AlgorithmLogReg:
		return usagef("--algo %q: want auto, gbdt or logreg", *algo)
	}
	spec := table.Spec{Label: *label, Positive: *positive, ID: *id}
	for _, c := range strings.Split(*drop, ",") {
		if c = strings.TrimSpace(c); c != "" {
			spec.Drop = append(spec.Drop, c)
		}
	}

	start := time.Now()
	t, err := readTable(ctx, *tablePath)
	if err != nil {
		return err
	}
	d, _, err := t.Dataset(ctx, spec)
	if err != nil {
		return err
	}
	opt := table.DefaultOptions()
	opt.Algorithm = *algo
	opt.Logger = slog.Default()
	res, err := table.Fit(ctx, d, opt)
	if err != nil {
		return fmt.Errorf("training on %s: %w", *tablePath, err)
	}
	fitSeconds := time.Since(start).Seconds()

	a := res.Artifact
	a.Metadata.Label, a.Metadata.Positive, a.Metadata.IDColumn = spec.Label, spec.Positive, spec.ID
	a.Metadata.TrainedAt = time.Now().UTC().Truncate(time.Second)
	a.Metadata.Extra["table"] = filepath.Base(*tablePath)
	if err := writeAtomically(*out, func(w io.Writer) error { return models.EncodeArtifact(w, a) }); err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(trainReport{
			Algorithm: res.Chosen.Algorithm, Calibration: res.Chosen.Calibration, FitSeconds: fitSeconds,
			Rows: d.Rows(), Features: len(d.Schema), Validation: res.Chosen.Validation,
			Candidates: res.Candidates, Model: *out,
		})
	}
	v := res.Chosen.Validation
	_, err = fmt.Fprintf(stdout, "%s (%s calibration) on %d rows, %d features in %.1fs: validation AUC %.4f, PR AUC %.4f, log loss %.4f, Brier %.4f; wrote %s\n",
		res.Chosen.Algorithm, res.Chosen.Calibration, d.Rows(), len(d.Schema), fitSeconds, v.AUC, v.PRAUC, v.LogLoss, v.Brier, *out)
	return err
}

// readTable reads a CSV table from a file.
func readTable(ctx context.Context, path string) (*table.Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return table.Read(ctx, f, path)
}

// writeAtomically writes a file through write into a temporary file in the
// same directory and renames it into place, so readers never see a
// partial file.
func writeAtomically(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename this fails harmlessly
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
