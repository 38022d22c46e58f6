package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/openchurn/churn/models"
	"github.com/openchurn/churn/training/metrics"
	"github.com/openchurn/churn/training/table"
)

// evalReport is what `churnctl predict --eval` prints.
type evalReport struct {
	Rows int `json:"rows"`
	metrics.Summary
}

// runPredict scores a CSV feature table with a model artifact.
func runPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("predict", stderr)
	modelPath := fs.String("model", "", "model artifact written by train (required)")
	tablePath := fs.String("table", "", "table to score: CSV with a header row holding the model's features (required)")
	out := fs.String("out", "", "predictions file to write, as id,probability per row in input order (required)")
	eval := fs.Bool("eval", false, "also print held-out metrics as JSON; the table must have the training label column")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *modelPath == "" || *tablePath == "" || *out == "":
		return usagef("--model, --table and --out are required")
	case fs.NArg() > 0:
		return usagef("unexpected arguments %q", fs.Args())
	}
	a, err := readArtifact(*modelPath)
	if err != nil {
		return err
	}
	t, err := readTable(ctx, *tablePath)
	if err != nil {
		return err
	}
	var labels []float64
	if *eval {
		if a.Metadata.Label == "" {
			return fmt.Errorf("%s does not name its label column; cannot evaluate", *modelPath)
		}
		if labels, err = t.Labels(table.Spec{Label: a.Metadata.Label, Positive: a.Metadata.Positive}); err != nil {
			return err
		}
	}
	d, ids, err := t.Apply(ctx, a.Schema(), a.Metadata.IDColumn)
	if err != nil {
		return err
	}
	probs, err := a.PredictDataset(d, nil)
	if err != nil {
		return fmt.Errorf("scoring %s: %w", *tablePath, err)
	}
	err = writeAtomically(*out, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		cw := csv.NewWriter(bw)
		cw.Write([]string{"id", "probability"})
		for i, p := range probs {
			cw.Write([]string{ids[i], strconv.FormatFloat(p, 'g', -1, 64)})
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil || !*eval {
		return err
	}
	return json.NewEncoder(stdout).Encode(evalReport{Rows: len(probs), Summary: metrics.Evaluate(labels, probs, nil)})
}

// readArtifact reads and verifies a model artifact file.
func readArtifact(path string) (*models.Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := models.DecodeArtifact(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}
